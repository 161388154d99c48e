"""Publication dates, ISO `YYYY-MM-DD` or None, from explicit evidence only.

Order of trust (applied by `article.read_article`): HTML metadata (`article:published_time`,
`<meta name="date">`, JSON-LD `datePublished`, `<time datetime>`, a date in the canonical URL),
then Markdown front matter `date:`, then an explicit date near the top of the text (a dateline
"RIVERTON, March 9, 2025 —", "3 March 2025", "2025-03-09", "Published: 9 Mar 2025"). Never a
relative word ("Monday"), never today's date, never the file's mtime.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rag.lexicon import MONTHS, WEEKDAY_ABBREVIATIONS, WEEKDAYS, alternation, longest_first

_MONTH = rf"(?P<month>{longest_first(MONTHS)})\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_PATTERNS = [
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)(?!\d)"),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),  # March 9, 2025
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),  # 9 March 2025
]
_WEEKDAY = rf"(?i:{alternation(WEEKDAYS)}|{alternation(WEEKDAY_ABBREVIATIONS)})\.?,?\s+"
_LABEL = re.compile(
    r"^\s*(?:published|posted|first published|updated|last updated|last modified|date)(?:\s+on)?\s*:?\s*"
    rf"(?:{_WEEKDAY})?",
    re.IGNORECASE,
)
# A dateline's place: 'RIVERTON,' or 'NEW YORK (Reuters),' or 'Paris, Friday,' before the date.
_PLACE = re.compile(rf"^[A-Z][\w .'’()-]{{0,40}},\s+(?:{_WEEKDAY})?", re.UNICODE)
_DATELINE_ENDS = "—–-:|(/"
_CLOCK = re.compile(r"^(?:at\s+|T)?\d{1,2}[:.]\d{2}", re.IGNORECASE)
# Which markup counts as publication metadata: what htmldate reads in "fast" mode from the head,
# JSON-LD and <time> elements. Body text is left out on purpose (a loose "Updated 2022-01-05" in a
# footer is not a publication date); a dateline in the extracted text is found by `text_date`.
_METADATA_XPATH = (
    "//meta | //link[@rel='canonical'] | //script[@type='application/ld+json'] | //time | //abbr"
)


def _make(year: int, month: int, day: int, today: dt.date | None = None) -> str | None:
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return None
    if value > (today or dt.date.today()):  # a publication date is never in the future
        return None
    return value.isoformat()


def _match_to_iso(match: re.Match[str]) -> str | None:
    month = match.group("month")
    number = int(month) if month.isdigit() else MONTHS[month.lower().rstrip(".")]
    return _make(int(match.group("year")), number, int(match.group("day")))


def find_explicit_date(text: str) -> str | None:
    """The earliest explicit calendar date in `text` as ISO, or None."""
    best: tuple[int, str] | None = None
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            iso = _match_to_iso(match)
            if iso is not None:
                if best is None or match.start() < best[0]:
                    best = (match.start(), iso)
                break
    return best[1] if best else None


def _window_lines(text: str, start: int, max_chars: int, max_lines: int) -> list[str]:
    """The first `max_lines` non-blank lines of `text[start:]`, within `max_chars` characters."""
    lines: list[str] = []
    budget = max_chars
    for line in text[start:].splitlines():
        if budget <= 0 or len(lines) >= max_lines:
            break
        if line.strip():
            lines.append(line.strip()[:budget])
            budget -= len(line.strip())
    return lines


def dateline(line: str) -> tuple[bool, str] | None:
    """(is_update, ISO date) when the line *is* dated: a date alone on the line, a 'Published: ...'
    label, or a dateline opening the line ('RIVERTON, March 9, 2025 — ...'). A date inside a
    sentence ('... born on 5 April 1920') is an event, not the publication date."""
    label = _LABEL.match(line)
    rest = line[label.end():] if label else line
    place = _PLACE.match(rest)
    for candidate in (rest, rest[place.end():] if place else None):
        if candidate is None:
            continue
        for pattern in _PATTERNS:
            match = pattern.match(candidate)
            if match is None:
                continue
            tail = candidate[match.end():].strip()
            if label or not tail or tail[0] in _DATELINE_ENDS or _CLOCK.match(tail):
                iso = _match_to_iso(match)
                if iso is not None:
                    return bool(label and label.group(0).lower().lstrip().startswith(("updated", "last"))), iso
    return None


def text_date(text: str, start: int, max_chars: int, max_lines: int) -> str | None:
    """The publication date a dateline or date line near the top of the article text states."""
    updates: list[str] = []
    for line in _window_lines(text, start, max_chars, max_lines):
        found = dateline(line)
        if found is None:
            continue
        is_update, iso = found
        if not is_update:
            return iso
        updates.append(iso)
    return updates[0] if updates else None


def normalize_date(value: Any) -> str | None:
    """A front-matter `date:` value (YAML date, datetime or string) as ISO, or None."""
    if isinstance(value, dt.datetime):
        return _make(value.year, value.month, value.day)
    if isinstance(value, dt.date):
        return _make(value.year, value.month, value.day)
    if isinstance(value, str):
        return find_explicit_date(value)
    return None


def html_date(markup: str) -> str | None:
    """The publication date in an HTML page's metadata, via htmldate on the metadata elements only."""
    from htmldate import find_date
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(markup)
    except Exception:  # noqa: BLE001 - unparsable markup simply has no metadata date
        return None
    elements = tree.xpath(_METADATA_XPATH)
    if not elements:
        return None
    head = "".join(lxml_html.tostring(e, encoding="unicode", with_tail=False) for e in elements)
    page = f"<html><head>{head}</head><body></body></html>"
    found = find_date(page, original_date=True, extensive_search=False, deferred_url_extractor=True)
    return _make(*map(int, found.split("-"))) if found else None
