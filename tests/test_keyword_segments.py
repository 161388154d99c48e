"""The segmented BM25 keyword index (rag/index/bm25.py, rag/index/keyword.py): scores equal one
bm25s index over everything, an ingest adds a segment instead of rebuilding, removal and updates
hide old rows, segments merge as they grow, and readers only ever see committed segments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.assistant import Assistant
from rag.index import KeywordIndex, load_segment
from rag.index.bm25 import build_segment, merge_segments, save_segment, tokenize
from rag.settings import Settings
from tests.fakes import CountingEmbedder, write_articles

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT / "evals" / "corpora" / "bbc"


def _texts(count: int) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(BBC.glob("*/*.txt"))[:count]]


def _bm25s_top(texts: list[str], query: str, k: int) -> list[tuple[int, float]]:
    """The reference: one bm25s index over all texts, tokenised the same way."""
    import bm25s

    ids, vocab = tokenize(texts)
    model = bm25s.BM25()
    model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    words = {i: w for w, i in vocab.items()}
    q_ids, q_vocab = tokenize([query])
    q_words = {i: w for w, i in q_vocab.items()}
    terms = [vocab[q_words[i]] for i in q_ids[0] if q_words[i] in vocab and q_words[i]]
    scores = model.get_scores_from_ids(terms) if terms else np.zeros(len(texts))
    order = np.argsort(-scores, kind="stable")[:k]
    assert words  # a non-empty vocabulary
    return [(int(i), float(scores[i])) for i in order if scores[i] > 0]


@pytest.mark.parametrize("query", ["Yukos oil company bankruptcy court", "mobile phone music downloads",
                                   "England rugby coach injury", "the of and"])
def test_segments_score_like_one_bm25s_index_over_everything(query: str) -> None:
    texts = _texts(60)
    ids = [f"c{i}" for i in range(len(texts))]
    parts = [build_segment(ids[a:b], texts[a:b]) for a, b in ((0, 25), (25, 40), (40, 60))]
    index = KeywordIndex(parts, {cid: seg.name for seg in parts for cid in seg.ids})
    got = index.search(query, 10)
    want = _bm25s_top(texts, query, 10)
    assert [cid for cid, _ in got] == [f"c{i}" for i, _ in want]
    assert np.allclose([s for _, s in got], [s for _, s in want], rtol=1e-4)


def test_merging_keeps_live_rows_only_and_scores_unchanged(tmp_path: Path) -> None:
    texts = _texts(30)
    ids = [f"c{i}" for i in range(30)]
    a, b = build_segment(ids[:15], texts[:15]), build_segment(ids[15:], texts[15:])
    owner = {cid: (a.name if i < 15 else b.name) for i, cid in enumerate(ids) if i % 4}  # every 4th removed
    before = KeywordIndex([a, b], owner)
    merged = merge_segments([(seg, live) for seg, live in zip(before.segments, before.live)])
    save_segment(merged, tmp_path)
    loaded = load_segment(tmp_path, merged.name)
    assert loaded.ids == [cid for cid in ids if cid in owner]
    after = KeywordIndex([loaded], {cid: loaded.name for cid in loaded.ids})
    for query in ("oil prices", "film award ceremony", "election campaign Labour"):
        assert [c for c, _ in after.search(query, 8)] == [c for c, _ in before.search(query, 8)]
    assert not list(tmp_path.glob(".staging-*"))  # written under a temp name, then renamed


def test_allowed_restricts_hits_not_statistics() -> None:
    texts = _texts(20)
    seg = build_segment([f"c{i}" for i in range(20)], texts)
    index = KeywordIndex([seg], {cid: seg.name for cid in seg.ids})
    full = dict(index.search("government minister", 20))
    allowed = set(list(full)[1::2])
    masked = index.search("government minister", 20, allowed)
    assert masked and {c for c, _ in masked} <= allowed
    assert all(abs(full[c] - s) < 1e-6 for c, s in masked)


def _assistant(tmp_path: Path) -> Assistant:
    return Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus"), embedder=CountingEmbedder())


def _live(assistant: Assistant) -> KeywordIndex:
    manifest = assistant.manifest()
    return KeywordIndex([load_segment(assistant.keyword_dir(manifest), n) for n, _ in manifest.keyword_segments],
                        {c: d.keyword for d in manifest.docs.values() for c in d.chunk_ids})


def _bm25_sources(assistant: Assistant, query: str) -> list[str]:
    return [h.source for h in assistant.retrieve(query, mode="bm25", top_k=20)]


def test_an_ingest_adds_a_segment_and_its_articles_are_found_by_keyword(tmp_path: Path) -> None:
    assistant = _assistant(tmp_path)
    first = tmp_path / "corpus" / "first"
    write_articles(first, 6)
    assistant.ingest([first], prune=False)
    before = [name for name, _ in assistant.manifest().keyword_segments]
    late = tmp_path / "corpus" / "late"
    late.mkdir()
    (late / "zebra.txt").write_text("Zebra crossing opens\n\nA zebra crossing with quokka murals opened in "
                                    "Exampleville on Tuesday, the council said.\n", encoding="utf-8")
    report = assistant.ingest([late], prune=False)
    assert report.chunks_embedded > 0
    manifest = assistant.manifest()
    assert manifest.docs["zebra.txt"].keyword in {name for name, _ in manifest.keyword_segments}
    assert _bm25_sources(assistant, "quokka murals") == ["zebra.txt"]
    assert "art_003.txt" in _bm25_sources(assistant, "Exampleville-3 bridge")
    # the first batch's rows were not re-tokenised: its segment is kept or merged, never rebuilt alone
    assert manifest.keyword_segments != [[before[0], len(manifest.chunk_ids)]]


def test_removing_an_article_removes_it_from_keyword_hits(tmp_path: Path) -> None:
    assistant = _assistant(tmp_path)
    folder = tmp_path / "corpus"
    write_articles(folder, 8)
    assistant.ingest([folder])
    assert "art_005.txt" in _bm25_sources(assistant, "Exampleville-5")
    assistant.remove(["art_005.txt"])
    assert "art_005.txt" not in _bm25_sources(assistant, "Exampleville-5")
    path = folder / "art_002.txt"  # an update: the old rows die, the new ones are found
    path.write_text(path.read_text(encoding="utf-8") + "\nA wombat sanctuary opened beside the bridge.\n", encoding="utf-8")
    assistant.ingest([folder])
    assert _bm25_sources(assistant, "wombat sanctuary")[:1] == ["art_002.txt"]
    assert len(_live(assistant)) == len(assistant.manifest().chunk_ids)  # exactly the committed chunks are live


def test_many_small_ingests_keep_few_segments(tmp_path: Path) -> None:
    assistant = _assistant(tmp_path)
    for batch in range(9):
        folder = tmp_path / "corpus" / f"b{batch}"
        write_articles(folder, 3, prefix=f"b{batch}")
        assistant.ingest([folder], prune=False)
    manifest = assistant.manifest()
    assert len(manifest.keyword_segments) <= 4  # a binary counter over 9 equal batches: at most log2(9) + 1
    files = sorted(p.stem for p in assistant.keyword_dir(manifest).iterdir())
    assert files == sorted(name for name, _ in manifest.keyword_segments)  # merged-away segments pruned
    assert len(_live(assistant)) == len(manifest.chunk_ids)  # every batch's chunks, each once


def test_a_commit_cut_short_after_writing_its_segment_is_invisible_then_converges(tmp_path, monkeypatch) -> None:
    """A segment file no manifest names is never read; the next ingest indexes what it missed."""
    import rag.index.keyword as keyword

    assistant = _assistant(tmp_path)
    first = tmp_path / "corpus" / "first"
    write_articles(first, 4)
    assistant.ingest([first], prune=False)
    late = tmp_path / "corpus" / "late"
    late.mkdir()
    (late / "okapi.txt").write_text("Okapi seen\n\nAn okapi was seen near the Exampleville ring road at dawn.\n",
                                    encoding="utf-8")
    real = keyword.save_segment

    def save_then_die(segment, root):
        real(segment, root)
        raise RuntimeError("killed after writing the segment, before the manifest named it")

    monkeypatch.setattr(keyword, "save_segment", save_then_die)
    with pytest.raises(RuntimeError):
        assistant.ingest([late], prune=False)
    reader = _assistant(tmp_path)
    assert "okapi.txt" not in _bm25_sources(reader, "okapi ring road")  # committed for dense only, so far
    assert "art_001.txt" in _bm25_sources(reader, "Exampleville-1")
    monkeypatch.setattr(keyword, "save_segment", real)
    assert assistant.ingest([late], prune=False).chunks_embedded == 0
    assert _bm25_sources(_assistant(tmp_path), "okapi ring road")[:1] == ["okapi.txt"]
    manifest = assistant.manifest()
    assert sorted(p.stem for p in assistant.keyword_dir(manifest).iterdir()) == sorted(
        name for name, _ in manifest.keyword_segments)
