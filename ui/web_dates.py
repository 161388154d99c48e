"""Dates as people read them: "1 February 2025", "1–28 February 2025" (the UI shows, never parses, these)."""

from __future__ import annotations

from datetime import date


def human_date(iso: str | None) -> str:
    """"2025-02-01" as "1 February 2025"; anything unparsable as it is."""
    try:
        day = date.fromisoformat(str(iso)[:10])
    except ValueError:
        return str(iso or "")
    return f"{day.day} {day:%B} {day.year}"


def date_range(since: str | None, until: str | None) -> str:
    """"1–28 February 2025", "3 January – 28 February 2025", "1 February 2025 on" (no end)."""
    if since and until:
        try:
            a, b = date.fromisoformat(since[:10]), date.fromisoformat(until[:10])
        except ValueError:
            return f"{since} – {until}"
        if a == b:
            return human_date(since)
        if (a.year, a.month) == (b.year, b.month):
            return f"{a.day}–{b.day} {b:%B} {b.year}"
        if a.year == b.year:
            return f"{a.day} {a:%B} – {b.day} {b:%B} {b.year}"
        return f"{human_date(since)} – {human_date(until)}"
    return f"{human_date(since)} on" if since else human_date(until)


def time_range_text(time_range: dict[str, str] | None) -> str:
    """The sentence saying which articles an answer looked at, or "" when it was not restricted."""
    if not time_range or not (time_range.get("since") or time_range.get("until")):
        return ""
    since, until = time_range.get("since"), time_range.get("until")
    if since:
        return f"Looking at articles from {date_range(since, until)}"
    return f"Looking at articles published up to {human_date(until)}"
