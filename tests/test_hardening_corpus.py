"""Hostile corpus files and a damaged index: every bad file is ingested correctly or skipped with a
one-line reason, the rest of the batch lands, and a damaged index is detected or rebuilt.

Complements tests/test_ingest.py (counts, edits, SIGKILL mid-ingest) and tests/test_corpus.py
(decoding unit tests); here the files go through the whole pipeline, `Assistant.ingest` to `ask`.
"""

from __future__ import annotations

import codecs
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rag.ingest
from rag.assistant import Assistant
from rag.chunking import MAX_LINE_CHARS, Chunker, line_segments
from rag.sources import read_article
from rag.types import NewsragError
from tests.fakes import CountingEmbedder, write_articles

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted(p.name for p in (ROOT / "seeds").iterdir() if p.suffix == ".txt")
REASSURANCE = "How many nations pledged troops to the reassurance force?"


def assert_verbatim(assistant: Assistant) -> None:
    """Every committed chunk is exactly article_text[start:end] of the text a user can open."""
    rows = assistant.collection().get(sorted(assistant.manifest().chunk_ids))
    assert rows
    texts: dict[str, str] = {}
    for row in rows:
        meta = row["metadata"]
        text = texts.setdefault(meta["source"], assistant.article(meta["source"])["text"])
        assert text[meta["start"]:meta["end"]] == row["text"], meta["source"]


def assert_citations_verbatim(assistant: Assistant, answer) -> None:
    for c in answer.citations:
        assert assistant.article(c.source)["text"][c.start:c.end] == c.quote


# ------------------------------------------------------------------------------------ one hostile batch
def write_hostile_files(corpus: Path, outside: Path) -> dict[str, str]:
    """Writes every kind of hostile file; returns {name: expected outcome word}."""
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.txt").write_text(" \n\t\n   \r\n", encoding="utf-8")
    (corpus / "nul.txt").write_bytes(b"Looks like text\x00\x00\x00 but has NUL bytes\x00" * 20)
    with open(corpus / "huge.txt", "wb") as handle:  # 50 MB, sparse: instant to create
        handle.truncate(50 * 1024 * 1024)
    (corpus / "cp1252.txt").write_bytes(
        "Bürgermeister Jürgen Weiß said the Köln bridge cost €4 million – “a bargain”.".encode("cp1252")
    )
    (corpus / "latin1.txt").write_bytes(  # 0x81 is undefined in cp1252, so only latin-1 decodes it
        "Le maire de Tréguier a inauguré 14 fontaines \x81 à Noël.".encode("latin-1")
    )
    (corpus / "utf16.txt").write_bytes(
        codecs.BOM_UTF16_LE + "The Zürich ferry carried 731 passengers on Tuesday.".encode("utf-16-le")
    )
    (corpus / "invalid.txt").write_bytes(
        b"The Oslo tramway opened 9 new stops \xff\xfe\x80 in March after a long delay.\n"
    )
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text("The launch code is 0000. This file is outside the corpus.", encoding="utf-8")
    os.symlink(outside / "secret.txt", corpus / "link_out.txt")
    os.symlink(outside, corpus / "dir_out")
    return {
        "empty.txt": "empty",
        "blank.txt": "whitespace",
        "nul.txt": "binary",
        "huge.txt": "cap",
        "link_out.txt": "outside",
        "dir_out": "outside",
    }


