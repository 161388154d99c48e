"""Time in the question: "in March 2025", "last week", "since Monday" → a date range.

A small explicit resolver rather than dateparser: questions need *ranges* (a month, a calendar
week, an open end), relative to a reference "now" that is the newest article's date, and the
rules must be predictable ("may" the verb is not May). One phrase per question; the longest match
wins, so "since last week" beats "last week". Open ends are None ("since Monday" has no until).
Also the calendar helpers `dayref` shares (`format_day`, weekday arithmetic); the names
themselves are `rag.lexicon`'s.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

from rag.lexicon import DAYNUM, day_of_month, FULL_MONTH_NOT_MAY, MONTH, MONTH_NAMES, MONTHS, NUMBER_VALUES, WEEKDAY, WEEKDAY_NAMES, WEEKDAYS, YEAR

# A month that may stand alone ("in March"); May and abbreviations need a day or a year with them.
_BARE_MONTH = rf"(?:{FULL_MONTH_NOT_MAY})\b"
_NUMBER_WORDS = {w: n for w, n in NUMBER_VALUES.items() if n <= 12} | {"a": 1, "an": 1, "few": 3}
_UNIT = r"(?P<unit>day|week|month|year)s?"

# A calendar expression, without groups, so it can be used twice in one pattern ("between X and Y").
EXPR = (
    rf"(?:\d{{4}}-\d\d-\d\d\b"
    rf"|{DAYNUM}\s+(?:of\s+)?{MONTH}(?:,?\s+{YEAR})?"
    rf"|{MONTH}\s+{DAYNUM}(?:,?\s+{YEAR})?"
    rf"|{MONTH},?\s+{YEAR}"
    rf"|{_BARE_MONTH}|{YEAR}|{WEEKDAY}"
    rf"|today\b|yesterday\b|(?:this|last)\s+(?:week|month|year)\b)"
)
_FLAGS = re.IGNORECASE
_LEAD = r"(?:,?\s+as\s+reported)?\s*"  # "…, as reported in March 2025" is pure time connector


@dataclass(frozen=True)
class TimeScope:
    since: dt.date | None
    until: dt.date | None
    phrase: str  # the matched text, as written in the question
    question: str  # the question without the phrase, for retrieval

    def to_dict(self) -> dict[str, str | None]:
        """`Answer.time_range`: ISO dates, None for an open end."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

    def overlaps(self, earliest: dt.date, latest: dt.date) -> bool:
        """Whether the range meets the corpus's dated span; 'between 1960 and 1973' in a 2025 corpus
        names the time of an event, not of the articles, and is no filter."""
        return (self.since is None or self.since <= latest) and (self.until is None or self.until >= earliest)

    def contains(self, published: dt.date | None) -> bool:
        """Whether an article of this date is in range; an undated article never is."""
        if published is None:
            return False
        return (self.since is None or published >= self.since) and (self.until is None or published <= self.until)


@dataclass(frozen=True)
class _Partial:
    """A calendar expression before missing parts are filled ("3" in "between 3 and 9 March")."""

    year: int | None = None
    month: int | None = None
    day: int | None = None


Span = tuple[dt.date, dt.date]


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def week_start(day: dt.date) -> dt.date:
    """Monday of the ISO week holding `day`."""
    return day - dt.timedelta(days=day.weekday())


def weekday_on_or_before(day: dt.date, weekday: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - weekday) % 7)


def weekday_before(day: dt.date, weekday: int) -> dt.date:
    return weekday_on_or_before(day - dt.timedelta(days=1), weekday)


def weekday_after(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday() - 1) % 7 + 1)


def format_day(day: dt.date) -> str:
    """'Monday 3 March 2025'."""
    return f"{WEEKDAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def _dmy(day: dt.date, with_month: bool = True, with_year: bool = True) -> str:
    return " ".join([str(day.day), *([MONTH_NAMES[day.month - 1]] if with_month else []),
                     *([str(day.year)] if with_year else [])])


def format_date(day: dt.date) -> str:
    """'10 May 2025'."""
    return _dmy(day)


