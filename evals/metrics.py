"""Deterministic metrics over evaluated answers: retrieval, answers, citations, news features, latency."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import quantiles
from typing import Any, Callable

from evals.scoring import GoldItem, as_iso_date, direct_matches


@dataclass
class Record:
    item: GoldItem
    answer: dict[str, Any]
    quotes_valid: bool
    verdicts: dict[str, Any] = field(default_factory=dict)
    corpus: str = ""


def judge(item: GoldItem, answer: dict[str, Any], quotes_valid: bool, max_stories: int | None = None) -> Record:
    """Per-question verdicts; metrics are averages of these. `max_stories`: the most stories a
    briefing shows (story recall cannot ask for more)."""
    if item.kind == "briefing":
        return Record(item, answer, quotes_valid, _briefing_verdicts(item, answer, quotes_valid, max_stories))
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
    v.update(_news_verdicts(item, answer))
    return Record(item, answer, quotes_valid, v)


def _briefing_verdicts(item: GoldItem, answer: dict[str, Any], quotes_valid: bool, max_stories: int | None) -> dict[str, Any]:
    """Story recall (the stories it must show that it shows), story precision (its items about the
    topic and in range), order (as promised, undated last) and one item per wire group."""
    v: dict[str, Any] = {"abstained": answer["abstained"], "latency_s": answer["timings"].get("total_s", 0.0),
                         "quotes_valid": quotes_valid}
    items = answer.get("items") or []
    if not item.answerable:
        v["correct"] = answer["abstained"]
        return v
    shown = [{i["source"], *i.get("also_in", [])} for i in items]
    story_of = {s: frozenset(g) for g in item.story_groups for s in g}
    wanted = {story_of.get(s, frozenset([s])) for s in item.sources}
    allowed = set(item.sources) | set(item.acceptable) | {s for g in item.story_groups for s in g}
    covered = sum(1 for story in wanted if any(story & copies for copies in shown))
    v["correct"] = (not answer["abstained"]) and answer.get("kind") == "briefing" and bool(items)
    v["story_recall"] = covered / min(len(wanted), max_stories or len(wanted)) if v["correct"] else 0.0
    if items:
        v["story_precision"] = sum(1 for copies in shown if copies & allowed) / len(items)
        stories = [story_of.get(i["source"], frozenset([i["source"]])) for i in items]
        v["one_item_per_story"] = len(set(stories)) == len(stories)
        if item.order:
            v["order_correct"] = _in_order([i.get("published") for i in items], item.order == "newest")
    return v


def _in_order(dates: list[str | None], newest_first: bool) -> bool:
    """Dated items sorted as promised, then the undated ones."""
    dated = [d for d in dates if d]
    undated_from = next((i for i, d in enumerate(dates) if not d), len(dates))
    return all(not d for d in dates[undated_from:]) and dated == sorted(dated, reverse=newest_first)


def _within(citation: dict[str, Any], allowed: set[str] | None, since: str | None, until: str | None) -> bool:
    """A citation respects a restriction when its source is allowed and its article date is in range;
    an undated article is outside any date range."""
    if allowed is not None and citation["source"] not in allowed:
        return False
    if since is None and until is None:
        return True
    published = citation.get("published")
    return bool(published) and (since is None or published >= since) and (until is None or published <= until)


def _news_verdicts(item: GoldItem, answer: dict[str, Any]) -> dict[str, Any]:
    """Direct answers, date ranges read from the question, wire copies, restrictions respected."""
    v: dict[str, Any] = {}
    if item.direct is not None:
        v["direct_correct"] = (not answer["abstained"]) and direct_matches(answer.get("direct"), item.direct)
        # Bold answers are judged where they are shown: a wrong one in bold costs more trust than none.
        v["direct_shown"] = (not answer["abstained"]) and bool((answer.get("direct") or "").strip())
    elif not item.answerable:
        # A bold answer to a question the corpus cannot answer is shown and wrong: precision
        # counts it (direct accuracy and coverage, over questions with a gold answer, do not).
        v["direct_shown_unanswerable"] = (not answer["abstained"]) and bool((answer.get("direct") or "").strip())
    expected = dict(item.expect_time_range) if item.expect_time_range is not None else None
    if expected is not None:
        got = answer.get("time_range") or {}
        v["time_range_correct"] = {k: got.get(k) for k in ("since", "until")} == expected
    cited = answer["citations"]
    if item.expect_also_in:
        # Both copies must be reported: cited, or named in a citation's also_in.
        reported = {c["source"] for c in cited} | {s for c in cited for s in c.get("also_in") or []}
        v["also_in_correct"] = (not answer["abstained"]) and any(c.get("also_in") for c in cited) \
            and set(item.expect_also_in) <= reported
    filters = item.filter_kwargs()
    allowed = set(filters["sources"]) if "sources" in filters else None
    since, until = filters.get("since"), filters.get("until")
    if expected is not None:  # a range in the question restricts the citations like an explicit one
        since, until = since or expected["since"], until or expected["until"]
    if cited and (allowed is not None or since or until):
        v["citations_within_filter"] = sum(_within(c, allowed, since, until) for c in cited) / len(cited)
    return v


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
    """Lookups and briefings apart: a briefing is judged by its stories, never by lookup metrics."""
    briefings = [r for r in records if r.item.kind == "briefing"]
    return {**_lookup_summary([r for r in records if r.item.kind != "briefing"]),
            "briefing": _briefing_summary(briefings)}


def _briefing_summary(records: list[Record]) -> dict[str, Any]:
    answerable = lambda r: r.item.answerable  # noqa: E731
    latencies = [r.verdicts["latency_s"] for r in records]
    return {
        "questions": len(records) or None,
        "story_recall": _mean(records, "story_recall", answerable),
        "story_precision": _mean(records, "story_precision", answerable),
        "order": _mean(records, "order_correct", answerable),
        "one_item_per_story": _mean(records, "one_item_per_story", answerable),
        "false_abstention_rate": _mean(records, "abstained", answerable),
        "off_topic_abstention": _mean(records, "correct", lambda r: not r.item.answerable),
        "p50_ms": _percentile(latencies, 50) if latencies else None,
    }


def _lookup_summary(records: list[Record]) -> dict[str, Any]:
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
        "news": {
            "direct_accuracy": _mean(records, "direct_correct"),
            "direct_accuracy_number_yes_no": _mean(records, "direct_correct", _number_or_yes_no),
            "direct_precision": _direct_precision(records),
            "direct_coverage": _mean(records, "direct_shown"),
            "time_range_accuracy": _mean(records, "time_range_correct"),
            "also_in_accuracy": _mean(records, "also_in_correct"),
            "citations_within_filter": _mean(records, "citations_within_filter"),
        },
        "latency_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
    }


def _direct_precision(records: list[Record]) -> float | None:
    """Right among the bold answers shown: those with a gold answer, and any shown to a question the
    corpus cannot answer (always wrong)."""
    right = sum(1 for r in records if r.verdicts.get("direct_shown") and r.verdicts.get("direct_correct"))
    shown = sum(1 for r in records if r.verdicts.get("direct_shown") or r.verdicts.get("direct_shown_unanswerable"))
    return round(right / shown, 4) if shown else None


def _number_or_yes_no(r: Record) -> bool:
    """The direct answers the issue sets a target for: numbers and yes/no."""
    direct = (r.item.direct or "").strip()
    is_number = any(ch.isdigit() for ch in direct) and as_iso_date(direct) is None
    return r.item.kind in ("number", "yes-no") or is_number or direct.lower() in ("yes", "no")


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
            "direct_accuracy": _mean(rs, "direct_correct"),
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