def test_hostile_batch_skips_with_reasons_and_the_rest_lands(settings, corpus, tmp_path):
    expected_skips = write_hostile_files(corpus, tmp_path / "outside")
    assistant = Assistant(settings, embedder=CountingEmbedder())
    started = time.perf_counter()
    report = assistant.ingest(progress=False)
    assert time.perf_counter() - started < 60  # the 50 MB file is never read
    reasons = {Path(s.path).name: s.reason for s in report.skipped}  # skipped paths are absolute
    assert set(reasons) == set(expected_skips), reasons
    for name, word in expected_skips.items():
        assert word in reasons[name], (name, reasons[name])
        assert "\n" not in reasons[name]
    sources = {d["source"] for d in assistant.documents()}
    assert sources == set(SEEDS) | {"cp1252.txt", "latin1.txt", "utf16.txt", "invalid.txt"}
    assert not any("secret" in s or "link_out" in s or "dir_out" in s for s in sources)
    encodings = {s: d.encoding for s, d in assistant.manifest().docs.items()}
    assert (encodings["cp1252.txt"], encodings["latin1.txt"], encodings["utf16.txt"]) == ("cp1252", "latin-1", "utf-16")
    assert "Weiß" in assistant.article("cp1252.txt")["text"] and "€4 million" in assistant.article("cp1252.txt")["text"]
    assert "Tréguier" in assistant.article("latin1.txt")["text"]
    assert assistant.article("utf16.txt")["text"] == "The Zürich ferry carried 731 passengers on Tuesday."
    assert "Oslo tramway opened 9 new stops" in assistant.article("invalid.txt")["text"]
    assert_verbatim(assistant)
    # Nothing from the file behind the symlink is searchable.
    for hit in assistant.retrieve("launch code outside the corpus"):
        assert "launch code" not in hit.text
    # Decoded articles answer questions, quoted verbatim.
    answer = assistant.ask("How many passengers did the Zürich ferry carry?")
    assert "731" in answer.text and answer.citations[0].source == "utf16.txt"
    assert_citations_verbatim(assistant, answer)
    # A second run reports the same skips and changes nothing.
    again = assistant.ingest(progress=False)
    assert {Path(s.path).name for s in again.skipped} == set(expected_skips)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, len(sources))