def format_range(since: dt.date | None, until: dt.date | None) -> str:
    """'1–30 April 2025', '3–9 March 2025', '28 April – 3 May 2025', 'since 14 April 2025'."""
    if since is None and until is None:
        return "any date"
    if since is None:
        return f"up to {_dmy(until)}"  # type: ignore[arg-type]
    if until is None:
        return f"since {_dmy(since)}"
    if since == until:
        return _dmy(since)
    if (since.year, since.month) == (until.year, until.month):
        return f"{since.day}–{_dmy(until)}"
    if since.year == until.year:
        return f"{_dmy(since, with_year=False)} – {_dmy(until)}"
    return f"{_dmy(since)} – {_dmy(until)}"


def _partial(text: str) -> _Partial | None:
    """Year/month/day of an absolute expression; None for relative ones (weekday, 'last week')."""
    text = text.lower().replace(",", " ").replace(".", " ")
    iso = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)", text.strip())
    if iso:
        return _Partial(int(iso[1]), int(iso[2]), int(iso[3]))
    words = text.split()
    month = next((MONTHS[w] for w in words if w in MONTHS), None)
    year = next((int(w) for w in words if re.fullmatch(YEAR, w)), None)
    day = next((day_of_month(w) for w in words if re.fullmatch(DAYNUM, w, _FLAGS)), None)
    if month is None and year is None and day is None:
        return None
    return _Partial(year, month, day)


def _latest_year(month: int, day: int, now: dt.date) -> int:
    """The latest year whose `day month` is on or before now (a leap day looks back to a leap year)."""
    for year in range(now.year, now.year - 9, -1):
        try:
            if dt.date(year, month, day) <= now:
                return year
        except ValueError:
            continue
    raise ValueError("no such day")


def _span(p: _Partial, now: dt.date) -> Span | None:
    try:
        if p.month is None:
            if p.year is None or p.day is not None:
                return None
            return dt.date(p.year, 1, 1), dt.date(p.year, 12, 31)
        year = p.year if p.year is not None else _latest_year(p.month, p.day or 1, now)
        if p.day is None:
            return dt.date(year, p.month, 1), month_end(year, p.month)
        return dt.date(year, p.month, p.day), dt.date(year, p.month, p.day)
    except ValueError:  # 31 April, a leap day of a common year
        return None


def _relative(text: str, now: dt.date, strict_weekday: bool) -> Span | None:
    t = " ".join(text.lower().split())
    if t in WEEKDAYS:
        pick = weekday_before if strict_weekday else weekday_on_or_before
        day = pick(now, WEEKDAYS[t])
        return day, day
    if t == "today":
        return now, now
    if t == "yesterday":
        return now - dt.timedelta(days=1), now - dt.timedelta(days=1)
    this = {"this week": (week_start(now), week_start(now) + dt.timedelta(days=6)),
            "this month": (now.replace(day=1), month_end(now.year, now.month)),
            "this year": (dt.date(now.year, 1, 1), dt.date(now.year, 12, 31))}
    if t in this:
        return this[t]
    if t == "last week":
        monday = week_start(now) - dt.timedelta(days=7)
        return monday, monday + dt.timedelta(days=6)
    if t == "last month":
        end = now.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if t == "last year":
        return dt.date(now.year - 1, 1, 1), dt.date(now.year - 1, 12, 31)
    return None


def _expr(text: str, now: dt.date, strict_weekday: bool = False) -> Span | None:
    partial = _partial(text)
    return _span(partial, now) if partial is not None else _relative(text, now, strict_weekday)


def _between(m: re.Match[str], now: dt.date) -> tuple[dt.date | None, dt.date | None] | None:
    end = _expr(m["b"], now)
    a = _partial(m["a"])
    if end is None:
        return None
    if a is None or (a.year is not None and (a.month is not None or a.day is None)):
        start = _expr(m["a"], now)
    else:  # "between 3 and 9 March 2025", "between November and January": fill from the end
        filled = _Partial(a.year or end[1].year, a.month or end[1].month, a.day)
        start = _span(filled, now)
        if start is not None and start[0] > end[0] and a.year is None and a.month is not None:
            start = _span(_Partial(end[1].year - 1, filled.month, filled.day), now)
    if start is None or start[0] > end[1]:
        return None
    return start[0], end[1]


