"""Ingestion: counts, incremental re-ingest, edits/deletes, bad input, crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.settings import Settings
from tests.fakes import CountingEmbedder, write_articles

ROOT = Path(__file__).resolve().parents[1]


def make(settings, embedder=None) -> Assistant:
    return Assistant(settings, embedder=embedder or CountingEmbedder())


def keyword_rows(assistant: Assistant, manifest) -> list[str]:
    """The chunk ids the committed keyword segments search (their live rows), sorted."""
    from rag.index import KeywordIndex, load_segment

    root = assistant.keyword_dir(manifest)
    owner = {cid: d.keyword for d in manifest.docs.values() for cid in d.chunk_ids}
    index = KeywordIndex([load_segment(root, name) for name, _ in manifest.keyword_segments], owner)
    return sorted(cid for seg, live in zip(index.segments, index.live) for cid, ok in zip(seg.ids, live) if ok)


def index_snapshot(assistant: Assistant) -> dict:
    manifest = assistant.manifest()
    return {
        "docs": {s: (d.content_hash, tuple(d.chunk_ids)) for s, d in manifest.docs.items()},
        "chroma_ids": sorted(assistant.collection().all_ids()),
        "bm25": keyword_rows(assistant, manifest),
    }


def test_ingest_seeds_counts_and_metadata(settings):
    assistant = make(settings)
    report = assistant.ingest(progress=False)
    assert (report.added, report.updated, report.removed, report.skipped) == (5, 0, 0, [])
    assert report.chunks == report.chunks_embedded > 5
    status = assistant.status()
    assert status["documents"] == 5 and status["chunks"] == report.chunks
    assert status["embedding_model"].startswith("hashing")
    assert assistant.collection().count() == report.chunks
    rows = assistant.collection().get(sorted(assistant.manifest().chunk_ids))
    for row in rows:
        meta = row["metadata"]
        original = (settings.corpus_dir / meta["source"]).read_text(encoding="utf-8")
        assert original[meta["start"]:meta["end"]] == row["text"]
        assert meta["title"]
    urls = {r["metadata"]["source"]: r["metadata"]["url"] for r in rows}
    assert urls["001_b3a78f4a513db0c2.txt"].startswith("https://baoquocte.vn/")


def test_reingest_unchanged_embeds_nothing(settings):
    embedder = CountingEmbedder()
    make(settings, embedder).ingest(progress=False)
    before = embedder.texts_embedded
    again = make(settings, embedder)
    report = again.ingest(progress=False)
    assert embedder.texts_embedded == before
    assert (report.unchanged, report.added, report.updated, report.chunks_embedded) == (5, 0, 0, 0)


def test_edit_replaces_exactly_that_articles_chunks(settings, corpus):
    assistant = make(settings)
    assistant.ingest(progress=False)
    old = index_snapshot(assistant)
    path = corpus / "003_8f2d7b54467554ab.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nA brand new closing sentence about Warsaw.\n", encoding="utf-8")
    report = assistant.ingest(progress=False)
    assert (report.updated, report.unchanged) == (1, 4)
    new = index_snapshot(assistant)
    for source in old["docs"]:
        if source != "003_8f2d7b54467554ab.txt":
            assert new["docs"][source] == old["docs"][source]
    assert new["docs"]["003_8f2d7b54467554ab.txt"] != old["docs"]["003_8f2d7b54467554ab.txt"]
    assert set(new["chroma_ids"]) == {c for _, ids in new["docs"].values() for c in ids}
    assert new["bm25"] != old["bm25"]


def test_delete_purges_and_add_indexes(settings, corpus):
    assistant = make(settings)
    assistant.ingest(progress=False)
    (corpus / "002_bfcfc9118b72c1b9.txt").unlink()
    write_articles(corpus, 1, prefix="new")
    report = assistant.ingest(progress=False)
    assert (report.removed, report.added) == (1, 1)
    sources = {r["metadata"]["source"] for r in assistant.collection().get(sorted(assistant.collection().all_ids()))}
    assert "002_bfcfc9118b72c1b9.txt" not in sources and "new_000.txt" in sources


def test_no_prune_keeps_deleted_articles(settings, corpus):
    assistant = make(settings)
    assistant.ingest(progress=False)
    (corpus / "002_bfcfc9118b72c1b9.txt").unlink()
    assert assistant.ingest(progress=False, prune=False).removed == 0
    assert assistant.status()["documents"] == 5


def test_bad_inputs_are_skipped_with_reasons_and_the_batch_lands(settings, corpus):
    (corpus / "empty.txt").write_text("")
    (corpus / "blank.txt").write_text("  \n \n")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    (corpus / "huge.txt").write_text("word " * 2_000_000)
    (corpus / "latin.txt").write_bytes("Le café coûte 3 euros à Zürich. Personne ne s'en plaint.".encode("cp1252"))
    assistant = make(settings)
    report = assistant.ingest(progress=False)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "blank.txt", "binary.txt", "huge.txt"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["binary.txt"] and "cap" in reasons["huge.txt"]
    assert report.added == 6  # the seeds + the cp1252 article
    assert "latin.txt" in {d["source"] for d in assistant.documents()}


def test_folders_from_anywhere_share_one_index(settings, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    write_articles(elsewhere, 2, prefix="town")
    assistant = make(settings)
    assistant.ingest(progress=False)
    report = assistant.ingest([elsewhere], progress=False)
    assert report.added == 2 and report.removed == 0
    sources = {d["source"] for d in assistant.documents()}
    assert len(sources) == 7 and {"town_000.txt", "town_001.txt"} <= sources


def test_corrupted_manifest_is_detected_and_rebuild_recovers(settings):
    from rag.types import NewsragError

    assistant = make(settings)
    assistant.ingest(progress=False)
    assistant.paths.manifest.write_text("{not json")
    fresh = make(settings)
    with pytest.raises(NewsragError, match="corrupted.*--rebuild"):
        fresh.status()
    report = fresh.ingest(progress=False, rebuild=True)
    assert report.added == 5 and fresh.status()["documents"] == 5


def test_cli_ingest_json_and_status(settings, corpus, tmp_path):
    env = {**os.environ, "NEWSRAG_EMBEDDING_BACKEND": "hashing", "NEWSRAG_DATA_DIR": str(tmp_path / "data"),
           "NEWSRAG_CORPUS_DIR": str(corpus)}
    run = lambda *args: subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, capture_output=True, text=True, timeout=300)
    result = run("ingest", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == 5
    status = json.loads(run("status", "--json").stdout)
    assert status["documents"] == 5 and status["chunks"] > 5 and "data_dir" in status
    # Regression (#23): a mistyped path exited 0 as if the folder were empty; it is an error naming it.
    bad = run("ingest", str(tmp_path / "no-such-folder"), "--json")
    assert bad.returncode == 2 and "no such file or folder" in json.loads(bad.stdout)["error"]
    assert "no-such-folder" in json.loads(bad.stdout)["error"]
    wrong = run("remove", "nope.txt", "--json")
    # An unknown name is the user's error (#34 item 6): exit 2, the name in one JSON error.
    assert wrong.returncode == 2 and "nope.txt" in json.loads(wrong.stdout)["error"] and "Traceback" not in wrong.stderr


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    sys.path.insert(0, {root!r})
    from rag.assistant import Assistant
    from rag.settings import Settings
    from rag.index import Manifest
    from tests.fakes import CountingEmbedder

    point = sys.argv[1]
    class SlowEmbedder(CountingEmbedder):
        def embed(self, texts):
            if point == "embedding" and len(self.batches) == 1:
                os.kill(os.getpid(), signal.SIGKILL)  # dies mid-way through the second batch
            return super().embed(texts)
    saves = {{"n": 0}}
    original_save = Manifest.save
    def save(self, path):
        saves["n"] += 1
        if point == "before-manifest" and saves["n"] == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # after the Chroma write, before the manifest write
        original_save(self, path)
    Manifest.save = save
    Assistant(Settings(data_dir=sys.argv[2], corpus_dir=sys.argv[3]), embedder=SlowEmbedder()).ingest(progress=False)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["embedding", "before-manifest"])
def test_killed_ingest_converges_to_a_clean_index(tmp_path, corpus, point):
    write_articles(corpus, 70)  # three batches of 32 articles
    crashed_dir, clean_dir = tmp_path / "crashed", tmp_path / "clean"
    script = tmp_path / "crash.py"
    script.write_text(CRASH_SCRIPT.format(root=str(ROOT)))
    proc = subprocess.run([sys.executable, str(script), point, str(crashed_dir), str(corpus)], capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()

    crashed = Assistant(Settings(data_dir=crashed_dir, corpus_dir=corpus), embedder=CountingEmbedder())
    crashed.retrieve("bridge number 3")  # the half-built index still answers queries
    crashed.ingest(progress=False)
    clean = Assistant(Settings(data_dir=clean_dir, corpus_dir=corpus), embedder=CountingEmbedder())
    clean.ingest(progress=False)
    assert index_snapshot(crashed) == index_snapshot(clean)
    assert crashed.collection().count() == clean.collection().count() == len(crashed.manifest().chunk_ids)


def test_regression_cli_passes_options_through_to_bench_and_evals(capsys):
    from ui.cli import build_parser, main

    args, extra = build_parser().parse_known_args(["bench", "--json", "x.json", "--limit", "3"])
    assert args.command == "bench" and [*extra, *args.rest] == ["--json", "x.json", "--limit", "3"]
    assert main(["status", "--bogus"]) == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert main(["list", "--json", "--bogus"]) == 2
    assert json.loads(capsys.readouterr().out) == {"error": "unrecognized arguments: --bogus (see `newsrag list --help`)"}
