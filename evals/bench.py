"""`newsrag bench`: one run that measures ingest, re-ingest, query latency, retrieval quality,
memory and cold start on a news corpus given by --corpus or NEWSRAG_BENCH_CORPUS (e.g. the full
2,225-article BBC corpus; evals/corpora/bbc holds a small in-repo sample), and with --anchor the same
ingest and retrieval task on a plain llama-index pipeline (evals/anchor.py).

    python -m evals.bench --corpus PATH --limit 300 --questions 100 --anchor --json bench.json

The retrieval task is headline-stripped: every article is indexed WITHOUT its first line (the
headline), the headline is the query, and a hit is any chunk of that article. (Indexing the
headline too made the task string matching.) Uses the Assistant's default embedder and a
temporary data dir unless --data-dir is given.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

from evals.corpora import BBC_LISTS

ROOT = Path(__file__).resolve().parents[1]
CORPUS_ENV = "NEWSRAG_BENCH_CORPUS"
MODES = ("hybrid", "dense", "bm25")
BRIEFING_EVERY = 4  # one open question per this many lookups: briefings cost more, lookups are most asked
SUBPROCESS_TIMEOUT_S = 3600  # the anchor on the full corpus takes minutes, never an hour


def _not_an_article(corpus: Path, rel: Path) -> bool:
    """The BBC corpus ships a README at its root; the in-repo sample keeps its split listings there."""
    if len(rel.parts) != 1:
        return False
    if rel.name.upper() == "README.TXT" and any(p.is_dir() for p in corpus.iterdir()):
        return True
    return (corpus / rel).resolve() in {listing.resolve() for listing in BBC_LISTS.values()}


def _files(corpus: Path) -> list[Path]:
    """Article files, sorted, spread across category subfolders round-robin."""
    groups: dict[str, list[Path]] = {}
    for path in sorted(corpus.rglob("*.txt")):
        rel = path.relative_to(corpus)
        if _not_an_article(corpus, rel):
            continue
        groups.setdefault(rel.parts[0] if len(rel.parts) > 1 else "", []).append(path)
    return [g for g in itertools.chain.from_iterable(itertools.zip_longest(*groups.values())) if g is not None]


def split_headline(text: str) -> tuple[str, str]:
    """(first non-empty line, everything after it with leading blank lines dropped)."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip():
            return line.strip(), "".join(lines[i + 1:]).lstrip("\r\n")
    return "", ""


def write_stripped(files: list[Path], corpus: Path, target: Path) -> list[dict[str, str]]:
    """Copies each article to `target` without its headline; returns the queries (headline -> source)."""
    queries = []
    for path in files:
        headline, body = split_headline(path.read_text(encoding="utf-8", errors="replace"))
        if not headline or not body.strip():
            continue  # nothing to find, or nothing to ask
        rel = path.relative_to(corpus)
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(body, encoding="utf-8")
        queries.append({"source": rel.as_posix(), "query": headline})
    return queries


def source_of(hit: Any) -> str:
    """The article a retrieval hit belongs to: our RetrievedPassage (.source) or a llama-index NodeWithScore (the anchor's)."""
    source = getattr(hit, "source", None)
    return source if isinstance(source, str) else hit.node.metadata["source"]


def ranked_sources(hits: Iterable[Any]) -> list[str]:
    """Distinct articles in retrieval order (a hit on any chunk of an article counts for it)."""
    return list(dict.fromkeys(source_of(h) for h in hits))


def summarize(ranks: list[int | None]) -> dict[str, float]:
    """hit@1, hit@5 and MRR from 1-based ranks (None = not retrieved)."""
    n = len(ranks) or 1
    return {
        "hit@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "hit@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 4),
        "mrr": round(sum(1.0 / r for r in ranks if r) / n, 4),
    }


def task_quality(assistant: Any, queries: list[dict[str, str]], top_k: int) -> dict[str, dict[str, float]]:
    """hit@1/hit@5/MRR of each retrieval mode on the headline -> own article task."""
    ranks: dict[str, list[int | None]] = {mode: [] for mode in MODES}
    for q in queries:  # modes inside, so the three share one query embedding
        for mode in MODES:
            sources = ranked_sources(assistant.retrieve(q["query"], mode=mode, top_k=top_k))
            ranks[mode].append(sources.index(q["source"]) + 1 if q["source"] in sources else None)
    return {mode: summarize(r) for mode, r in ranks.items()}