def test_file_over_the_cap_is_never_read(settings, corpus, monkeypatch):
    with open(corpus / "huge.txt", "wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    reads: list[str] = []
    original = Path.read_bytes

    def spy(self):
        reads.append(self.name)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    report = Assistant(settings, embedder=CountingEmbedder()).ingest(progress=False)
    assert [Path(s.path).name for s in report.skipped] == ["huge.txt"] and "over the" in report.skipped[0].reason
    assert "huge.txt" not in reads and report.added == 5


def test_zero_width_and_control_characters_are_ingested_and_searchable(settings, corpus):
    text = (
        "Harbour\u200b news from Valletta\n"
        "The\u200b Valletta\u200d harbour\u2060 authority\ufeff counted 4,812 cruise passengers\x07 on Sunday. "
        "Officials\x0b said the new quay opened in April.\n"
    )
    (corpus / "zw.txt").write_text(text, encoding="utf-8")
    assistant = Assistant(settings, embedder=CountingEmbedder())
    report = assistant.ingest(progress=False)
    assert report.skipped == [] and "zw.txt" in {d["source"] for d in assistant.documents()}
    assert assistant.article("zw.txt")["text"] == text  # kept exactly, invisible characters included
    assert_verbatim(assistant)
    assert any(h.source == "zw.txt" for h in assistant.retrieve("Valletta harbour authority cruise passengers"))
    answer = assistant.ask("How many cruise passengers did the Valletta harbour authority count?")
    assert not answer.abstained, answer.text
    assert "4,812" in answer.text and answer.citations[0].source == "zw.txt"
    assert_citations_verbatim(assistant, answer)


@pytest.mark.slow
def test_two_megabyte_line_is_ingested_in_linear_time(settings, corpus):
    sentences = [f"Item {i}: the Brindleford council approved footbridge number {i} on Monday. " for i in range(30_000)]
    sentences[17_000] = "The Brindleford harbour master counted 4,711 grey herons. "
    line = "".join(sentences)[:2_000_000]
    assert len(line) == 2_000_000 and "4,711 grey herons" in line
    (corpus / "oneline.txt").write_text("Brindleford footbridges\n" + line, encoding="utf-8")
    (corpus / "blob.txt").write_text("A blob\n" + "Q" * 2_000_000, encoding="utf-8")  # no whitespace at all
    assistant = Assistant(settings, embedder=CountingEmbedder())
    started = time.perf_counter()
    report = assistant.ingest(progress=False)
    seconds = time.perf_counter() - started
    print(f"\n2 MB single-line files ingested in {seconds:.1f}s")
    assert seconds < 180
    assert report.skipped == [] and report.added == 7
    assert_verbatim(assistant)
    rows = assistant.collection().get(sorted(assistant.manifest().chunk_ids))
    assert max(r["metadata"]["end"] - r["metadata"]["start"] for r in rows) <= MAX_LINE_CHARS
    hits = assistant.retrieve("How many grey herons did the Brindleford harbour master count?")
    assert any(h.source == "oneline.txt" and "4,711 grey herons" in h.text for h in hits[:3])


def test_chunking_long_lines_is_linear_and_verbatim(tmp_path):
    """The line-length guard: chunking time grows linearly with the line, offsets stay exact."""
    sentence = "The council met on Monday and approved 12 bridges. "
    chunker = Chunker(160, 24)
    timings = {}
    for size in (1_000, 100_000, 400_000):  # the first one only warms up the sentence model
        path = tmp_path / f"line{size}.txt"
        path.write_text("Title\n" + (sentence * (size // len(sentence) + 1))[:size], encoding="utf-8")
        article = read_article(path, path.name, 10_000_000)
        started = time.perf_counter()
        chunks = chunker.chunk(article)
        timings[size] = time.perf_counter() - started
        for chunk in chunks:
            assert article.text[chunk.start:chunk.end] == chunk.text
            assert chunk.end - chunk.start <= MAX_LINE_CHARS
    assert timings[400_000] < 8 * timings[100_000] + 0.5, timings  # 4x the text; quadratic would be 16x


@pytest.mark.parametrize(
    "text",
    [
        "short line\nanother",
        "x" * 25_000,
        "word " * 6_000,
        "Head\n" + "A sentence here. " * 2_000 + "\nTail line.",
        "a\n" + "b" * 10_001 + "\n" + "c. " * 4_000 + "\n",
    ],
    ids=["short", "nospace", "spaces", "sentences", "mixed"],
)
def test_line_segments_cover_text_exactly(text):
    segments = line_segments(text)
    assert segments[0][0] == 0 and segments[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(segments, segments[1:]))  # contiguous: nothing dropped
    for start, end in segments:
        for line in text[start:end].splitlines():
            assert len(line) <= MAX_LINE_CHARS
    if len(text) <= MAX_LINE_CHARS:
        assert segments == [(0, len(text))]


def test_unsplittable_article_is_skipped_and_the_batch_lands(settings, corpus, monkeypatch):
    """A chunker failure on one file (e.g. nltk's regex time limit) skips that file only."""
    write_articles(corpus, 3, prefix="ok")
    (corpus / "poison.txt").write_text("Poison headline\nThis article breaks the splitter.\n", encoding="utf-8")
    original = Chunker.chunk

    def chunk(self, article):
        if article.source == "poison.txt":
            raise TimeoutError("regular-expression match exceeded its 5.0s time limit")
        return original(self, article)

    monkeypatch.setattr(Chunker, "chunk", chunk)
    assistant = Assistant(settings, embedder=CountingEmbedder())
    report = assistant.ingest(progress=False)
    assert [Path(s.path).name for s in report.skipped] == ["poison.txt"]
    assert "could not be split into chunks (TimeoutError" in report.skipped[0].reason
    assert report.added == 8 and "poison.txt" not in {d["source"] for d in assistant.documents()}


# ------------------------------------------------------------------------------- files that disappear
def test_file_deleted_between_discovery_and_reading_is_skipped(settings, corpus, monkeypatch):
    """A real race made deterministic: the file is found, then removed before it is read."""
    assistant = Assistant(settings, embedder=CountingEmbedder())
    assistant.ingest(progress=False)
    write_articles(corpus, 2, prefix="late")
    victims = ["late_000.txt", SEEDS[0]]
    real_discover = rag.ingest.discover

    def discover_then_delete(targets):
        found, skipped = real_discover(targets)
        assert {f.path.name for f in found} >= set(victims)
        for name in victims:
            (corpus / name).unlink()
        return found, skipped

    monkeypatch.setattr(rag.ingest, "discover", discover_then_delete)
    report = assistant.ingest(progress=False)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == set(victims) and all("disappeared" in r for r in reasons.values())
    assert report.added == 1 and report.removed == 1  # late_001 lands; the deleted seed is purged
    assert {d["source"] for d in assistant.documents()} == (set(SEEDS) - {SEEDS[0]}) | {"late_001.txt"}
    assert assistant.collection().all_ids() == assistant.manifest().chunk_ids


def test_file_deleted_while_its_batch_is_embedded_converges(settings, corpus):
    """The file vanishes after it was read: this run indexes what it read, the next purges it."""
    write_articles(corpus, 3, prefix="gone")

    class DeletingEmbedder(CountingEmbedder):
        def embed(self, texts):
            (corpus / "gone_001.txt").unlink(missing_ok=True)
            return super().embed(texts)

    assistant = Assistant(settings, embedder=DeletingEmbedder())
    first = assistant.ingest(progress=False)
    assert first.added == 8 and first.skipped == []
    second = assistant.ingest(progress=False)
    assert second.removed == 1 and "gone_001.txt" not in {d["source"] for d in assistant.documents()}
    assert assistant.collection().all_ids() == assistant.manifest().chunk_ids


# ---------------------------------------------------------------------------------- a damaged index
@pytest.mark.slow
def test_missing_chroma_folder_with_intact_manifest_converges(settings, tmp_path, corpus):
    # Indexed by another process (Chroma caches open stores per process), then the folder is lost.
    assert cli(tmp_path, corpus, "ingest").returncode == 0
    before = {s: d.chunk_ids for s, d in Assistant(settings).manifest().docs.items()}
    shutil.rmtree(settings.data_dir / "chroma")
    fresh = Assistant(settings, embedder=CountingEmbedder())
    try:  # before re-ingest: a clear error or a (degraded) answer, never a crash
        fresh.ask(REASSURANCE)
    except NewsragError:
        pass
    report = fresh.ingest(progress=False)
    assert report.updated == 5 and report.chunks_embedded == sum(len(ids) for ids in before.values())
    assert {s: d.chunk_ids for s, d in fresh.manifest().docs.items()} == before
    assert fresh.collection().all_ids() == fresh.manifest().chunk_ids
    assert "26" in fresh.ask(REASSURANCE).text


@pytest.mark.parametrize("damage", ["garbled", "segment-removed", "folder-removed"])
def test_damaged_bm25_folder_is_detected_and_rebuilt(settings, damage):
    assistant = Assistant(settings, embedder=CountingEmbedder())
    assistant.ingest(progress=False)
    manifest = assistant.manifest()
    bm25 = assistant.keyword_dir(manifest)
    segment = bm25 / f"{manifest.keyword_segments[0][0]}.npz"
    if damage == "garbled":
        segment.write_bytes(b"\x00not an index{")
    elif damage == "segment-removed":
        segment.unlink()
    else:
        shutil.rmtree(bm25)
    fresh = Assistant(settings, embedder=CountingEmbedder())
    if damage == "garbled":
        with pytest.raises(NewsragError, match="BM25 keyword index is damaged.*newsrag ingest"):
            fresh.ask(REASSURANCE)
    report = fresh.ingest(progress=False)
    assert report.chunks_embedded == 0  # only the keyword index is rebuilt, nothing re-embedded
    rebuilt = fresh.manifest().keyword_segments
    assert rebuilt and all((bm25 / f"{name}.npz").exists() for name, _ in rebuilt) and not segment.exists()
    hits = fresh.retrieve(REASSURANCE, mode="bm25")
    assert hits and "26" in fresh.ask(REASSURANCE).text


def cli(tmp_path: Path, corpus: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWSRAG_EMBEDDING_BACKEND": "hashing", "NEWSRAG_DATA_DIR": str(tmp_path / "data"),
           "NEWSRAG_CORPUS_DIR": str(corpus), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)


@pytest.mark.slow
def test_cli_status_on_corrupted_index_is_one_line_and_rebuild_recovers(tmp_path, corpus):
    assert cli(tmp_path, corpus, "ingest").returncode == 0
    (tmp_path / "data" / "manifest.json").write_text('{"docs": {"a.txt": {"source": 1}}, "version"')
    status = cli(tmp_path, corpus, "status")
    assert status.returncode == 2 and status.stdout == ""
    assert "Traceback" not in status.stderr and len(status.stderr.strip().splitlines()) == 1
    assert "corrupted" in status.stderr and "--rebuild" in status.stderr
    assert cli(tmp_path, corpus, "ingest").returncode == 2  # a plain ingest refuses, saying why
    rebuilt = cli(tmp_path, corpus, "ingest", "--rebuild", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert '"added": 5' in rebuilt.stdout
    after = cli(tmp_path, corpus, "status", "--json")
    assert after.returncode == 0 and '"documents": 5' in after.stdout
