"""`python -m evals`: run a gold split through `rag.Assistant`, print and write metrics per corpus,
and exit non-zero when a gated metric misses its threshold in evals/thresholds.toml."""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from evals.corpora import CorpusError, prepare
from evals.metrics import Record, by_kind, check_thresholds, flatten, judge, summarize
from evals.risk import SCORE_FIELDS, plot, risk_coverage
from evals.scoring import GoldFileError, GoldItem, load_gold
from rag.answering.calibrator import HAND_SET, WEIGHTS
from rag.progress import Bar, progress_bar

HERE = Path(__file__).resolve().parent
GOLD_DIR = HERE / "gold"
THRESHOLDS = HERE / "thresholds.toml"
# Named configurations for --compare: Settings overrides on top of the defaults.
VARIANTS: dict[str, dict[str, Any]] = {
    "hybrid": {"retriever": "hybrid"},
    "dense": {"retriever": "dense"},
    "bm25": {"retriever": "bm25"},
    "rerank": {"rerank": True},
    "no-rerank": {"rerank": False},
    "reader": {"reader": True},
    "no-reader": {"reader": False},  # the rule-based answerer the reader replaced, for comparison
    # Answer-or-abstain decisions: the learned calibrator (opt-in), the hand-set sum (the default),
    # and every reading answered (the risk-coverage curve past the operating point).
    "calibrated": {"reader_calibrator": str(WEIGHTS)},
    "hand-set": {"reader_calibrator": str(HAND_SET)},
    "answer-all": {"reader_min_probability": 0.0},
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    p.add_argument("--split", choices=["dev", "test"], default="test",
                   help="gold split: tune on dev; test gates CI and is never tuned on (default test)")
    p.add_argument("--only", metavar="CORPUS[,CORPUS]", help="run only these corpora of the split (e.g. external)")
    p.add_argument("--gold", nargs="+", type=Path, help="your own gold JSONL files instead of a split")
    p.add_argument("--corpus", type=Path, help="the articles --gold is about (default: the seed articles)")
    p.add_argument("--out", type=Path, default=Path(".evals/latest"), help="report folder")
    p.add_argument("--data-dir", type=Path, help="reuse this index folder (default: a temporary one)")
    p.add_argument("--mode", choices=["extractive", "llm"], default="extractive")
    p.add_argument("--retriever", choices=["hybrid", "dense", "bm25"], default=None,
                   help="retriever (default: the Settings default)")
    p.add_argument("--compare", metavar="A,B", help=f"configurations side by side, from {', '.join(VARIANTS)}")
    p.add_argument("--embedding-backend", choices=["onnx-bge-small", "onnx-minilm", "sentence-transformers", "hashing"], default=None)
    p.add_argument("--score", metavar="FIELD[,FIELD]", default=",".join(SCORE_FIELDS),
                   help="the Answer field(s) read as each answer's score for the risk-coverage curve, first present "
                        f"wins (default {','.join(SCORE_FIELDS)})")
    p.add_argument("--thresholds", type=Path, default=THRESHOLDS)
    p.add_argument("--no-thresholds", action="store_true", help="report only; always exit 0")
    return p.parse_args(argv)


def gold_sets(args: argparse.Namespace) -> dict[str, list[GoldItem]]:
    """Corpus name -> its gold items; a split's file stem names the corpus."""
    if args.gold:
        return {"custom": [item for path in args.gold for item in load_gold(path)]}
    files = sorted((GOLD_DIR / args.split).glob("*.jsonl"))
    if not files:
        raise GoldFileError(GOLD_DIR / args.split, None, "no gold files in this split")
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {path.stem for path in files}
        if unknown:
            raise GoldFileError(GOLD_DIR / args.split, None, f"no corpus named {', '.join(sorted(unknown))} in this split "
                                f"(one of {', '.join(path.stem for path in files)})")
        files = [path for path in files if path.stem in wanted]
    return {path.stem: load_gold(path) for path in files}


def corpus_folder(name: str, args: argparse.Namespace, workdir: Path) -> Path:
    # With --data-dir the copies must keep their paths between runs: a document is its absolute
    # path, so a fresh temp copy would sit beside the last run's documents instead of updating them.
    home = args.data_dir / "corpora" / args.split if args.data_dir else workdir
    if name == "custom":
        return args.corpus or prepare("seeds", home)
    return prepare(name, home, args.split)


def quotes_valid(answer: dict[str, Any], texts: dict[str, str]) -> bool:
    return all(texts.get(c["source"], "")[c["start"]:c["end"]] == c["quote"] for c in answer["citations"])


def _unsupported(item: GoldItem, missing: set[str]) -> dict[str, Any]:
    """The record of a question the system could not be asked (its API lacks a filter argument)."""
    return {"question": item.question, "text": "", "direct": None, "time_range": None, "citations": [],
            "abstained": False, "retrieved_sources": [], "timings": {},
            "error": f"Assistant.ask does not accept {', '.join(sorted(missing))}"}


def on_terminal() -> bool:
    """Progress is drawn only for a person watching: quiet when output goes to a log (CI) or a pipe."""
    return sys.stdout.isatty() and sys.stderr.isatty()


def evaluate(assistant, items: list[GoldItem], mode: str, progress: Bar | None = None) -> list[Record]:
    """Every item asked and judged; `progress` (a bar) advances one per question."""
    texts = {d["source"]: assistant.article(d["source"])["text"] for d in assistant.documents()}
    accepted = set(inspect.signature(assistant.ask).parameters)
    assistant.ask("warm up", mode="extractive")  # latency is measured warm
    # Briefing recall counts at most the stories a briefing shows (any Assistant-like API may be graded).
    max_stories = getattr(getattr(assistant, "settings", None), "briefing_max_stories", None)
    records = []
    for item in items:
        kwargs = item.filter_kwargs()
        missing = set(kwargs) - accepted
        if missing:
            answer = _unsupported(item, missing)
        else:
            answer = assistant.ask(item.question, history=item.history_dicts(), mode=mode, **kwargs).to_dict()
        records.append(judge(item, answer, quotes_valid(answer, texts), max_stories))
        if progress is not None:
            progress.update(1)
    return records


def build_assistant(args: argparse.Namespace, folder: Path, data_dir: Path, overrides: dict[str, Any], progress: bool = False):
    from rag.assistant import Assistant
    from rag.settings import Settings

    unknown = set(overrides) - set(Settings.flat_fields())
    if unknown:
        raise CorpusError(f"Settings has no field {', '.join(sorted(unknown))} yet: this comparison cannot run")
    settings: dict[str, Any] = {"data_dir": data_dir, "corpus_dir": folder, **overrides}
    if args.embedding_backend:
        settings["embedding_backend"] = args.embedding_backend
    assistant = Assistant(Settings(**settings))
    assistant.ingest(progress=progress)  # ingest draws its bar only on a terminal
    return assistant


def thresholds_for(thresholds: dict[str, Any], split: str, corpus: str) -> tuple[dict[str, Any], bool]:
    """(the [min]/[max] tables for this split and corpus, whether they gate the run).
    A file with top-level [min]/[max] applies them to every corpus."""
    if "min" in thresholds or "max" in thresholds:
        return thresholds, bool(thresholds.get("gate", True))
    entry = thresholds.get(split, {}).get(corpus, {})
    return entry, bool(entry.get("gate", True))


def is_default(overrides: dict[str, Any]) -> bool:
    """Thresholds were set for the default configuration; other configurations are reports only."""
    from rag.settings import Settings

    defaults = Settings.flat_fields()
    return all(name in defaults and defaults[name].default == value for name, value in overrides.items())


def table(summary: dict[str, Any], kinds: dict[str, dict[str, Any]]) -> str:
    lines = []
    for group in ("retrieval", "answers", "citations", "news", "briefing", "latency_ms"):
        cells = ", ".join(f"{k} {v}" for k, v in summary[group].items() if v is not None)
        lines.append(f"{group:10} {cells or '-'}")
    lines.append("")
    lines.append(f"{'kind':16}{'n':>4}{'accuracy':>10}{'direct':>8}{'hit@k':>8}{'p50 ms':>9}{'p95 ms':>9}")
    fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for kind, row in kinds.items():
        lines.append(f"{kind:16}{row['n']:>4}{fmt(row['accuracy']):>10}{fmt(row['direct_accuracy']):>8}"
                     f"{fmt(row['hit@k']):>8}{row['latency_p50_ms']:>9}{row['latency_p95_ms']:>9}")
    return "\n".join(lines)


def write_reports(out: Path, results: dict[str, dict[str, Any]], records: list[Record], config: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, res in results.items():
        png = plot({config["variant"]: res["risk_coverage"]}, f"{name} ({config['split']})" if config["split"] else name,
                   out / "risk-coverage" / f"{name}.png")
        res["risk_coverage"]["png"] = png.relative_to(out).as_posix() if png else None
    overall = {"summary": summarize(records), "by_kind": by_kind(records)}
    report = {"config": config, **overall, "corpora": results}
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    with open(out / "answers.jsonl", "w", encoding="utf-8") as handle:
        for r in records:
            handle.write(json.dumps({"id": r.item.id, "corpus": r.corpus, "question": r.item.question,
                                     "answer": r.answer, "verdicts": r.verdicts}, ensure_ascii=False) + "\n")
    md = [f"# newsrag evals ({config['split']}, {config['mode']}, {config['variant']})", ""]
    for name, res in results.items():
        md += [f"## {name}{'' if res['gated'] else ' (reporting only)'}", "", "```",
               table(res["summary"], res["by_kind"]), "```", "", "Failed thresholds:", ""]
        md += [f"- {f}" for f in res["failures"]] or ["- none"]
        md += ["", "Targets not met (reported, not gating):", ""]
        md += [f"- {f}" for f in res.get("targets_missed", [])] or ["- none"]
        md.append("")
    md += risk_markdown(results)
    md += ["## Wrong answers", ""]
    for r in records:
        if not r.verdicts["correct"] or r.verdicts.get("direct_correct") is False:
            got = r.answer.get("error") or r.answer["text"][:300]
            md.append(f"- **{r.corpus}/{r.item.id}** ({r.item.kind}): {r.item.question}\n  - got: {got}"
                      f"\n  - direct: {r.answer.get('direct')!r} (gold {r.item.direct!r})")
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")


def risk_markdown(results: dict[str, dict[str, Any]]) -> list[str]:
    md = ["## Risk-coverage", "", "Precision of the answers shown against the share of questions answered, surest "
          "answer first, up to the run's decision (its operating point).", ""]
    for name, res in results.items():
        rc = res["risk_coverage"]
        op = rc["operating_point"]
        md.append(f"- **{name}**: operating point {op['answered']} of {op['questions']} answered "
                  f"(coverage {op['coverage']}), {op['right']} right (precision {op['precision']}); "
                  + (f"{len(rc['curve'])} steps by `{rc['score']}`, area {rc['area']}" if rc["curve"]
                     else "no curve: the answers carry no score"))
        if rc.get("png"):
            md.append(f"\n  ![{name}]({rc['png']})")
    return md + [""]


def corpus_result(name: str, records: list[Record], args, thresholds, gated_run: bool) -> dict[str, Any]:
    """One corpus's summary, by-kind table, risk-coverage curve, missed floors and missed targets."""
    summary, kinds = summarize(records), by_kind(records)
    limits, gate = thresholds_for(thresholds, args.split, name)
    missed = check_thresholds(flatten(summary), limits) if gated_run else []
    # Targets (an issue's acceptance numbers) are reported beside the gating floors, never hidden.
    targets = {"min": limits.get("target_min", {}), "max": limits.get("target_max", {})}
    short = check_thresholds(flatten(summary), targets) if gated_run else []
    return {"summary": summary, "by_kind": kinds, "failures": missed, "gated": gate, "targets_missed": short,
            "risk_coverage": risk_coverage(records, args.score.split(","))}


def run_variant(
    args, sets, thresholds, variant: str, overrides: dict[str, Any], workdir: Path
) -> tuple[list[str], dict[str, float], dict[str, dict[str, Any]]]:
    """Evaluate every corpus under one configuration: (gating failures, metrics over all corpora,
    each corpus's risk-coverage curve)."""
    gated_run = not args.no_thresholds and args.mode == "extractive" and is_default(overrides)
    results: dict[str, dict[str, Any]] = {}
    all_records: list[Record] = []
    failures: list[str] = []
    embedding = None
    for name, items in sets.items():
        data_dir = (args.data_dir or workdir / "data") / name
        show = on_terminal()
        label = f"{args.split if not args.gold else 'gold'}/{name}"
        if show:  # loading the models and ingesting come before the first question
            print(f"{label}: loading the models and ingesting the corpus, then {len(items)} questions", file=sys.stderr, flush=True)
        assistant = build_assistant(args, corpus_folder(name, args, workdir), data_dir, overrides, progress=show)
        embedding = assistant.embedder.name
        bar = progress_bar(len(items), show, desc=label, unit="q")
        try:
            records = evaluate(assistant, items, args.mode, bar)
        finally:
            bar.close()
        for r in records:
            r.corpus = name
        results[name] = res = corpus_result(name, records, args, thresholds, gated_run)
        missed, short, gate = res["failures"], res["targets_missed"], res["gated"]
        failures += [f"[{variant}/{name}] {f}" for f in missed if gate]
        all_records += records
        print(f"== {args.split} / {name} / {args.mode} / {variant}: {len(items)} questions ==")
        print(table(res["summary"], res["by_kind"]))
        if missed and not gate:
            print("reporting-only thresholds missed:\n  " + "\n  ".join(missed))
        if short:
            print("TARGETS NOT MET (reported, not gating):\n  " + "\n  ".join(short))
        print(risk_line(res["risk_coverage"]))
    config = {"split": None if args.gold else args.split, "mode": args.mode, "variant": variant,
              "overrides": overrides, "gold": [str(g) for g in args.gold] if args.gold else None,
              "embedding": embedding}
    out = args.out / variant if args.compare else args.out
    write_reports(out, results, all_records, config)
    print(f"reports in {out}")
    return failures, flatten(summarize(all_records)), {name: res["risk_coverage"] for name, res in results.items()}


def risk_line(rc: dict[str, Any]) -> str:
    op = rc["operating_point"]
    curve = (f"curve by {rc['score']}: {len(rc['curve'])} steps, area {rc['area']}" if rc["curve"]
             else "no curve (the answers carry no score)")
    return f"risk-coverage: answered {op['coverage']}, precision {op['precision']}; {curve}"


def compare_curves(out: Path, split: str | None, curves: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Each corpus's curves of both configurations in one PNG, their operating points side by side."""
    corpora = [name for name in next(iter(curves.values())) if all(name in c for c in curves.values())]
    print(f"\n{'risk-coverage operating point':36}" + "".join(f"{v:>24}" for v in curves))
    for name in corpora:
        cells = [curves[v][name]["operating_point"] for v in curves]
        print(f"{name:36}" + "".join(f"{str(c['coverage']) + ' / ' + str(c['precision']):>24}" for c in cells))
        plot({v: curves[v][name] for v in curves}, f"{name} ({split})" if split else name, out / "risk-coverage" / f"{name}.png")
    print(f"(coverage / precision of the answers shown; side-by-side curves in {out / 'risk-coverage'})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    variants = args.compare.split(",") if args.compare else ["default"]
    unknown = [v for v in variants if v not in VARIANTS and v != "default"]
    if unknown:
        print(f"evals: unknown configuration {', '.join(unknown)} (one of {', '.join(VARIANTS)})", file=sys.stderr)
        return 2
    try:
        sets = gold_sets(args)
        thresholds = tomllib.loads(args.thresholds.read_text(encoding="utf-8"))
    except (GoldFileError, OSError, tomllib.TOMLDecodeError) as exc:
        print(f"evals: {exc}", file=sys.stderr)
        return 2
    failures: list[str] = []
    flats: dict[str, dict[str, float]] = {}
    curves: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="newsrag-evals-") as tmp:
            for variant in variants:
                overrides = dict(VARIANTS.get(variant, {}))
                if args.retriever and "retriever" not in overrides:
                    overrides["retriever"] = args.retriever
                missed, flats[variant], curves[variant] = run_variant(args, sets, thresholds, variant, overrides, Path(tmp))
                failures += missed
    except CorpusError as exc:
        print(f"evals: {exc}", file=sys.stderr)
        return 2
    if len(variants) == 2:
        (a, fa), (b, fb) = flats.items()
        print(f"\n{'metric (all corpora)':36}{a:>10}{b:>10}{'diff':>10}")
        for name in fa:
            if name in fb:
                print(f"{name:36}{fa[name]:>10}{fb[name]:>10}{round(fa[name] - fb[name], 4):>10}")
        compare_curves(args.out, None if args.gold else args.split, curves)
    if failures:
        print("\nFAILED thresholds:\n  " + "\n  ".join(failures))
        return 1
    if not args.no_thresholds:
        print("\nall gated thresholds met" if args.gold or args.split == "test" else "\ndev split: reported, nothing gates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
