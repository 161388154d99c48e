"""Newest first when sources disagree: different figures for one quantity, ordered by date.

Evidence sentences that answer one question may state different figures for the same thing
because the story moved on ("£1.8 billion" in March, "£2.1 billion" in April). A figure's
quantity is recognised by what surrounds the number: its currency, a per cent sign, or the noun
that follows it ("12 people", "a 2-mile section"). Figures that only refer back to an old value
("higher than the £1.8 billion", "up from 12") or state a change ("£300 million higher") are not
the claim's own figure. The answer leads with the newest figure and may add the earlier one with
its date, both quoted verbatim. Recency also breaks ranking ties.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from rag.answering.timeq import format_date
from rag.lexicon import FIGURE, MONTHS, NUMBER_VALUES, SCALES, WEEKDAYS, is_year

T = TypeVar("T")


@dataclass(frozen=True)
class Claim:
    text: str  # the evidence sentence, verbatim
    source: str
    published: dt.date | None
    score: float


@dataclass(frozen=True)
class Figure:
    text: str  # verbatim: "£2.1 billion", "12 people"
    value: float
    key: str  # the quantity: a currency symbol, "%", or the noun after the number
    start: int
    end: int
    own: bool  # False for a change ("£300 million higher") or a reference back ("than the £1.8 billion")


_UNIT = re.compile(r"(?:-|\s+)(?:(?:more|extra|additional|new|other|further)\s+)?(?P<unit>[A-Za-z][A-Za-z]+)")
_NOT_UNITS = {"of", "the", "and", "or", "to", "in", "on", "at", "a", "an", "per", "from", "by", "than", "for",
              "with", "am", "pm", "is", "was", "were", "are", "has", "had", "have", "as", "that", "which", "who",
              "after", "before", "since", "until", "into", "over", "under", "year", "years", "percent"} | set(MONTHS) | set(WEEKDAYS)
_CHANGE_AFTER = re.compile(r"\s*(?:higher|lower|more|less|fewer|up|down|above|below|over)\b", re.IGNORECASE)
_REFERENCE_BEFORE = re.compile(
    r"\b(?:than|(?:up|down|rose|risen|rising|increased|fell|fallen|falling|dropped|cut|revised|raised|lowered)\s+from)"
    r"\s+(?:the\s+|an?\s+|its\s+)?(?:original\s+|previous\s+|earlier\s+)?$", re.IGNORECASE)
_FROM = re.compile(r"\bfrom\s+(?:the\s+|an?\s+)?$", re.IGNORECASE)
_TO_FIGURE = re.compile(r"\s+to\s+(?:[£$€]\s?)?\d", re.IGNORECASE)  # "from 9 to 12": 9 is the old value


def _number(text: str) -> float:
    lower = text.lower()
    if lower[0].isdigit():
        return float(lower.replace(",", ""))
    tens, _, unit = lower.partition("-")
    return float(NUMBER_VALUES[tens] + (NUMBER_VALUES[unit] if unit else 0))


def _singular(word: str) -> str:
    word = word.lower()
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def extract_figures(text: str) -> list[Figure]:
    """Every figure in `text` whose quantity can be told (currency, per cent or a following noun)."""
    figures = []
    for m in FIGURE.finditer(text):
        num, cur, scale, pct = m["num"], m["cur"], m["scale"], m["pct"]
        end = m.end()
        if cur:
            key = cur
        elif pct:
            key = "%"
        else:
            if num[0].isdigit() and is_year(num):
                continue  # a year
            unit = _UNIT.match(text, end)
            if unit is None or unit["unit"].lower() in _NOT_UNITS:
                continue
            key, end = _singular(unit["unit"]), unit.end()
        value = _number(num) * SCALES.get((scale or "").lower(), 1.0)
        before = text[: m.start()]
        own = not (_CHANGE_AFTER.match(text, m.end()) or _REFERENCE_BEFORE.search(before)
                   or (_FROM.search(before) and _TO_FIGURE.match(text, end)))
        figures.append(Figure(text[m.start():end].strip(), value, key, m.start(), end, bool(own)))
    return figures


def _own_figures(claim: Claim) -> dict[str, Figure]:
    """The claim's first own figure for each quantity."""
    own: dict[str, Figure] = {}
    for figure in extract_figures(claim.text):
        if figure.own:
            own.setdefault(figure.key, figure)
    return own


def conflicting_figures(a: Claim, b: Claim) -> tuple[Figure, Figure] | None:
    """The figures of `a` and `b` for one quantity when they differ, else None."""
    theirs = _own_figures(b)
    for key, mine in _own_figures(a).items():
        other = theirs.get(key)
        if other is not None and not math.isclose(mine.value, other.value, rel_tol=1e-9):
            return mine, other
    return None


def _newest_first(claim: Claim) -> tuple[bool, int, float]:
    return (claim.published is None, -(claim.published.toordinal() if claim.published else 0), -claim.score)


def order_conflicting(claims: Sequence[Claim]) -> list[Claim]:
    """The claims that disagree with another claim on a figure, newest first (undated last,
    equal dates by score); [] when all the claims agree."""
    involved = {
        i for i, a in enumerate(claims) for j, b in enumerate(claims)
        if i < j and conflicting_figures(a, b) is not None for i in (i, j)
    }
    return sorted((claims[i] for i in involved), key=_newest_first)


def latest_revision(claims: Sequence[Claim]) -> tuple[Claim, Claim] | None:
    """(newest claim, the most recent strictly earlier claim it revises), or None."""
    ordered = [c for c in order_conflicting(claims) if c.published is not None]
    if not ordered:
        return None
    newest = ordered[0]
    for earlier in ordered[1:]:
        if earlier.published < newest.published and conflicting_figures(newest, earlier):  # type: ignore[operator]
            return newest, earlier
    return None


def compose_revision(newest: Claim, earlier: Claim, fmt: Callable[[dt.date], str] = format_date,
                     cite: tuple[str, str] = ("", "")) -> str | None:
    """'£2.1 billion (25 March 2025); earlier reported as £1.8 billion (3 March 2025)', the figures
    verbatim from the two sentences and `cite` (e.g. (" [1]", " [2]")) after each part; None unless
    both are dated and state different figures for one quantity."""
    pair = conflicting_figures(newest, earlier)
    if pair is None or newest.published is None or earlier.published is None:
        return None
    new, old = pair
    return (f"{new.text} ({fmt(newest.published)}){cite[0]}; "
            f"earlier reported as {old.text} ({fmt(earlier.published)}){cite[1]}")


def recency_tiebreak(items: Sequence[T], key_score: Callable[[T], float],
                     key_date: Callable[[T], dt.date | None], epsilon: float) -> list[T]:
    """Items by score, best first; a run of items within `epsilon` of the run's best score is
    ordered newest first (undated last), keeping score order among equal dates."""
    ranked = sorted(items, key=key_score, reverse=True)
    result: list[T] = []
    i = 0
    while i < len(ranked):
        top = key_score(ranked[i])
        j = i
        while j < len(ranked) and top - key_score(ranked[j]) <= epsilon:
            j += 1
        run = ranked[i:j]
        run.sort(key=lambda item: (key_date(item) is None, -(key_date(item) or dt.date.min).toordinal()))
        result.extend(run)
        i = j
    return result
