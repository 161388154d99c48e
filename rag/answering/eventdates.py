"""Event dates: the dates an article's own text gives for what it reports ("on March 11", "11 March
2025", "in February"). An event date is not a publication date: an undated article that says "on
March 11" tells when something happened, not when it was printed, and the answer says which is which.

They answer date questions when the articles in scope carry no publication date, so no date filter
can apply: "What happened in March 2025?" over undated articles is answered from the sentences whose
stated dates fall in March 2025, each labelled as an event date, after saying the articles are undated.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable

from rag.answering.dayref import DATELINE_END, EXPLICIT_DAY, MONTH
from rag.answering.openq import open_ask
from rag.answering.timeq import format_range, month_end, resolve_time
from rag.lexicon import MONTH_NAMES, MONTHS, YEAR, day_of_month

# A month without a day: "March 2025", or "in/during/since/by/until/early/late ... March" (a month
# name alone is too often another word: "March organisers said").
_MONTH_ONLY = re.compile(
    rf"\b(?P<m3>{MONTH}),?\s+(?P<y3>{YEAR})"
    rf"|\b(?:(?i:in|during|since|by|until|till|from)\s+(?:(?i:early|late|mid)[-\s]+)?|(?i:early|late|mid)[-\s]+)"
    rf"(?P<m4>{MONTH})(?:,?\s+(?P<y4>{YEAR}))?(?![\w-])",
)
_LEAP_YEAR = 2000  # checks a day without a year: 29 February is a day


@dataclass(frozen=True)
class StatedDate:
    """A date as the text gives it: a day or a whole month, with the year when the text states one."""

    phrase: str  # as written
    month: int
    day: int | None = None
    year: int | None = None

    def span(self, year: int) -> tuple[dt.date, dt.date]:
        if self.day is not None:
            day = dt.date(year, self.month, self.day)
            return day, day
        return dt.date(year, self.month, 1), month_end(year, self.month)

    def within(self, since: dt.date | None, until: dt.date | None, any_year: bool = False) -> bool:
        """Whether it falls in the range. Without a year it can only fall in a range inside one
        calendar year ('March 11' is in March 2025 as far as the text says, not in 'since 2024');
        `any_year`: the range's year was not asked for ('in March'), so no stated year rules it out."""
        one_year = since is not None and until is not None and since.year == until.year
        year = since.year if one_year and (any_year or self.year is None) else self.year  # type: ignore[union-attr]
        if year is None:
            return False
        try:
            start, end = self.span(year)
        except ValueError:  # 30 February
            return False
        return (since is None or end >= since) and (until is None or start <= until)

    def label(self) -> str:
        """'11 March', '11 March 2025', 'March', 'March 2025': the date as the text gives it."""
        parts = [str(self.day)] if self.day is not None else []
        parts.append(MONTH_NAMES[self.month - 1])
        return " ".join(parts + ([str(self.year)] if self.year is not None else []))

    def key(self, year: int) -> tuple[int, int, int]:
        return (self.year or year, self.month, self.day or 0)


def _day_date(m: re.Match[str]) -> StatedDate | None:
    """The day a match names, or None when there is no such day (31 April, '2025-13-45')."""
    if m["iso"]:
        year, month, day = (int(part) for part in m["iso"].split("-"))
        found = StatedDate(m.group(0).strip(), month, day, year)
    else:
        year_text = m["y1"] or m["y2"]
        found = StatedDate(m.group(0).strip(), MONTHS[(m["m1"] or m["m2"]).lower().rstrip(".")],
                           day_of_month(m["d1"] or m["d2"]), int(year_text) if year_text else None)
    try:
        found.span(found.year or _LEAP_YEAR)
    except ValueError:
        return None
    return found


def stated_dates(sentence: str) -> list[StatedDate]:
    """Every calendar date a sentence states, in order (a dateline's date is the article's own)."""
    found: list[tuple[int, StatedDate]] = []
    taken: list[tuple[int, int]] = []
    for m in EXPLICIT_DAY.finditer(sentence):
        taken.append(m.span())
        day = None if DATELINE_END.match(sentence, m.end()) else _day_date(m)
        if day is not None:
            found.append((m.start(), day))
    for m in _MONTH_ONLY.finditer(sentence):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        name, year = m["m3"] or m["m4"], m["y3"] or m["y4"]
        found.append((m.start(), StatedDate(m.group(0).strip(), MONTHS[name.lower().rstrip(".")], None,
                                            int(year) if year else None)))
    return [d for _, d in sorted(found, key=lambda pair: pair[0])]


def dates_within(text: str, ask: "UndatedAsk") -> list[StatedDate]:
    return [d for d in stated_dates(text) if d.within(ask.since, ask.until, ask.any_year)]


@dataclass(frozen=True)
class UndatedAsk:
    """A date question over articles none of which has a publication date."""

    since: dt.date | None
    until: dt.date | None
    articles: int  # how many articles are in scope (all undated)
    topic: str | None  # an open question's topic ('' for a period question); None for a lookup
    any_year: bool = False  # the period names a month but no year ('in March'): the year was our guess

    @property
    def period(self) -> str:
        """'March 2025', '1–11 March 2025', 'since 1 March 2025'; 'March' when no year was asked."""
        since, until = self.since, self.until
        if since and until and since.day == 1 and until == month_end(until.year, until.month) \
                and (since.year, since.month) == (until.year, until.month):
            said = MONTH_NAMES[since.month - 1] + ("" if self.any_year else f" {since.year}")
        else:
            said = format_range(since, until)
        return said.replace(f" {until.year}", "") if self.any_year and until else said

    @property
    def notice(self) -> str:
        """'These 5 articles have no publication date, so I can't filter by date.'"""
        if self.articles == 1:
            return "This article has no publication date, so I can't filter by date."
        return f"These {self.articles} articles have no publication date, so I can't filter by date."


def undated_ask(
    question: str, since: dt.date | None, until: dt.date | None, published: Iterable[str | None], now: dt.date,
) -> UndatedAsk | None:
    """The date question asked of undated articles, or None (some article in scope is dated, or no
    date is asked). `since`/`until` are the request's own filter; `published` the dates of the
    articles in scope. A time phrase in a lookup ('the riot on January 6, 2021') tells the time of
    the event and changes nothing; in an open question ('What happened in March 2025?') it asks
    for the period, as an explicit filter does."""
    dates = list(published)
    if not dates or any(dates):
        return None
    scope = resolve_time(question, now)
    ask = open_ask(scope.question if scope is not None else question)
    if since is None and until is None:
        if scope is None or ask is None:
            return None
        return UndatedAsk(scope.since, scope.until, len(dates), ask.topic, _yearless(scope.phrase))
    if scope is not None:  # the filter, narrowed by the question's own period
        since = max(filter(None, (since, scope.since)), default=None)
        until = min(filter(None, (until, scope.until)), default=None)
    return UndatedAsk(since, until, len(dates), ask.topic if ask is not None else None)


def _yearless(phrase: str) -> bool:
    """'in March', 'on 11 March': a calendar date without a year ('last week' has one implied)."""
    return re.search(YEAR, phrase) is None and any(w.lower().rstrip(".,") in MONTHS for w in phrase.split())
