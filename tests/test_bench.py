"""Smoke run of `evals.bench`: one small corpus, every reported key present and sane."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BBC_CANDIDATES = (Path("/work/shared/corpora/bbc"), ROOT.parent / "shared" / "corpora" / "bbc")


@pytest.mark.slow
def test_bench_smoke(tmp_path: Path, corpus: Path) -> None:
    from evals.bench import main

    bbc = next((p for p in BBC_CANDIDATES if p.is_dir()), None)
    source, limit = (bbc, 20) if bbc else (corpus, 5)
    out = tmp_path / "bench.json"
    assert main(["--corpus", str(source), "--limit", str(limit), "--questions", "5", "--json", str(out)]) == 0
    r = json.loads(out.read_text())

    ingest = r["ingest"]
    assert ingest["documents"] == limit
    assert ingest["chunks"] >= limit
    assert ingest["seconds"] > 0 and ingest["docs_per_s"] > 0 and ingest["tokens_per_s"] > 0

    assert r["reingest"]["chunks_embedded"] == 0
    assert r["reingest"]["seconds"] >= 0
    assert r["reingest_edited"]["chunks_embedded"] > 0
    assert r["reingest_edited"]["seconds"] > 0

    q = r["query"]
    for key in ("retrieve_p50_ms", "retrieve_p95_ms", "answer_p50_ms", "answer_p95_ms"):
        assert q[key] > 0
    assert q["retrieve_p50_ms"] <= q["retrieve_p95_ms"]
    assert q["answer_p50_ms"] <= q["answer_p95_ms"]

    assert set(r["retrieval"]) == {"hybrid", "dense", "bm25"}
    for mode, m in r["retrieval"].items():
        assert set(m) == {"hit@1", "hit@5", "mrr"}
        assert 0 <= m["hit@1"] <= m["hit@5"] <= 1, mode
        assert m["hit@1"] <= m["mrr"] <= 1, mode
    assert r["retrieval"]["hybrid"]["hit@5"] >= 0.8  # a headline finds its own article

    assert 50 < r["peak_rss_mb"] < 16_000
    assert 0 < r["cold_start_s"] < 300
