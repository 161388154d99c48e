"""Dates inside answers: "on Monday", "yesterday", "last Friday" → a calendar day.

A news sentence names days relative to its article's publication date; a "when" answer is more
useful with the day resolved ("Monday 24 March 2025"). Weekdays mean the most recent such day on
or before publication ("on Monday" in a Monday paper is that day), "last <day>" the one strictly
before, "next <day>" the one strictly after, and a weekday right after a future verb ("will open
on Monday") the next one. An explicit date in the sentence wins ("on 3 March" is 3 March of the
publication year), except a dateline ("RIVERTON, March 11, 2025 —"), which is the publication
date rather than the event's.
"""

from __future__ import annotations

import datetime as dt
import re

from rag.answering.timeq import (
    format_day,
    weekday_after,
    weekday_before,
    weekday_on_or_before,
)
from rag.lexicon import DAYNUM, MONTH_NAMES, MONTHS, WEEKDAY, WEEKDAYS, YEAR, day_of_month, longest_first

__all__ = ["DATELINE_END", "EXPLICIT_DAY", "MONTH", "format_day", "resolve_day_reference", "resolve_day"]

_FLAGS = re.IGNORECASE
# Month names as written in edited text (capitalised), so "all 5 may vote" names no day.
_ABBR = (m.capitalize() for m in MONTHS if m.capitalize() not in MONTH_NAMES)
MONTH = rf"(?:(?:{longest_first(MONTH_NAMES)})\b|(?:{longest_first(_ABBR)})\b\.?)"
EXPLICIT_DAY = re.compile(
    rf"(?:\b(?i:{WEEKDAY}),?\s+)?(?:\b(?P<iso>\d{{4}}-\d\d-\d\d)\b"
    rf"|\b(?P<d1>{DAYNUM})\s+(?:of\s+)?(?P<m1>{MONTH})(?:,?\s+(?P<y1>{YEAR}))?"
    rf"|\b(?P<m2>{MONTH})\s+(?P<d2>{DAYNUM})(?:,?\s+(?P<y2>{YEAR}))?)",
)
# The dash that ends a dateline ("RIVERTON, March 11, 2025 — ..."), right after its date.
DATELINE_END = re.compile(r"\s*[—–-]\s")
_PART = r"(?:\s+(?:morning|afternoon|evening|night))?"
_RELATIVE = re.compile(
    rf"\b(?:(?P<same>today|tonight|this\s+(?:morning|afternoon|evening))"
    rf"|(?P<before>yesterday{_PART}|last\s+night)"
    rf"|(?:(?P<mod>on|last|next|this)\s+)?(?P<weekday>{WEEKDAY}){_PART})",
    _FLAGS,
)
# A future verb just before the weekday: "will reopen on Monday", "is due to open on Friday".
_FUTURE = re.compile(r"\b(?:will|shall|is\s+due\s+to|are\s+due\s+to|is\s+set\s+to|are\s+set\s+to|"
                     r"is\s+expected\s+to|are\s+expected\s+to|plans?\s+to)\s+(?:\S+\s+){0,3}$", _FLAGS)


def _explicit(match: re.Match[str], published: dt.date) -> dt.date | None:
    try:
        if match["iso"]:
            return dt.date.fromisoformat(match["iso"])
        month = (match["m1"] or match["m2"]).lower().rstrip(".")
        day = day_of_month(match["d1"] or match["d2"])
        year = int(match["y1"] or match["y2"] or published.year)
        return dt.date(year, MONTHS[month], day)
    except ValueError:  # 31 April, a malformed ISO date
        return None


def _weekday(match: re.Match[str], sentence: str, published: dt.date) -> dt.date:
    weekday = WEEKDAYS[match["weekday"].lower()]
    mod = (match["mod"] or "").lower()
    if mod == "last":
        return weekday_before(published, weekday)
    if mod == "next" or _FUTURE.search(sentence[: match.start()]):
        return weekday_after(published, weekday)
    return weekday_on_or_before(published, weekday)


def resolve_day_reference(sentence: str, published: dt.date) -> tuple[str, dt.date] | None:
    """The first day the sentence names and its calendar date, given the article's publication date.

    Returns (the phrase as written, the date), or None when the sentence names no single day.
    """
    for match in EXPLICIT_DAY.finditer(sentence):
        if DATELINE_END.match(sentence, match.end()):
            continue
        day = _explicit(match, published)
        if day is not None:
            return match.group(0).strip(), day
    match = _RELATIVE.search(sentence)
    if match is None:
        return None
    if match["same"]:
        day = published
    elif match["before"]:
        day = published - dt.timedelta(days=1)
    else:
        day = _weekday(match, sentence, published)
    return match.group(0), day


def resolve_day(sentence: str, published: dt.date | None) -> str | None:
    """'Monday 24 March 2025' for the day a sentence names, or None (undated article, no day named)."""
    if published is None:
        return None
    found = resolve_day_reference(sentence, published)
    return format_day(found[1]) if found else None
