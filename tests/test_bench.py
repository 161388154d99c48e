"""`evals.bench`: the headline-stripped task, the hit accessor, a fast smoke run, and a slow run
against the llama-index anchor (evals/anchor.py)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The in-repo BBC sample (the articles the gold sets quote): the smoke runs need nothing beside the repo.
BBC = ROOT / "evals" / "corpora" / "bbc"
QUALITY_KEYS = {"hit@1", "hit@5", "mrr"}


def _check_quality(m: dict, label: str) -> None:
    assert set(m) == QUALITY_KEYS, label
    assert 0 <= m["hit@1"] <= m["hit@5"] <= 1, label
    assert m["hit@1"] <= m["mrr"] <= 1, label


def _check_common(r: dict, limit: int) -> None:
    assert r["retrieval_task"] == "headline-stripped"
    ingest = r["ingest"]
    assert ingest["documents"] == limit
    assert ingest["chunks"] >= limit
    assert ingest["seconds"] > 0 and ingest["docs_per_s"] > 0 and ingest["tokens_per_s"] > 0
    assert r["reingest"]["chunks_embedded"] == 0
    assert r["reingest_edited"]["chunks_embedded"] > 0 and r["reingest_edited"]["seconds"] > 0
    q = r["query"]
    assert 0 < q["retrieve_p50_ms"] <= q["retrieve_p95_ms"]
    assert 0 < q["answer_p50_ms"] <= q["answer_p95_ms"]
    assert q["briefings"] >= 1 and 0 < q["briefing_p50_ms"] <= q["briefing_p95_ms"]  # reported beside lookups
    assert set(r["retrieval"]) == {"hybrid", "dense", "bm25"}
    for mode, m in r["retrieval"].items():
        _check_quality(m, mode)
    assert 50 < r["peak_rss_mb"] < 16_000
    assert 0 < r["cold_start_s"] < 300 and r["cold_start_runs"] >= 1
    yardstick = r["import_sentence_transformers_s"]  # measured in the same run, as the issue compares them
    assert yardstick is None or yardstick > 0
    assert r["cold_start_vs_import_sentence_transformers"] == (round(r["cold_start_s"] / yardstick, 3) if yardstick else None)


def test_split_headline_drops_the_first_nonempty_line_only() -> None:
    from evals.bench import split_headline

    assert split_headline("\n  Big news today \n\nFirst line.\nSecond line.\n") == (
        "Big news today", "First line.\nSecond line.\n")
    assert split_headline("\n \n") == ("", "")


def test_write_stripped_indexes_bodies_without_headlines(tmp_path: Path) -> None:
    from evals.bench import write_stripped

    src = tmp_path / "src"
    (src / "tech").mkdir(parents=True)
    (src / "tech" / "001.txt").write_text("Robots win the cup\n\nThe robots won on Sunday.\n")
    (src / "tech" / "002.txt").write_text("Headline only\n")  # no body: nothing to find, left out
    queries = write_stripped(sorted(src.rglob("*.txt")), src, tmp_path / "out")
    assert queries == [{"source": "tech/001.txt", "query": "Robots win the cup"}]
    assert (tmp_path / "out" / "tech" / "001.txt").read_text() == "The robots won on Sunday.\n"
    assert not (tmp_path / "out" / "tech" / "002.txt").exists()


def test_ranked_sources_reads_both_hit_types_and_counts_an_article_once() -> None:
    from llama_index.core.schema import NodeWithScore, TextNode

    from evals.bench import ranked_sources, summarize

    ours = SimpleNamespace(source="a.txt")  # the shape of rag's RetrievedChunk
    node = NodeWithScore(node=TextNode(text="x", metadata={"source": "b.txt"}), score=0.5)
    again = NodeWithScore(node=TextNode(text="y", metadata={"source": "a.txt"}), score=0.4)
    assert ranked_sources([ours, node, again]) == ["a.txt", "b.txt"]
    assert summarize([1, 3, None, 6]) == {"hit@1": 0.25, "hit@5": 0.5, "mrr": 0.375}


def test_bench_fast_smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashing embedder, a handful of articles, no anchor: every reported key present and sane."""
    from evals.bench import main

    monkeypatch.setenv("NEWSRAG_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("NEWSRAG_RERANK", "false")  # the cross-encoder is the slow test's business
    limit = 8
    out = tmp_path / "bench.json"
    assert main(["--corpus", str(BBC), "--limit", str(limit), "--questions", "3", "--cold-runs", "1",
                 "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    _check_common(r, limit)
    assert r["embedding"].startswith("hashing")
    assert "vs_anchor" not in r


def test_bench_rejects_bad_options(tmp_path: Path) -> None:
    from evals.bench import main

    assert main(["--corpus", str(tmp_path / "missing")]) == 2
    assert main(["--corpus", str(tmp_path), "--limit", "0"]) == 2
    assert main(["--corpus", str(tmp_path), "--cold-runs", "0"]) == 2


def test_bench_without_a_corpus_says_how_to_pass_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The full corpus is an optional input: absent, one line says so and how to give it (no traceback)."""
    from evals.bench import main

    monkeypatch.delenv("NEWSRAG_BENCH_CORPUS", raising=False)
    assert main(["--limit", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--corpus PATH" in err and "NEWSRAG_BENCH_CORPUS" in err
    monkeypatch.setenv("NEWSRAG_BENCH_CORPUS", str(tmp_path / "missing"))
    assert main(["--limit", "3"]) == 2
    assert capsys.readouterr().err.strip() == f"bench: no corpus at {tmp_path / 'missing'}"


def test_bench_reads_only_articles_from_the_in_repo_sample() -> None:
    """Its split listings sit at the sample's root, as the README sits at the full corpus's: neither is an article."""
    from evals.bench import _files

    files = _files(BBC)
    assert files and all(len(f.relative_to(BBC).parts) == 2 for f in files)
    assert [f.relative_to(BBC).parts[0] for f in files[:5]] == ["business", "entertainment", "politics", "sport", "tech"]


@pytest.mark.slow
def test_bench_anchor_smoke(tmp_path: Path) -> None:
    """The real embedder and the llama-index anchor on the same 20 headline-stripped articles."""
    from evals.bench import main

    limit = 20
    out = tmp_path / "bench.json"
    assert main(["--corpus", str(BBC), "--limit", str(limit), "--questions", "5", "--anchor",
                 "--cold-runs", "2", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    _check_common(r, limit)
    assert r["retrieval"]["hybrid"]["hit@5"] >= 0.8  # a headline finds its own (headline-less) article
    # The default reranks; the retrievers alone are reported too, for the anchor (which has no reranker).
    assert set(r["retrieval_without_rerank"]) == {"hybrid", "dense", "bm25"}
    for mode, m in r["retrieval_without_rerank"].items():
        _check_quality(m, f"{mode} without rerank")

    a = r["vs_anchor"]
    assert a["ingest_seconds"]["newsrag"] == r["ingest"]["seconds"]
    assert a["ingest_seconds"]["anchor"] > 0
    assert a["ingest_speedup"] == pytest.approx(a["ingest_seconds"]["anchor"] / r["ingest"]["seconds"], rel=0.01)
    _check_quality(a["retrieval"], "anchor")
    assert a["retrieval"]["hit@5"] >= 0.8  # the anchor really retrieved: same model, same task
    assert a["newsrag_retrieval"] == r["retrieval"]
    assert a["newsrag_retrieval_without_rerank"] == r["retrieval_without_rerank"]
    assert a["chunks"]["newsrag"] == r["ingest"]["chunks"] and a["chunks"]["anchor"] >= limit
    assert a["peak_rss_mb"]["newsrag"] == r["peak_rss_mb"] and a["peak_rss_mb"]["anchor"] > 50


def test_regression_anchor_reported_the_bench_process_peak_rss_as_its_own() -> None:
    """Linux folds a parent's peak RSS into its child's `ru_maxrss` across fork and exec, so the
    anchor (a child of the bench) reported newsrag's 1,065 MB as its own on the full corpus.
    `peak_rss_mb` reads the child's own high-water mark."""
    import subprocess
    import sys

    ballast = bytearray(400 * 1024 * 1024)
    ballast[:: 4096] = b"\x01" * len(ballast[:: 4096])  # touch every page, so it is resident
    child = subprocess.run(
        [sys.executable, "-c", "from evals.bench import peak_rss_mb; print(peak_rss_mb())"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    del ballast
    assert float(child.stdout) < 200, child.stdout