def _shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _past(m: re.Match[str], now: dt.date) -> tuple[dt.date | None, dt.date | None] | None:
    count = m["n"].lower() if m["n"] else "one"
    n = int(count) if count.isdigit() else _NUMBER_WORDS.get(count, 0)
    if n < 1:
        return None
    unit = m["unit"].lower()
    if unit in ("day", "week"):
        return now - dt.timedelta(days=n * (7 if unit == "week" else 1) - 1), now
    since = _shift_months(now, n * (12 if unit == "year" else 1)) + dt.timedelta(days=1)
    return since, now


def _one(fn: Callable[[Span], tuple[dt.date | None, dt.date | None] | None], strict: bool = False) -> "_Resolver":
    def resolve(m: re.Match[str], now: dt.date) -> tuple[dt.date | None, dt.date | None] | None:
        span = _expr(m["a"], now, strict_weekday=strict)
        return fn(span) if span is not None else None
    return resolve


def _on(m: re.Match[str], now: dt.date) -> tuple[dt.date | None, dt.date | None] | None:
    """One day; not a weekday: an event 'on Thursday' is often reported the day after."""
    if m["a"].lower() in WEEKDAYS:
        return None
    span = _expr(m["a"], now)
    return span if span is not None and span[0] == span[1] else None


_Resolver = Callable[[re.Match[str], dt.date], "tuple[dt.date | None, dt.date | None] | None"]
_DAY_EXPR = rf"(?:{EXPR}|{DAYNUM})"
_RULES: list[tuple[re.Pattern[str], _Resolver]] = [
    (re.compile(rf"{_LEAD}\bbetween\s+(?P<a>{_DAY_EXPR})\s+and\s+(?P<b>{EXPR})", _FLAGS), _between),
    (re.compile(rf"{_LEAD}\bfrom\s+(?P<a>{_DAY_EXPR})\s+(?:to|until|till)\s+(?P<b>{EXPR})", _FLAGS), _between),
    (re.compile(rf"{_LEAD}\bsince\s+(?P<a>{EXPR})", _FLAGS), _one(lambda s: (s[0], None), strict=True)),
    (re.compile(rf"{_LEAD}\bafter\s+(?P<a>{EXPR})", _FLAGS), _one(lambda s: (s[1] + dt.timedelta(days=1), None))),
    (re.compile(rf"{_LEAD}\bbefore\s+(?P<a>{EXPR})", _FLAGS), _one(lambda s: (None, s[0] - dt.timedelta(days=1)))),
    (re.compile(rf"{_LEAD}\bon\s+(?P<a>{EXPR})", _FLAGS), _on),
    (re.compile(rf"{_LEAD}\b(?:in|during)\s+(?P<a>{EXPR}|may\b)", _FLAGS), _one(lambda s: s)),
    (re.compile(rf"{_LEAD}\b(?:(?:over|in|during)\s+)?the\s+(?:past|last)\s+(?:(?P<n>\d+|[a-z]+)\s+)?{_UNIT}\b",
                _FLAGS), _past),
    (re.compile(rf"{_LEAD}\b(?P<a>today|yesterday|(?:this|last)\s+(?:week|month|year)\b)(?:['’]s\b)?", _FLAGS),
     _one(lambda s: s)),
]


def _clean(question: str, start: int, end: int) -> str:
    rest = f"{question[:start]} {question[end:]}"
    rest = re.sub(r"\s+", " ", rest)
    rest = re.sub(r"\s+([?.!,;:])", r"\1", rest)
    return re.sub(r",([?.!])", r"\1", rest).strip(" ,")


def resolve_time(question: str, now: dt.date) -> TimeScope | None:
    """The date range a question's time phrase names, relative to `now`; None when it names none."""
    best: tuple[int, int, tuple[dt.date | None, dt.date | None]] | None = None
    for pattern, resolver in _RULES:
        for m in pattern.finditer(question):
            span = resolver(m, now)
            if span is None:
                continue
            if best is None or (m.end() - m.start(), -m.start()) > (best[1] - best[0], -best[0]):
                best = (m.start(), m.end(), span)
    if best is None:
        return None
    start, end, (since, until) = best
    phrase = question[start:end].strip(" ,")
    phrase = re.sub(r"^as\s+reported\s+", "", phrase, flags=_FLAGS)
    return TimeScope(since, until, phrase, _clean(question, start, end))
