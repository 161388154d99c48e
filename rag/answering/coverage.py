"""A briefing's coverage: how many of its stories appeared per day or per ISO week.

Counted over every story the briefing found (its "N more stories" too), by publication date, so
the course of a story shows at a glance: a burst on the day it broke, a tail of follow-ups. The
unit follows the span: per day up to `briefing_coverage_day_span` days, else per ISO week (the
bins would otherwise be mostly empty and too many for one line of a terminal).
"""

from __future__ import annotations

import datetime as dt
from typing import Sequence

from rag.answering.timeq import format_range
from rag.lexicon import MONTH_NAMES
from rag.types import Coverage, CoverageBin


def short_date(day: dt.date) -> str:
    """'3 Feb': a bar's label (the span beside the chart gives the year)."""
    return f"{day.day} {MONTH_NAMES[day.month - 1][:3]}"


def count_coverage(published: Sequence[str | None], day_span: int) -> Coverage | None:
    """The coverage of stories with these publication dates (ISO, None when undated); None when
    there are no stories. Every day (or week) between the first and the last is a bin, empty ones 0."""
    if not published:
        return None
    days = sorted(dt.date.fromisoformat(p[:10]) for p in published if p)
    undated = len(published) - len(days)
    if not days:
        return Coverage(unit="day", bins=[], undated=undated, span="")
    first, last = days[0], days[-1]
    unit = "day" if (last - first).days < day_span else "week"

    def bin_of(day: dt.date) -> dt.date:
        return day if unit == "day" else day - dt.timedelta(days=day.weekday())  # the ISO week's Monday

    step = dt.timedelta(days=1 if unit == "day" else 7)
    counts: dict[dt.date, int] = {}
    at = bin_of(first)
    while at <= last:
        counts[at] = 0
        at += step
    for day in days:
        counts[bin_of(day)] += 1
    bins = [CoverageBin(start=d.isoformat(), label=short_date(d), count=n) for d, n in counts.items()]
    return Coverage(unit=unit, bins=bins, undated=undated, span=format_range(first, last))
