"""`python -m evals`: run the gold set through `rag.Assistant`, print and write metrics, and exit
non-zero when a metric falls below its threshold in evals/thresholds.toml."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from evals.metrics import Record, by_kind, check_thresholds, flatten, judge, summarize
from evals.scoring import GoldFileError, GoldItem, load_gold

HERE = Path(__file__).resolve().parent
DEFAULT_GOLD = HERE / "gold" / "seeds.jsonl"
DEFAULT_CORPUS = HERE.parent / "seeds"
THRESHOLDS = HERE / "thresholds.toml"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    p.add_argument("--gold", nargs="+", type=Path, default=[DEFAULT_GOLD], help="gold JSONL files")
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the articles the gold set is about")
    p.add_argument("--out", type=Path, default=Path(".evals/latest"), help="report folder")
    p.add_argument("--data-dir", type=Path, help="reuse this index folder (default: a temporary one)")
    p.add_argument("--mode", choices=["extractive", "llm"], default="extractive")
    p.add_argument("--retriever", choices=["hybrid", "dense", "bm25"], default="hybrid")
    p.add_argument("--compare", metavar="A,B", help="two retrievers side by side, e.g. hybrid,dense")
    p.add_argument("--embedding-backend", choices=["sentence-transformers", "hashing"], default=None)
    p.add_argument("--thresholds", type=Path, default=THRESHOLDS)
    p.add_argument("--no-thresholds", action="store_true", help="report only; always exit 0")
    return p.parse_args(argv)


def quotes_valid(answer: dict[str, Any], texts: dict[str, str]) -> bool:
    return all(texts.get(c["source"], "")[c["start"]:c["end"]] == c["quote"] for c in answer["citations"])


def evaluate(assistant, items: list[GoldItem], mode: str, retriever: str) -> list[Record]:
    assistant.settings = assistant.settings.model_copy(update={"retriever": retriever})
    texts = {d["source"]: assistant.article(d["source"])["text"] for d in assistant.documents()}
    assistant.ask("warm up", mode="extractive")  # latency is measured warm
    records = []
    for item in items:
        answer = assistant.ask(item.question, history=item.history_dicts(), mode=mode).to_dict()
        records.append(judge(item, answer, quotes_valid(answer, texts)))
    return records


def table(summary: dict[str, Any], kinds: dict[str, dict[str, Any]]) -> str:
    lines = []
    for group in ("retrieval", "answers", "citations", "latency_ms"):
        cells = ", ".join(f"{k} {v}" for k, v in summary[group].items())
        lines.append(f"{group:10} {cells}")
    lines.append("")
    lines.append(f"{'kind':16}{'n':>4}{'accuracy':>10}{'hit@k':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for kind, row in kinds.items():
        hit = "-" if row["hit@k"] is None else f"{row['hit@k']:.2f}"
        lines.append(f"{kind:16}{row['n']:>4}{row['accuracy']:>10.2f}{hit:>8}{row['latency_p50_ms']:>9}{row['latency_p95_ms']:>9}")
    return "\n".join(lines)


def write_reports(out: Path, summary: dict, kinds: dict, records: list[Record], failures: list[str], config: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    report = {"config": config, "summary": summary, "by_kind": kinds, "failures": failures}
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    with open(out / "answers.jsonl", "w", encoding="utf-8") as handle:
        for r in records:
            handle.write(json.dumps({"id": r.item.id, "question": r.item.question, "answer": r.answer,
                                     "verdicts": r.verdicts}, ensure_ascii=False) + "\n")
    wrong = [r for r in records if not r.verdicts["correct"]]
    md = [f"# newsrag evals ({config['mode']}, {config['retriever']})", "", "```", table(summary, kinds), "```", ""]
    md += ["## Failed thresholds", ""] + ([f"- {f}" for f in failures] or ["none"]) + ["", "## Wrong answers", ""]
    for r in wrong:
        md.append(f"- **{r.item.id}** ({r.item.kind}): {r.item.question}\n  - got: {r.answer['text'][:300]}")
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")


def build_assistant(args: argparse.Namespace, data_dir: Path):
    from rag.assistant import Assistant
    from rag.settings import Settings

    overrides: dict[str, Any] = {"data_dir": data_dir, "corpus_dir": args.corpus}
    if args.embedding_backend:
        overrides["embedding_backend"] = args.embedding_backend
    assistant = Assistant(Settings(**overrides))
    assistant.ingest(progress=False)
    return assistant


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        items = [item for path in args.gold for item in load_gold(path)]
        thresholds = tomllib.loads(args.thresholds.read_text(encoding="utf-8"))
    except (GoldFileError, OSError, tomllib.TOMLDecodeError) as exc:
        print(f"evals: {exc}", file=sys.stderr)
        return 2
    retrievers = args.compare.split(",") if args.compare else [args.retriever]
    with tempfile.TemporaryDirectory(prefix="newsrag-evals-") as tmp:
        assistant = build_assistant(args, args.data_dir or Path(tmp) / "data")
        results = {}
        for retriever in retrievers:
            records = evaluate(assistant, items, args.mode, retriever)
            summary, kinds = summarize(records), by_kind(records)
            # thresholds.toml was measured for one configuration; other runs are reports only.
            gated = not args.no_thresholds and args.mode == "extractive" and retriever == "hybrid"
            failures = check_thresholds(flatten(summary), thresholds) if gated else []
            config = {"mode": args.mode, "retriever": retriever, "gold": [str(g) for g in args.gold],
                      "embedding": assistant.embedder.name}
            out = args.out / retriever if len(retrievers) > 1 else args.out
            write_reports(out, summary, kinds, records, failures, config)
            results[retriever] = (flatten(summary), failures)
            print(f"== {args.mode} / {retriever}: {len(items)} questions ==")
            print(table(summary, kinds))
            print(f"reports in {out}")
    if len(retrievers) == 2:
        (a, (fa, _)), (b, (fb, _)) = results.items()
        print(f"\n{'metric':32}{a:>10}{b:>10}{'diff':>10}")
        for name in fa:
            if name in fb:
                print(f"{name:32}{fa[name]:>10}{fb[name]:>10}{round(fa[name] - fb[name], 4):>10}")
    failures = [f"[{r}] {f}" for r, (_, fs) in results.items() for f in fs]
    if failures:
        print("\nFAILED thresholds:\n  " + "\n  ".join(failures))
        return 1
    print("\nall thresholds met" if not args.no_thresholds else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
