"""`newsrag bench`: one run that measures ingest, re-ingest, query latency, retrieval quality,
memory and cold start on a news corpus (default: ../shared/corpora/bbc next to the repo).

    python -m evals.bench --limit 300 --questions 100 --json bench.json

Uses the real embedder (the Assistant default) and a temporary data dir unless --data-dir is given.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "bbc"
SEEDS = ROOT / "seeds"
MODES = ("hybrid", "dense", "bm25")


def _files(corpus: Path) -> list[Path]:
    """Article files, sorted, spread across category subfolders round-robin."""
    groups: dict[str, list[Path]] = {}
    for path in sorted(corpus.rglob("*.txt")):
        rel = path.relative_to(corpus)
        if rel.name.upper() == "README.TXT" and len(rel.parts) == 1 and any(p.is_dir() for p in corpus.iterdir()):
            continue  # the BBC corpus ships a README at its root
        groups.setdefault(rel.parts[0] if len(rel.parts) > 1 else "", []).append(path)
    ordered = [g for g in itertools.chain.from_iterable(itertools.zip_longest(*groups.values())) if g is not None]
    return ordered


def _headline(path: Path) -> str:
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip():
            return line.strip()[:300]
    return path.stem


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _rank(assistant, query: str, target: str, mode: str) -> int | None:
    """1-based rank of `target` among the distinct sources retrieved, or None."""
    sources = list(dict.fromkeys(c.source for c in assistant.retrieve(query, mode=mode)))
    return sources.index(target) + 1 if target in sources else None


def run(corpus: Path, limit: int | None, questions: int, data_dir: Path | None, work: Path) -> dict[str, Any]:
    from rag.assistant import Assistant
    from rag.chunking import word_tokens
    from rag.settings import Settings

    files = _files(corpus)
    if limit:
        files = files[:limit]
    if not files:
        raise SystemExit(f"bench: no .txt articles under {corpus}")
    target = work / "corpus"
    for path in files:
        dest = target / path.relative_to(corpus)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    data = data_dir or (work / "data")
    settings = Settings(data_dir=data, corpus_dir=target)
    assistant = Assistant(settings)
    articles = [(p.relative_to(target).as_posix(), _headline(p)) for p in sorted(target.rglob("*.txt"))]
    tokens = sum(len(word_tokens(p.read_text(encoding="utf-8", errors="replace"))) for p in target.rglob("*.txt"))

    # --- ingest (the embedder is already loaded: model load time is in cold_start_s, not here)
    started = time.perf_counter()
    report = assistant.ingest(progress=False)
    seconds = time.perf_counter() - started
    documents = report.added + report.updated + report.unchanged
    result: dict[str, Any] = {
        "corpus": str(corpus),
        "limit": limit,
        "ingest": {
            "documents": documents,
            "chunks": report.chunks,
            "seconds": round(seconds, 3),
            "docs_per_s": round(documents / seconds, 2) if seconds else 0.0,
            "tokens_per_s": round(tokens / seconds, 1) if seconds else 0.0,
            "tokens": tokens,
        },
    }

    # --- re-ingest, unchanged
    started = time.perf_counter()
    again = assistant.ingest(progress=False)
    result["reingest"] = {"seconds": round(time.perf_counter() - started, 3), "chunks_embedded": again.chunks_embedded}

    # --- re-ingest after editing 1% of the files (at least one)
    n_edit = max(1, len(articles) // 100)
    edited = sorted(target.rglob("*.txt"))[:: max(1, len(articles) // n_edit)][:n_edit]
    for path in edited:
        with path.open("a", encoding="utf-8") as fh:
            fh.write("\nThis sentence was appended by the newsrag benchmark to force a re-ingest.\n")
    started = time.perf_counter()
    changed = assistant.ingest(progress=False)
    result["reingest_edited"] = {
        "seconds": round(time.perf_counter() - started, 3),
        "chunks_embedded": changed.chunks_embedded,
        "files_edited": len(edited),
    }

    # --- warm query latency
    heads = [h for _, h in articles]
    for mode in MODES:  # warm every retriever (BM25 load, Chroma segment load)
        assistant.retrieve(heads[0], mode=mode)
    assistant.ask(heads[0])
    retrieve_ms: list[float] = []
    answer_ms: list[float] = []
    for question in itertools.islice(itertools.cycle(heads), questions):
        # Each timed call starts with an empty query-vector cache: a new user question is never cached.
        assistant.queries.clear()
        started = time.perf_counter()
        assistant.retrieve(question)
        retrieve_ms.append((time.perf_counter() - started) * 1000)
        assistant.queries.clear()
        started = time.perf_counter()
        assistant.ask(question)
        answer_ms.append((time.perf_counter() - started) * 1000)
    result["query"] = {
        "questions": questions,
        "retrieve_p50_ms": round(_pct(retrieve_ms, 0.5), 2),
        "retrieve_p95_ms": round(_pct(retrieve_ms, 0.95), 2),
        "answer_p50_ms": round(_pct(answer_ms, 0.5), 2),
        "answer_p95_ms": round(_pct(answer_ms, 0.95), 2),
    }

    # --- retrieval quality: headline -> its own article
    result["retrieval"] = {}
    all_ranks: dict[str, list[int | None]] = {mode: [] for mode in MODES}
    for source, head in articles:  # modes inside, so the three share one query embedding
        for mode in MODES:
            all_ranks[mode].append(_rank(assistant, head, source, mode))
    for mode, ranks in all_ranks.items():
        n = len(ranks)
        result["retrieval"][mode] = {
            "hit@1": round(sum(1 for r in ranks if r == 1) / n, 4),
            "hit@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 4),
            "mrr": round(sum(1.0 / r for r in ranks if r) / n, 4),
        }

    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

    # --- cold start: a fresh process, from start to printed answer
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    cmd = [sys.executable, "-m", "rag.cli", "--data-dir", str(data), "--corpus-dir", str(target),
           "ask", heads[0], "--json"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    result["cold_start_s"] = round(time.perf_counter() - started, 3)
    if proc.returncode != 0 or not json.loads(proc.stdout).get("text"):
        raise RuntimeError(f"cold-start ask failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return result


def format_table(r: dict[str, Any]) -> str:
    i, q = r["ingest"], r["query"]
    rows = [
        ("documents / chunks / tokens", f"{i['documents']} / {i['chunks']} / {i['tokens']}"),
        ("ingest", f"{i['seconds']:.1f} s  ({i['docs_per_s']} docs/s, {i['tokens_per_s']:.0f} tokens/s)"),
        ("re-ingest, unchanged", f"{r['reingest']['seconds']:.2f} s, {r['reingest']['chunks_embedded']} chunks embedded"),
        ("re-ingest, 1% edited", f"{r['reingest_edited']['seconds']:.2f} s, "
                                 f"{r['reingest_edited']['chunks_embedded']} chunks embedded "
                                 f"({r['reingest_edited']['files_edited']} files)"),
        ("retrieve p50 / p95", f"{q['retrieve_p50_ms']:.1f} / {q['retrieve_p95_ms']:.1f} ms"),
        ("answer (ask) p50 / p95", f"{q['answer_p50_ms']:.1f} / {q['answer_p95_ms']:.1f} ms"),
    ]
    rows += [
        (f"retrieval {m}", f"hit@1 {v['hit@1']:.3f}  hit@5 {v['hit@5']:.3f}  mrr {v['mrr']:.3f}")
        for m, v in r["retrieval"].items()
    ]
    rows += [("peak RSS", f"{r['peak_rss_mb']:.0f} MB"), ("cold start (ask)", f"{r['cold_start_s']:.2f} s")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsrag bench", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS if DEFAULT_CORPUS.is_dir() else SEEDS)
    parser.add_argument("--limit", type=int, default=None, help="first N articles, round-robin over categories")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--questions", type=int, default=200, help="questions for the latency run")
    parser.add_argument("--data-dir", type=Path, help="index folder (default: a temp dir)")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"bench: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="newsrag-bench-") as work:
        result = run(args.corpus.resolve(), args.limit, args.questions, args.data_dir, Path(work))
    print(format_table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
