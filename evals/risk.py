"""Risk-coverage: how right the answers shown are as fewer of them are shown.

Every lookup question is a point: shown or withheld ("the corpus does not say"), right or wrong (an
answer shown to a question the corpus cannot answer is wrong), and the answer's score (any number an
`Answer` dict carries that says how sure it is: the calibrator's probability, a confidence). Sorting
the answers shown by score and keeping the top k traces the precision of the answers shown against
the share of questions answered, from the surest answer to the run's own decision, its operating
point. An answer shown without a score (a rule decided it: a yes/no) is shown at every threshold,
so the curve starts from those. The decision's threshold moved down would answer more; to trace
that part, run with a lower one (`--compare default,answer-all`: each configuration is a curve of
its own, drawn side by side).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from evals.metrics import Record

# The Answer fields read as the per-answer score, first present wins (`--score` names another).
SCORE_FIELDS = ("probability", "confidence")


@dataclass(frozen=True)
class Point:
    score: float | None
    shown: bool
    right: bool


def answer_score(answer: dict[str, Any], fields: Iterable[str] = SCORE_FIELDS) -> tuple[str, float] | None:
    """(field, value) of the first numeric score the answer carries, or None."""
    for name in fields:
        value = answer.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return name, float(value)
    return None


def points(records: list[Record], fields: Iterable[str] = SCORE_FIELDS) -> tuple[list[Point], str | None]:
    """The lookup questions as points, and the name of the score field read (None: no answer had one)."""
    fields = tuple(fields)
    out: list[Point] = []
    field_used = None
    for r in records:
        if r.item.kind == "briefing":  # judged by its stories, not shown-or-withheld
            continue
        shown = not r.answer.get("abstained", True)
        found = answer_score(r.answer, fields)
        if found is not None:
            field_used = field_used or found[0]
        right = shown and r.item.answerable and bool(r.verdicts.get("correct"))
        out.append(Point(found[1] if found else None, shown, right))
    return out, field_used


def curve(pts: list[Point], score_field: str | None = None) -> dict[str, Any]:
    """The operating point (the run's decision) and, when answers carry a score, the curve up to it:
    one step per distinct score, surest first, with the score as the step's threshold; answers
    shown without a score are in every step."""
    n = len(pts)
    shown = [p for p in pts if p.shown]
    right = sum(p.right for p in shown)
    unscored = [p for p in shown if p.score is None]
    operating = {"coverage": _share(len(shown), n), "precision": _share(right, len(shown)),
                 "answered": len(shown), "right": right, "questions": n}
    result: dict[str, Any] = {"score": score_field, "operating_point": operating, "curve": [], "area": None,
                              "shown_without_score": len(unscored)}
    if len(unscored) == len(shown):
        return result
    k, hits = len(unscored), sum(p.right for p in unscored)
    steps = [{"threshold": None, "coverage": _share(k, n), "precision": _share(hits, k)}] if k else []
    ordered = sorted((p for p in shown if p.score is not None), key=lambda p: -p.score)  # type: ignore[operator]
    for i, p in enumerate(ordered):
        k, hits = k + 1, hits + p.right
        if i + 1 == len(ordered) or ordered[i + 1].score != p.score:  # ties are one step
            steps.append({"threshold": round(p.score, 6), "coverage": _share(k, n), "precision": _share(hits, k)})  # type: ignore[arg-type]
    result["curve"] = steps
    # Area under precision over coverage, up to the operating point: higher is better at equal coverage.
    result["area"] = round(sum((s["precision"] or 0.0) * (s["coverage"] - prev) for s, prev in
                               zip(steps, [0.0] + [s["coverage"] for s in steps])), 4)
    return result


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def risk_coverage(records: list[Record], fields: Iterable[str] = SCORE_FIELDS) -> dict[str, Any]:
    pts, used = points(records, fields)
    return curve(pts, used)


def plot(curves: dict[str, dict[str, Any]], title: str, path: Path) -> Path | None:
    """One PNG: each labelled curve and its operating point. None when matplotlib is not installed
    (the numbers are in report.json either way)."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, never a window
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=100)
    for i, (label, rc) in enumerate(curves.items()):
        color = f"C{i}"
        steps = rc["curve"]
        if steps:
            ax.plot([s["coverage"] for s in steps], [s["precision"] for s in steps], color=color, linewidth=1.2,
                    label=f"{label} ({rc['score']}; area {rc['area']})")
        op = rc["operating_point"]
        if op["coverage"] is not None and op["precision"] is not None:
            ax.plot([op["coverage"]], [op["precision"]], marker="o", markersize=8, color=color, linestyle="none",
                    label=f"{label} operating point: {op['right']}/{op['answered']} right, {op['coverage']:.0%} answered")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="share of questions answered (coverage)",
           ylabel="precision of the answers shown", title=title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # nothing answered: an empty frame, no legend
        ax.legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
