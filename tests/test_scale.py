"""`newsrag bench --scale` (evals/scale.py): the synthetic articles are distinct, dated, never near
duplicates and all indexed; the JSON has one row per N with every figure issue #24 asks for."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from evals.scale import load_stories, synthesize, write_batches

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT / "evals" / "corpora" / "bbc"
ROW_KEYS = {"articles", "ingest_docs_per_s", "answer_p50_ms", "answer_p95_ms", "retrieval_mrr", "peak_rss_mb", "index_mb"}


@pytest.fixture(scope="module")
def stories():
    return load_stories(BBC, min_sentences=4)


def test_synthetic_articles_are_distinct_dated_and_never_near_duplicates(stories, tmp_path: Path) -> None:
    from rag.index.dedup import shingles, signature, similarity
    from rag.sources import read_article

    n = 3 * len(stories) // 2  # past one round of leads: some stories lead two articles
    articles = synthesize(stories, n, seed=1, lead_sentences=4)
    assert len({a.name for a in articles}) == len({a.text for a in articles}) == n
    assert len({a.published for a in articles}) == n
    assert articles == synthesize(stories, n, seed=1, lead_sentences=4)  # deterministic
    for a, b in itertools.combinations(articles, 2):
        shared = len(set(a.sentences) & set(b.sentences))
        assert shared <= max(1, int(0.2 * min(len(a.sentences), len(b.sentences)))), (a.name, b.name)
    lengths = sorted(len(a.sentences) for a in articles)
    assert lengths[0] >= 2 and lengths[-1] > 2 * lengths[0]  # a spread of lengths, like the source
    folder = write_batches(articles[:12], tmp_path, batch=5)[0]
    for path in sorted(folder.iterdir()):
        article = read_article(path, path.name, 10**7, None)
        assert article.published == next(a for a in articles if a.name == path.name).published.isoformat()
    sigs = [signature(a.text, num_perm=128, k=5) for a in articles[:40]]
    assert max(similarity(x, y) for x, y in itertools.combinations(sigs, 2)) < 0.3
    assert shingles("", 5) == set()


@pytest.mark.slow
def test_bench_scale_reports_a_row_per_size_with_everything_indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evals.bench import main

    monkeypatch.setenv("NEWSRAG_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("NEWSRAG_RERANK", "false")
    out = tmp_path / "scale.json"
    assert main(["--corpus", str(BBC), "--scale", "30,60", "--scale-batch", "20", "--questions", "5",
                 "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["scale"]
    assert [r["articles"] for r in rows] == [30, 60]
    for r in rows:
        assert ROW_KEYS <= set(r)
        assert r["indexed"] == r["dated"] == r["articles"] and r["grouped_as_duplicates"] == 0
        assert r["ingest_docs_per_s"] > 0 and 0 < r["answer_p50_ms"] <= r["answer_p95_ms"]
        assert 0 <= r["retrieval_mrr"] <= 1 and r["peak_rss_mb"] > 50 and r["index_mb"] > 0
    assert rows[1]["ingest_batches"] == 3


def test_bench_scale_rejects_bad_sizes(tmp_path: Path) -> None:
    from evals.scale import parse_sizes

    assert parse_sizes("1000, 4000") == [1000, 4000]
    for bad in ("", "0", "10,-1"):
        with pytest.raises(ValueError):
            parse_sizes(bad)