def peak_rss_mb() -> float:
    """This process's own peak resident set, in MB.

    Linux folds the parent's peak into a child's `ru_maxrss` across fork and exec, so the anchor
    (a child of the bench) reported newsrag's peak whenever newsrag's was the larger; `VmHWM` is
    the process's own. `ru_maxrss` stays the fallback where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _fresh_question(assistant: Any) -> None:
    """A new user question is never in the query-vector cache, so each timed call starts without it."""
    cache = getattr(assistant, "queries", None)
    if cache is not None and hasattr(cache, "clear"):
        cache.clear()


def _timed(fn: Any, *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def _child_env() -> dict[str, str]:
    # The data and corpus dirs are passed explicitly; every other NEWSRAG_ setting (e.g. the
    # embedding backend) must match the one the index was built with.
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSRAG_DATA_DIR", "NEWSRAG_CORPUS_DIR")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")
    return env


def warm_up_ingest(assistant: Any, sample: Path) -> None:
    """Ingest one article into a throwaway index first, with the same models: the libraries the
    ingest imports on first use (chromadb, nltk and the scipy it pulls in: ~3 s) are loaded before
    the timer, as the anchor imports its libraries before its timer (and warms up the same way)."""
    from rag.assistant import Assistant

    with tempfile.TemporaryDirectory(prefix="newsrag-warmup-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        shutil.copy(sample, corpus / sample.name)
        settings = assistant.settings.model_copy(update={"data_dir": Path(tmp) / "data", "corpus_dir": corpus})
        Assistant(settings, embedder=assistant.embedder).ingest(progress=False)


def _measure_ingest(assistant: Any, target: Path) -> dict[str, Any]:
    """Ingest timed after a warm-up (the embedder is already loaded: model load time is in
    cold_start_s, not here)."""
    from rag.chunking import word_tokens

    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(target.rglob("*.txt"))]
    tokens = sum(len(word_tokens(t)) for t in texts)
    warm_up_ingest(assistant, next(target.rglob("*.txt")))
    started = time.perf_counter()
    report = assistant.ingest(progress=False)
    seconds = time.perf_counter() - started
    documents = report.added + report.updated + report.unchanged
    return {
        "documents": documents, "chunks": report.chunks, "seconds": round(seconds, 3),
        "docs_per_s": round(documents / seconds, 2) if seconds else 0.0,
        "tokens_per_s": round(tokens / seconds, 1) if seconds else 0.0, "tokens": tokens,
    }


def _measure_retrieval(assistant: Any, queries: list[dict[str, str]], top_k: int) -> dict[str, Any]:
    """Retrieval quality, before any edit, so the anchor scores exactly the same documents. The
    product reranks every mode with its cross-encoder; the anchor has none, so the retrievers alone
    are measured too (same index, same embedder)."""
    from rag.assistant import Assistant

    result: dict[str, Any] = {"retrieval": task_quality(assistant, queries, top_k)}
    if getattr(assistant, "reranker", None) is not None:
        plain = Assistant(assistant.settings.model_copy(update={"rerank": False}), embedder=assistant.embedder)
        result["retrieval_without_rerank"] = task_quality(plain, queries, top_k)
        del plain
    return result


def _measure_reingest(assistant: Any, target: Path) -> dict[str, Any]:
    """Re-ingest, unchanged; then after editing 1% of the files (at least one)."""
    started = time.perf_counter()
    again = assistant.ingest(progress=False)
    result: dict[str, Any] = {
        "reingest": {"seconds": round(time.perf_counter() - started, 3), "chunks_embedded": again.chunks_embedded},
    }
    paths = sorted(target.rglob("*.txt"))
    n_edit = max(1, len(paths) // 100)
    edited = paths[:: max(1, len(paths) // n_edit)][:n_edit]
    for path in edited:
        with path.open("a", encoding="utf-8") as fh:
            fh.write("\nThis sentence was appended by the newsrag benchmark to force a re-ingest.\n")
    started = time.perf_counter()
    changed = assistant.ingest(progress=False)
    result["reingest_edited"] = {
        "seconds": round(time.perf_counter() - started, 3), "chunks_embedded": changed.chunks_embedded,
        "files_edited": len(edited),
    }
    return result


def _measure_latency(assistant: Any, heads: list[str], questions: int) -> dict[str, Any]:
    """Warm latency, headlines as questions."""
    for mode in MODES:  # warm every retriever (BM25 load, Chroma segment load)
        assistant.retrieve(heads[0], mode=mode)
    assistant.ask(heads[0])
    retrieve_ms: list[float] = []
    answer_ms: list[float] = []
    briefing_ms: list[float] = []
    for n, question in enumerate(itertools.islice(itertools.cycle(heads), questions)):
        _fresh_question(assistant)
        retrieve_ms.append(_timed(assistant.retrieve, question))
        _fresh_question(assistant)
        answer_ms.append(_timed(assistant.ask, question))
        if n % BRIEFING_EVERY == 0:  # an open question on the same story: a briefing over its articles
            _fresh_question(assistant)
            briefing_ms.append(_timed(assistant.ask, f"What is happening with {question.rstrip('?.!')}?"))
    return {
        "questions": questions,
        "retrieve_p50_ms": round(_pct(retrieve_ms, 0.5), 2), "retrieve_p95_ms": round(_pct(retrieve_ms, 0.95), 2),
        "answer_p50_ms": round(_pct(answer_ms, 0.5), 2), "answer_p95_ms": round(_pct(answer_ms, 0.95), 2),
        "briefings": len(briefing_ms),
        "briefing_p50_ms": round(_pct(briefing_ms, 0.5), 2), "briefing_p95_ms": round(_pct(briefing_ms, 0.95), 2),
    }


def measure_newsrag(target: Path, queries: list[dict[str, str]], questions: int, top_k: int, data: Path) -> dict[str, Any]:
    from rag.assistant import Assistant
    from rag.settings import Settings

    assistant = Assistant(Settings(data_dir=data, corpus_dir=target))
    result: dict[str, Any] = {"embedding": getattr(assistant.embedder, "name", type(assistant.embedder).__name__)}
    result["ingest"] = _measure_ingest(assistant, target)
    result.update(_measure_retrieval(assistant, queries, top_k))
    result.update(_measure_reingest(assistant, target))
    result["query"] = _measure_latency(assistant, [q["query"] for q in queries], questions)
    # This process has run newsrag only (the anchor and the cold start are child processes).
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def cold_start(data: Path, target: Path, question: str) -> float:
    """Seconds from starting a fresh `newsrag ask` process to its printed answer."""
    cli = "ui.cli" if (ROOT / "ui" / "cli.py").is_file() else "rag.cli"
    cmd = [sys.executable, "-m", cli, "--data-dir", str(data), "--corpus-dir", str(target), "ask", question, "--json"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=_child_env(), capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    seconds = time.perf_counter() - started
    try:
        answered = proc.returncode == 0 and bool(json.loads(proc.stdout).get("text"))
    except ValueError:
        answered = False
    if not answered:  # the CLI reports --json errors on stdout, tracebacks on stderr
        raise RuntimeError(f"cold-start ask failed ({proc.returncode}): {proc.stdout[-1000:]} {proc.stderr[-2000:]}")
    return round(seconds, 3)


def import_seconds(module: str) -> float | None:
    """Seconds for a fresh process to import `module` (None when it is not installed): the yardstick
    a cold `newsrag ask` is held to, measured in the same run because absolute times drift here."""
    if importlib.util.find_spec(module) is None:
        return None
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, env=_child_env(),
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"`import {module}` failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return round(seconds, 3)


def run_anchor(pristine: Path, queries: list[dict[str, str]], top_k: int, work: Path) -> dict[str, Any]:
    """evals/anchor.py in its own process on the same headline-stripped documents and queries."""
    qfile, out = work / "anchor-queries.json", work / "anchor.json"
    qfile.write_text(json.dumps(queries), encoding="utf-8")
    cmd = [sys.executable, "-m", "evals.anchor", "--corpus", str(pristine), "--queries", str(qfile),
           "--top-k", str(top_k), "--work", str(work), "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=_child_env(), capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(f"anchor pipeline failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def compare(ours: dict[str, Any], anchor: dict[str, Any]) -> dict[str, Any]:
    mine = ours["ingest"]["seconds"]
    return {
        "ingest_speedup": round(anchor["ingest_seconds"] / mine, 3) if mine else 0.0,
        "ingest_seconds": {"newsrag": mine, "anchor": anchor["ingest_seconds"]},
        "retrieval": anchor["retrieval"],
        "newsrag_retrieval": ours["retrieval"],
        **({"newsrag_retrieval_without_rerank": ours["retrieval_without_rerank"]} if "retrieval_without_rerank" in ours else {}),
        "chunks": {"newsrag": ours["ingest"]["chunks"], "anchor": anchor["chunks"]},
        "peak_rss_mb": {"newsrag": ours["peak_rss_mb"], "anchor": anchor["peak_rss_mb"]},
        "anchor_model_load_s": anchor["model_load_s"],
        "anchor_pipeline": anchor["pipeline"],
    }


def run(corpus: Path, limit: int | None, questions: int, data_dir: Path | None, work: Path,
        *, top_k: int = 10, anchor: bool = False, cold_runs: int = 3) -> dict[str, Any]:
    files = _files(corpus)[:limit] if limit else _files(corpus)
    pristine, target = work / "stripped", work / "corpus"
    queries = write_stripped(files, corpus, pristine)
    if not queries:
        raise SystemExit(f"bench: no .txt articles with a headline and a body under {corpus}")
    shutil.copytree(pristine, target)  # newsrag's copy gets edited by the re-ingest step
    data = data_dir or (work / "data")
    result: dict[str, Any] = {"corpus": str(corpus), "limit": limit, "retrieval_task": "headline-stripped", "top_k": top_k}
    result.update(measure_newsrag(target, queries, questions, top_k, data))
    gc.collect()  # newsrag's assistant is gone; free its memory before the children start
    asks, imports = [], []
    for _ in range(cold_runs):  # interleaved, so a burst of load on this shared machine hits both alike
        asks.append(cold_start(data, target, queries[0]["query"]))
        imports.append(import_seconds("sentence_transformers"))
    result["cold_start_s"] = statistics.median(asks)
    result["cold_start_runs"] = cold_runs
    yardstick = statistics.median(imports) if None not in imports else None
    result["import_sentence_transformers_s"] = yardstick
    result["cold_start_vs_import_sentence_transformers"] = round(result["cold_start_s"] / yardstick, 3) if yardstick else None
    if anchor:
        result["vs_anchor"] = compare(result, run_anchor(pristine, queries, top_k, work))
    return result


def _cold(r: dict[str, Any]) -> str:
    text = f"{r['cold_start_s']:.2f} s"
    if r.get("cold_start_vs_import_sentence_transformers"):
        text += (f"  ({r['cold_start_vs_import_sentence_transformers']:.0%} of `import sentence_transformers`, "
                 f"{r['import_sentence_transformers_s']:.2f} s)")
    return text


def _quality(v: dict[str, float]) -> str:
    return f"hit@1 {v['hit@1']:.3f}  hit@5 {v['hit@5']:.3f}  mrr {v['mrr']:.3f}"


def format_table(r: dict[str, Any]) -> str:
    i, q = r["ingest"], r["query"]
    rows = [
        ("embedding", r.get("embedding", "")),
        ("documents / chunks / tokens", f"{i['documents']} / {i['chunks']} / {i['tokens']}"),
        ("ingest", f"{i['seconds']:.1f} s  ({i['docs_per_s']} docs/s, {i['tokens_per_s']:.0f} tokens/s)"),
        ("re-ingest, unchanged", f"{r['reingest']['seconds']:.2f} s, {r['reingest']['chunks_embedded']} chunks embedded"),
        ("re-ingest, 1% edited", f"{r['reingest_edited']['seconds']:.2f} s, "
                                 f"{r['reingest_edited']['chunks_embedded']} chunks embedded "
                                 f"({r['reingest_edited']['files_edited']} files)"),
        ("retrieve p50 / p95", f"{q['retrieve_p50_ms']:.1f} / {q['retrieve_p95_ms']:.1f} ms"),
        ("answer (ask) p50 / p95", f"{q['answer_p50_ms']:.1f} / {q['answer_p95_ms']:.1f} ms"),
        *([("briefing p50 / p95", f"{q['briefing_p50_ms']:.1f} / {q['briefing_p95_ms']:.1f} ms ({q['briefings']} open questions)")]
          if q.get("briefings") else []),
    ]
    rows += [(f"retrieval {m} ({r.get('retrieval_task', '')})", _quality(v)) for m, v in r["retrieval"].items()]
    rows += [(f"retrieval {m}, no rerank", _quality(v)) for m, v in r.get("retrieval_without_rerank", {}).items()]
    rows += [("peak RSS", f"{r['peak_rss_mb']:.0f} MB"), ("cold start (ask)", _cold(r))]
    if "vs_anchor" in r:
        a = r["vs_anchor"]
        rows += [
            ("anchor", a["anchor_pipeline"]),
            ("anchor ingest / chunks", f"{a['ingest_seconds']['anchor']:.1f} s / {a['chunks']['anchor']} chunks "
                                       f"(newsrag is {a['ingest_speedup']:.2f}x the anchor's speed)"),
            ("retrieval anchor dense", _quality(a["retrieval"])),
            ("anchor peak RSS", f"{a['peak_rss_mb']['anchor']:.0f} MB"),
        ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if any(arg == "--load" or arg.startswith("--load=") for arg in argv):  # a load test of a server: its own options
        from evals.load import main as load_main

        return load_main(argv)
    parser = argparse.ArgumentParser(prog="newsrag bench", description=__doc__.splitlines()[0])
    parser.add_argument("--load", metavar="CLIENTS", help="drive a server with concurrent clients instead: see `newsrag bench --load 1 --help`")
    parser.add_argument("--corpus", type=Path, help=f"the articles to measure on (default: ${CORPUS_ENV})")
    parser.add_argument("--limit", type=int, default=None, help="first N articles, round-robin over categories")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--questions", type=int, default=200, help="questions for the latency run")
    parser.add_argument("--top-k", type=int, default=10, help="chunks retrieved per headline, ours and the anchor's")
    parser.add_argument("--anchor", action="store_true", help="also run the llama-index anchor (evals/anchor.py)")
    parser.add_argument("--data-dir", type=Path, help="index folder (default: a temp dir)")
    parser.add_argument("--cold-runs", type=int, default=3,
                        help="fresh `newsrag ask` processes (and `import sentence_transformers` ones) to take the median of")
    parser.add_argument("--scale", help="the cost curve instead: synthetic article counts, e.g. 1000,4000 (evals/scale.py)")
    parser.add_argument("--scale-batch", type=int, default=250, help="files per ingest call in --scale (0: all at once)")
    args = parser.parse_args(argv)
    args.corpus = args.corpus or (Path(os.environ[CORPUS_ENV]) if os.environ.get(CORPUS_ENV) else None)
    if args.corpus is None:
        print(f"bench: no corpus given: pass --corpus PATH (a folder of .txt articles, e.g. the full BBC "
              f"corpus; evals/corpora/bbc is a small sample) or set {CORPUS_ENV}", file=sys.stderr)
        return 2
    if not args.corpus.is_dir():
        print(f"bench: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    if args.limit is not None and args.limit < 1 or min(args.top_k, args.questions, args.cold_runs) < 1:
        print("bench: --limit, --top-k, --questions and --cold-runs must be at least 1", file=sys.stderr)
        return 2
    if args.scale:
        return _scale(args)
    with tempfile.TemporaryDirectory(prefix="newsrag-bench-") as work:
        result = run(args.corpus.resolve(), args.limit, args.questions, args.data_dir, Path(work),
                     top_k=args.top_k, anchor=args.anchor, cold_runs=args.cold_runs)
    print(format_table(result))
    if args.json:
        write_json(args.json, result)
    return 0


def write_json(path: Path, result: dict[str, Any]) -> None:
    """A benchmark's results as indented JSON (bench, --load and --scale alike)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def _scale(args: argparse.Namespace) -> int:
    from evals.scale import format_scale, parse_sizes, run_scale

    result = run_scale(args.corpus.resolve(), parse_sizes(args.scale), batch=args.scale_batch, questions=args.questions,
                       top_k=args.top_k, seed=0, lead_sentences=4, partial=args.json)
    print(format_scale(result["scale"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
