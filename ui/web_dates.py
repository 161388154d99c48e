"""Dates as people read them: "1 February 2025", "1–28 February 2025" (the UI shows, never parses,
these). The wording comes from the engine's `format_range`, so the CLI, the API and the page agree."""

from __future__ import annotations

from datetime import date

from rag.answering.timeq import format_date, format_range


def _day(iso: str | None) -> date | None:
    try:
        return date.fromisoformat(str(iso)[:10]) if iso else None
    except ValueError:
        return None


def human_date(iso: str | None) -> str:
    """"2025-02-01" as "1 February 2025"; anything unparsable as it is."""
    day = _day(iso)
    return format_date(day) if day else str(iso or "")


def date_range(since: str | None, until: str | None) -> str:
    """"1–28 February 2025", "28 February – 3 March 2025", "since 1 February 2025"."""
    return format_range(_day(since), _day(until))


def time_range_text(time_range: dict[str, str | None] | None) -> str:
    """The sentence saying which articles an answer looked at, or "" when it was not restricted."""
    if not time_range or not (time_range.get("since") or time_range.get("until")):
        return ""
    since, until = time_range.get("since"), time_range.get("until")
    if since and until:
        return f"Looking at articles from {date_range(since, until)}"
    return f"Looking at articles published {date_range(since, until)}"
