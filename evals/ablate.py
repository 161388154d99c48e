"""`python -m evals.ablate`: does each answering rule pay its way? Dev with the rule on and off.

Each rule below is a check in `rag/answering` that can veto a reading or a sentence. Switched off,
it says "fine" to everything (the neutral verdict), and every dev lookup (external and in-house)
is asked again through `rag.Assistant` and judged as `python -m evals` judges it. A rule pays when
turning it off costs dev correctness or abstention somewhere and gains nothing of the same size
elsewhere; a rule that helps our own gold and costs external dev is fitted to our style.

Only the dev split is read. Indexes and corpus copies are kept in .evals/ablate/ between runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from argparse import Namespace
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from unittest import mock

from evals.metrics import summarize
from evals.scoring import GoldItem, load_gold

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / ".evals" / "ablate"
CORPORA = ("external", "bbc", "seeds", "dated")


@dataclass(frozen=True)
class Rule:
    name: str
    targets: tuple[str, ...]  # "module:function" at each place the rule is used
    neutral: Callable[..., Any]  # what it says when switched off
    does: str


def _yes(*args: Any, **kwargs: Any) -> bool:
    return True


def _none(*args: Any, **kwargs: Any) -> None:
    return None


RULES = (
    Rule("span-fits", ("rag.answering.reading:span_fits",), _yes,
         "the reader's span is the kind asked for (a number for 'how many', a new name for 'who')"),
    Rule("role-agrees", ("rag.answering.reading:role_agrees",), _yes,
         "the title in front of a name is the role asked about"),
    Rule("counted-agrees", ("rag.answering.reading:counted_agrees",), _yes,
         "the noun after a number is the thing counted"),
    Rule("asked-share", ("rag.answering.reading:asked_share_instead",), _none,
         "the share of the population asked about, not the one compared with"),
    Rule("names-near-reading", ("rag.answering.reading:names_covered",), _yes,
         "the question's names are near the reader's sentence"),
    Rule("holds-kind", ("rag.answering.extractive:holds_kind",), _yes,
         "an answering sentence holds the kind of thing asked for"),
    Rule("adds-something", ("rag.answering.extractive:adds_something",), _yes,
         "an answering sentence says more than the question"),
    Rule("names-near-sentence", ("rag.answering.extractive:names_covered",), _yes,
         "the question's names are near an answering sentence"),
)


def parse_args(argv: list[str] | None) -> Namespace:
    p = argparse.ArgumentParser(prog="python -m evals.ablate", description=__doc__.split("\n")[0])
    p.add_argument("--rules", nargs="+", default=[r.name for r in RULES], help="rules to switch off, one at a time")
    p.add_argument("--corpora", nargs="+", default=list(CORPORA), help="dev corpora to ask")
    p.add_argument("--out", type=Path, default=CACHE / "report.json", help="where the figures go (JSON)")
    return p.parse_args(argv)


def switched_off(rule: Rule) -> ExitStack:
    stack = ExitStack()
    for target in rule.targets:
        module, name = target.split(":")
        stack.enter_context(mock.patch(f"{module}.{name}", rule.neutral))
    return stack


def figures(records: list[Any]) -> dict[str, float | None]:
    """The dev figures a rule is judged by (lookups only: briefings never read a span)."""
    s = summarize(records)
    answers, news = s["answers"], s["news"]
    return {"correctness": answers["correctness"], "abstention": answers["abstention_accuracy"],
            "direct_precision": news["direct_precision"], "questions": s["questions"]}


def run(corpora: list[str], rules: list[Rule]) -> dict[str, dict[str, dict[str, float | None]]]:
    """{corpus: {"(all on)" | rule name: figures}}."""
    from evals.__main__ import build_assistant, corpus_folder, evaluate

    args = Namespace(data_dir=CACHE, split="dev", embedding_backend=None, corpus=None)
    result: dict[str, dict[str, dict[str, float | None]]] = {}
    for name in corpora:
        items: list[GoldItem] = [i for i in load_gold(HERE / "gold" / "dev" / f"{name}.jsonl") if i.kind != "briefing"]
        assistant = build_assistant(args, corpus_folder(name, args, CACHE), CACHE / "data" / name, {})
        result[name] = {"(all on)": figures(evaluate(assistant, items, "extractive"))}
        print(f"ablate {name}: all on {result[name]['(all on)']}", file=sys.stderr, flush=True)
        for rule in rules:
            with switched_off(rule):
                result[name][rule.name] = figures(evaluate(assistant, items, "extractive"))
            print(f"ablate {name}: without {rule.name} {result[name][rule.name]}", file=sys.stderr, flush=True)
    return result


def table(result: dict[str, dict[str, dict[str, float | None]]]) -> str:
    """One line per rule: each corpus's change in correctness / abstention when it is off."""
    corpora = list(result)
    lines = [f"{'switched off':22}" + "".join(f"{c:>24}" for c in corpora), f"{'':22}" + "".join(f"{'corr   abst   dprec':>24}" for _ in corpora)]
    base = {c: result[c]["(all on)"] for c in corpora}
    for rule in next(iter(result.values())):
        cells = []
        for c in corpora:
            f = result[c][rule]
            ref = base[c] if rule != "(all on)" else {k: 0.0 for k in f}
            cells.append("".join(f"{_delta(f[k], ref[k], rule == '(all on)'):>7}" for k in ("correctness", "abstention", "direct_precision")))
        lines.append(f"{rule:22}" + "".join(f"{cell:>24}" for cell in cells))
    return "\n".join(lines)


def _delta(value: float | None, ref: float | None, absolute: bool) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if absolute else f"{value - (ref or 0.0):+.3f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    by_name = {r.name: r for r in RULES}
    unknown = [n for n in args.rules if n not in by_name]
    if unknown:
        print(f"ablate: unknown rules {', '.join(unknown)} (one of {', '.join(by_name)})", file=sys.stderr)
        return 2
    result = run(args.corpora, [by_name[n] for n in args.rules])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
