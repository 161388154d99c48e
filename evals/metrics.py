"""Deterministic metrics over evaluated answers: retrieval, answers, citations, latency."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import quantiles
from typing import Any, Callable

from evals.scoring import GoldItem


@dataclass
class Record:
    item: GoldItem
    answer: dict[str, Any]
    quotes_valid: bool
    verdicts: dict[str, Any] = field(default_factory=dict)


def judge(item: GoldItem, answer: dict[str, Any], quotes_valid: bool) -> Record:
    """Per-question verdicts; metrics are averages of these."""
    gold = set(item.sources)
    retrieved = answer["retrieved_sources"]
    cited = {c["source"] for c in answer["citations"]}
    rank = next((i for i, s in enumerate(retrieved, start=1) if s in gold), None)
    v: dict[str, Any] = {"abstained": answer["abstained"], "latency_s": answer["timings"].get("total_s", 0.0)}
    if item.answerable:
        v.update(
            correct=(not answer["abstained"]) and item.is_correct(answer["text"]),
            hit_at_1=rank == 1,
            hit_at_3=rank is not None and rank <= 3,
            hit_at_k=rank is not None,
            reciprocal_rank=1.0 / rank if rank else 0.0,
            context_precision=(len(gold & set(retrieved)) / len(set(retrieved))) if retrieved else 0.0,
        )
        if not answer["abstained"]:
            v.update(
                citation_precision=(len(cited & gold) / len(cited)) if cited else 0.0,
                citation_coverage=bool(cited & gold),
            )
    else:
        v["correct"] = answer["abstained"]
    v["quotes_valid"] = quotes_valid
    return Record(item, answer, quotes_valid, v)


def _mean(records: list[Record], key: str, where: Callable[[Record], bool] = lambda r: True) -> float | None:
    values = [float(r.verdicts[key]) for r in records if key in r.verdicts and where(r)]
    return round(sum(values) / len(values), 4) if values else None


def _percentile(values: list[float], q: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0] * 1000, 1)
    return round(quantiles(values, n=100, method="inclusive")[q - 1] * 1000, 1)


def summarize(records: list[Record]) -> dict[str, Any]:
    answerable = lambda r: r.item.answerable  # noqa: E731
    unanswerable = lambda r: not r.item.answerable  # noqa: E731
    latencies = [r.verdicts["latency_s"] for r in records]
    return {
        "questions": len(records),
        "answerable": sum(1 for r in records if r.item.answerable),
        "retrieval": {
            "hit@1": _mean(records, "hit_at_1", answerable),
            "hit@3": _mean(records, "hit_at_3", answerable),
            "hit@k": _mean(records, "hit_at_k", answerable),
            "mrr": _mean(records, "reciprocal_rank", answerable),
            "context_precision": _mean(records, "context_precision", answerable),
        },
        "answers": {
            "correctness": _mean(records, "correct", answerable),
            "abstention_accuracy": _mean(records, "correct", unanswerable),
            "false_abstention_rate": _mean(records, "abstained", answerable),
            "overall_accuracy": _mean(records, "correct"),
        },
        "citations": {
            "precision": _mean(records, "citation_precision", answerable),
            "coverage": _mean(records, "citation_coverage", answerable),
            "quote_validity": _mean(records, "quotes_valid"),
        },
        "latency_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
    }


def by_kind(records: list[Record]) -> dict[str, dict[str, Any]]:
    kinds: dict[str, list[Record]] = {}
    for r in records:
        kinds.setdefault(r.item.kind, []).append(r)
    out = {}
    for kind, rs in sorted(kinds.items()):
        lat = [r.verdicts["latency_s"] for r in rs]
        out[kind] = {
            "n": len(rs),
            "accuracy": _mean(rs, "correct"),
            "hit@k": _mean(rs, "hit_at_k", lambda r: r.item.answerable),
            "latency_p50_ms": _percentile(lat, 50),
            "latency_p95_ms": _percentile(lat, 95),
        }
    return out


def flatten(summary: dict[str, Any]) -> dict[str, float]:
    """{'answers.correctness': 0.9, ...}: the names thresholds.toml uses."""
    flat = {}
    for group, values in summary.items():
        if isinstance(values, dict):
            for key, value in values.items():
                if value is not None:
                    flat[f"{group}.{key}"] = value
    return flat


def check_thresholds(flat: dict[str, float], thresholds: dict[str, dict[str, float]]) -> list[str]:
    """Failures as readable lines; `min` thresholds are floors, `max` are ceilings."""
    failures = []
    for name, floor in thresholds.get("min", {}).items():
        if name not in flat:
            failures.append(f"{name}: not measured (threshold {floor})")
        elif flat[name] < floor:
            failures.append(f"{name} = {flat[name]} is below its threshold {floor}")
    for name, ceiling in thresholds.get("max", {}).items():
        if name in flat and flat[name] > ceiling:
            failures.append(f"{name} = {flat[name]} is above its ceiling {ceiling}")
    return failures
