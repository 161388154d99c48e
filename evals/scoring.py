"""Answer scoring and gold-file loading for the newsrag evaluation.

The system under test is mostly extractive: it answers with sentences quoted
from the articles.  Gold answers are therefore short key strings ("26",
"Warsaw", "2.5%") that must appear in the answer text.  Matching is done on a
normalised form of both sides so that harmless surface differences (case,
accents, curly quotes, "twenty-six" vs "26", "1,000" vs "1000", "U.K." vs
"UK") do not decide the score, while word/number boundaries keep "26" from
matching inside "126" or "2026".

Pure standard library on purpose: the scorer must run before (and without)
any of the project's heavier dependencies.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "KINDS",
    "GoldFileError",
    "GoldItem",
    "Turn",
    "contains",
    "as_iso_date",
    "direct_matches",
    "find",
    "is_correct",
    "load_gold",
    "normalize",
]

#: Allowed values of the optional ``kind`` field of a gold item.
KINDS: frozenset[str] = frozenset(
    {
        "fact",
        "number",
        "list",
        "multi-source",
        "disambiguation",
        "unanswerable",
        "follow-up",
        "paraphrase",
        "yes-no",
        "date",
        "filter",
        "time-range",
        "wire-copy",
        "revision",
        "briefing",
    }
)

_ROLES = frozenset({"user", "assistant"})

# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

# Typographic punctuation -> ASCII.  "đ" has no NFKD decomposition, so it is
# mapped explicitly (the corpus contains Vietnamese text).
_CHAR_MAP = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
        "\u2032": "'", "\u00b4": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
        "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
        "\u2014": "-", "\u2015": "-", "\u2212": "-",
        "\u0111": "d", "\u0110": "D",
    }
)

_UNITS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine".split()
    )
}
_TEENS = {
    w: i + 10
    for i, w in enumerate(
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
        "eighteen nineteen".split()
    )
}
_TENS = {
    w: (i + 2) * 10
    for i, w in enumerate(
        "twenty thirty forty fifty sixty seventy eighty ninety".split()
    )
}
_SCALES = {"hundred": 100, "thousand": 1000}

_NUM_WORD = "|".join(sorted([*_UNITS, *_TEENS, *_TENS, *_SCALES], key=len, reverse=True))
_STARTER = "|".join(sorted([*_UNITS, *_TEENS, *_TENS], key=len, reverse=True))
# A run of number words joined by spaces/hyphens (and "and" for "one hundred
# and twelve").  A run never starts with a scale word, so "a hundred" and the
# "billion" in "1.1 billion" are left alone.
_NUM_RUN_RE = re.compile(
    rf"\b(?:{_STARTER})(?:(?:[\s-]+(?:and[\s-]+)?)(?:{_NUM_WORD}))*\b"
)

# Which token kind may continue a number after which (None = start).
_FOLLOWS: dict[str, frozenset[str]] = {
    "unit": frozenset({"hundred", "thousand"}),
    "teen": frozenset({"hundred", "thousand"}),
    "tens": frozenset({"unit", "thousand"}),
    "hundred": frozenset({"unit", "teen", "tens", "thousand"}),
    "thousand": frozenset({"unit", "teen", "tens"}),
}


def _kind_of(word: str) -> tuple[str, int]:
    if word in _UNITS:
        return "unit", _UNITS[word]
    if word in _TEENS:
        return "teen", _TEENS[word]
    if word in _TENS:
        return "tens", _TENS[word]
    return word, _SCALES[word]


def _convert_run(match: re.Match[str]) -> str:
    """Turn one run of number words into digits.

    Runs that are not one number ("one two", "one and two") are split into
    several numbers rather than summed, so nothing is invented.
    """
    out: list[str] = []
    total = current = 0
    prev: str | None = None

    def flush() -> None:
        nonlocal total, current, prev
        if prev is not None:
            out.append(str(total + current))
        total = current = 0
        prev = None

    for word in re.split(r"[\s-]+", match.group(0)):
        if word == "and":
            if prev not in ("hundred", "thousand"):
                flush()
                out.append("and")
            continue
        kind, value = _kind_of(word)
        if prev is not None and kind not in _FOLLOWS[prev]:
            flush()
        if prev is None and kind in _SCALES:
            out.append(word)  # a bare scale word after a split stays a word
            continue
        if kind == "hundred":
            current = (current or 1) * value
        elif kind == "thousand":
            total += (current or 1) * value
            current = 0
        else:
            current += value
        prev = kind
    flush()
    return " ".join(out)


_PERCENT_RE = re.compile(r"\s*(?:%|\bper\s?cent\b)")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_ACRONYM_RE = re.compile(r"\b(?:[a-z]\.){2,}")
# A hyphen with a letter on at least one side joins words ("long-range",
# "3-year"); digit-digit hyphens are ranges ("5-8") and are kept.
_WORD_HYPHEN_RE = re.compile(r"(?<=[^\W\d])-(?=\w)|(?<=\w)-(?=[^\W\d])")
_SPACE_RE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Return the comparison form of ``text``.

    Steps: typographic quotes/dashes to ASCII; accents stripped (NFKD, drop
    combining marks, "đ" -> "d"); casefold; "%"/"per cent"/"percent" glued to
    the number ("2.5 %" -> "2.5%"); number words to digits ("twenty-six" and
    "twenty six" -> "26", "one hundred and twelve" -> "112"); thousands
    separators dropped ("1,000" -> "1000"); dotted acronyms collapsed
    ("U.K." -> "uk"); hyphens between words turned into spaces
    ("long-range" -> "long range", but the range "5-8" is kept); whitespace
    collapsed.  Applied to both the answer and the gold string, so each step
    only has to be consistent, not linguistically perfect.
    """
    text = unicodedata.normalize("NFKD", text.translate(_CHAR_MAP))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold()
    text = _PERCENT_RE.sub("%", text)
    text = _NUM_RUN_RE.sub(_convert_run, text)
    text = _THOUSANDS_RE.sub("", text)
    text = _ACRONYM_RE.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _WORD_HYPHEN_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


# --------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------


def _continues_number(text: str, i: int, step: int) -> bool:
    """True if position ``i`` is a digit, or a '.'/',' followed (in direction
    ``step``) by a digit, i.e. the number at the edge is not finished."""
    if not 0 <= i < len(text):
        return False
    if text[i].isdigit():
        return True
    j = i + step
    return text[i] in ".," and 0 <= j < len(text) and text[j].isdigit()


def _bounded(hay: str, start: int, end: int) -> bool:
    """Check the edges of the match ``hay[start:end]``.

    Letter edges need a non-alphanumeric neighbour ("us" not in "russia").
    Digit edges must not continue a number ("26" not in "126", "2026",
    "26.5"); on the right a letter also blocks ("26" not in "26th"), while on
    the left a letter is allowed so currency prefixes match ("1.1 billion" in
    "eur1.1 billion").
    """
    first, last = hay[start], hay[end - 1]
    if start > 0:
        before = hay[start - 1]
        if first.isdigit():
            if _continues_number(hay, start - 1, -1):
                return False
        elif first.isalnum() and before.isalnum():
            return False
    if end < len(hay):
        after = hay[end]
        if last.isdigit():
            if after.isalpha() or _continues_number(hay, end, 1):
                return False
        elif last.isalnum() and after.isalnum():
            return False
    return True


def find(answer_text: str, acceptable: str) -> int:
    """Position of the first whole-word/number occurrence of the normalised
    ``acceptable`` in the normalised answer (see ``_bounded``), or -1.  An
    acceptable string that normalises to nothing is never found, so a blank
    gold string cannot make every answer correct."""
    needle = normalize(acceptable)
    if not needle:
        return -1
    hay = normalize(answer_text)
    start = hay.find(needle)
    while start != -1:
        if _bounded(hay, start, start + len(needle)):
            return start
        start = hay.find(needle, start + 1)
    return -1


def contains(answer_text: str, acceptable: str) -> bool:
    """True if ``find`` finds ``acceptable`` in the answer."""
    return find(answer_text, acceptable) != -1


_MONTHS = {m: i for i, m in enumerate(
    "january february march april may june july august september october november december".split(), start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DMY_RE = re.compile(r"^(?:[a-z]+,? )?(\d{1,2})(?:st|nd|rd|th)? ([a-z]+)\.?,? (\d{4})$")
_MDY_RE = re.compile(r"^(?:[a-z]+,? )?([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$")


def as_iso_date(text: str) -> str | None:
    """'14 February 2025', 'Friday, Feb. 14, 2025' or '2025-02-14' -> '2025-02-14'; else None."""
    t = normalize(text).strip(" .")
    if m := _ISO_RE.match(t):
        return t
    day = month = year = None
    if m := _DMY_RE.match(t):
        day, month, year = m.group(1), _MONTHS.get(m.group(2)), m.group(3)
    elif m := _MDY_RE.match(t):
        day, month, year = m.group(2), _MONTHS.get(m.group(1)), m.group(3)
    if not month:
        return None
    return f"{year}-{month:02d}-{int(day):02d}"


#: A direct answer is a short answer, not a sentence that happens to contain it.
MAX_DIRECT_WORDS = 6


def direct_matches(direct: str | None, gold: str) -> bool:
    """True iff the system's short answer ``direct`` gives the gold short answer.

    Dates compare as calendar dates when both sides parse ("14 February 2025"
    equals "2025-02-14"). Otherwise the gold string must occur in ``direct``
    as a whole word/number (so "Emmanuel Macron" gives "Macron", "£2.1
    billion" gives "2.1 billion") and ``direct`` must be at most
    ``MAX_DIRECT_WORDS`` words long. "Yes" never matches "No".
    """
    if not direct or not direct.strip():
        return False
    gold_date = as_iso_date(gold)
    if gold_date is not None:
        return as_iso_date(direct) == gold_date
    return len(normalize(direct).split()) <= MAX_DIRECT_WORDS and contains(direct, gold)


def is_correct(answer_text: str, groups: Sequence[Sequence[str]]) -> bool:
    """True iff every group has at least one acceptable string in the answer.

    Groups are AND-ed, strings inside a group are OR-ed.  An empty ``groups``
    returns False: an item without answers is unanswerable and must be scored
    by checking for a refusal instead, never by this function.  An empty
    group likewise returns False.
    """
    if not groups:
        return False
    return all(any(contains(answer_text, s) for s in group) for group in groups)


# --------------------------------------------------------------------------
# Gold file
# --------------------------------------------------------------------------


class GoldFileError(ValueError):
    """A malformed gold file; the message starts with ``path:line:`` so the
    offending line can be found at once."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Turn:
    """One earlier conversation turn given as context for a follow-up."""

    role: str
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class GoldItem:
    """One gold question.  Tuples keep items hashable and immutable."""

    id: str
    question: str
    answers: tuple[tuple[str, ...], ...]
    sources: tuple[str, ...]
    answerable: bool
    history: tuple[Turn, ...] = ()
    kind: str = "fact"
    #: The expected short answer (number, date, name, "Yes"/"No"), compared with ``Answer.direct``.
    direct: str | None = None
    #: Restrictions passed to ``Assistant.ask``: any of ``sources`` (list), ``since``, ``until`` (ISO dates).
    filters: tuple[tuple[str, object], ...] = ()
    #: The date range the system should read from the question: {"since": ISO|None, "until": ISO|None}.
    expect_time_range: tuple[tuple[str, str | None], ...] | None = None
    #: Sources of near-identical copies the answer should report (a wire story printed twice).
    expect_also_in: tuple[str, ...] = ()
    #: Out-of-date figures: if the answer mentions one, the current answer must come first.
    superseded: tuple[str, ...] = ()
    #: A briefing (kind "briefing"): `sources` are the stories it must show; these may appear too
    #: (related, not off-topic); the promised order ("oldest" or "newest" first); groups of sources
    #: that are one story (wire copies) and must make one item.
    acceptable: tuple[str, ...] = ()
    order: str | None = None
    story_groups: tuple[tuple[str, ...], ...] = ()

    def filter_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``Assistant.ask``."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.filters}

    def history_dicts(self) -> list[dict[str, str]]:
        """History in the chat-message shape most clients expect."""
        return [t.as_dict() for t in self.history]

    def is_correct(self, answer_text: str) -> bool:
        """``is_correct(answer_text, self.answers)``; with ``superseded`` figures, also the current
        figure must come before any out-of-date one the answer mentions."""
        if not is_correct(answer_text, self.answers):
            return False
        if not self.superseded:
            return True
        old = [p for p in (find(answer_text, s) for s in self.superseded) if p != -1]
        new = min(p for p in (find(answer_text, s) for group in self.answers for s in group) if p != -1)
        return not old or new < min(old)


_REQUIRED: dict[str, type] = {
    "id": str,
    "question": str,
    "answers": list,
    "sources": list,
    "answerable": bool,
}
_OPTIONAL: dict[str, type] = {
    "history": list, "kind": str, "direct": str, "filters": dict, "expect_time_range": dict,
    "expect_also_in": list, "superseded": list, "acceptable": list, "order": str, "story_groups": list,
}
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Builds the error for the line being read (``path:line:`` in front of the message).
_Fail = Callable[[str], GoldFileError]


def _check_range(obj: dict, where: str, allowed: set[str], fail: _Fail) -> None:
    """Validate a {"since", "until"} style object: known keys, ISO dates (or null when allowed)."""
    for key, value in obj.items():
        if key not in allowed:
            raise fail(f"{where}: unknown key {key!r} ({', '.join(sorted(allowed))})")
        if key == "sources":
            if not isinstance(value, list) or not value or not all(isinstance(s, str) and s.strip() for s in value):
                raise fail(f"{where}.sources must be a non-empty list of source names")
        elif value is not None and not (isinstance(value, str) and _ISO_DATE_RE.match(value)):
            raise fail(f"{where}.{key} must be an ISO date YYYY-MM-DD or null")


def _string_list(obj: dict, key: str, fail: _Fail) -> tuple[str, ...]:
    values = obj.get(key, [])
    if not all(isinstance(s, str) and s.strip() for s in values):
        raise fail(f"{key!r} must be a list of non-empty strings")
    return tuple(values)


def _check_fields(obj: object, fail: _Fail) -> dict:
    """A JSON object with every required field, no unknown one, and each of the exact type."""
    if not isinstance(obj, dict):
        raise fail("expected a JSON object")
    for key, typ in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in obj:
            if key in _REQUIRED:
                raise fail(f"missing field {key!r}")
            continue
        # Exact type check: bool is an int subclass and 1 must not pass as True.
        if type(obj[key]) is not typ:
            raise fail(f"field {key!r} must be {typ.__name__}")
    unknown = sorted(set(obj) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise fail(f"unknown field(s) {', '.join(map(repr, unknown))}")
    return obj


def _nonblank(obj: dict, key: str, fail: _Fail) -> str:
    value: str = obj[key].strip()
    if not value:
        raise fail(f"empty {key!r}")
    return value


def _answer_groups(obj: dict, fail: _Fail) -> tuple[tuple[str, ...], ...]:
    groups: list[tuple[str, ...]] = []
    for g, group in enumerate(obj["answers"]):
        if not isinstance(group, list) or not all(isinstance(s, str) for s in group):
            raise fail(f"answers[{g}] must be a list of strings")
        if not group:
            raise fail(f"answers[{g}] is an empty group")
        if any(not normalize(s) for s in group):
            raise fail(f"answers[{g}] contains a blank string")
        groups.append(tuple(group))
    return tuple(groups)


def _sources(obj: dict, groups: tuple[tuple[str, ...], ...], fail: _Fail) -> tuple[str, ...]:
    """The item's sources, checked against its answerability: both answers and sources, or neither."""
    sources = obj["sources"]
    if not all(isinstance(s, str) and s.strip() for s in sources):
        raise fail("'sources' must be a list of non-empty strings")
    if obj["answerable"]:
        if not groups and obj.get("kind") != "briefing":  # a briefing is judged by its stories
            raise fail("answerable item has no answer groups")
        if not sources:
            raise fail("answerable item has no sources")
    else:
        if groups:
            raise fail("unanswerable item must have empty 'answers'")
        if sources:
            raise fail("unanswerable item must have empty 'sources'")
    return tuple(sources)


def _history(obj: dict, fail: _Fail) -> tuple[Turn, ...]:
    history: list[Turn] = []
    for t, turn in enumerate(obj.get("history", [])):
        if not isinstance(turn, dict) or set(turn) != {"role", "content"}:
            raise fail(f"history[{t}] must be an object with 'role' and 'content'")
        if not isinstance(turn["role"], str) or turn["role"] not in _ROLES:
            raise fail(f"history[{t}] has bad role {turn['role']!r} (user|assistant)")
        if not isinstance(turn["content"], str) or not turn["content"].strip():
            raise fail(f"history[{t}] has empty or non-string 'content'")
        history.append(Turn(turn["role"], turn["content"]))
    return tuple(history)


def _kind(obj: dict, fail: _Fail) -> str:
    answerable: bool = obj["answerable"]
    kind = obj.get("kind", "fact" if answerable else "unanswerable")
    if kind not in KINDS:
        raise fail(f"unknown kind {kind!r} (one of {', '.join(sorted(KINDS))})")
    if kind == "unanswerable" and answerable:
        raise fail("kind 'unanswerable' but answerable is true")
    return kind


def _news_fields(obj: dict, fail: _Fail) -> dict[str, object]:
    """The optional news expectations (direct, filters, time range, wire copies, superseded
    figures) as GoldItem keyword arguments."""
    answerable: bool = obj["answerable"]
    direct = obj.get("direct")
    if direct is not None and not normalize(direct):
        raise fail("blank 'direct'")
    if direct is not None and not answerable:
        raise fail("unanswerable item must not have 'direct'")
    filters = obj.get("filters", {})
    _check_range(filters, "filters", {"sources", "since", "until"}, fail)
    if "filters" in obj and not filters:
        raise fail("empty 'filters'")
    time_range = obj.get("expect_time_range")
    if time_range is not None:
        if set(time_range) != {"since", "until"}:
            raise fail("'expect_time_range' needs exactly 'since' and 'until' (either may be null)")
        _check_range(time_range, "expect_time_range", {"since", "until"}, fail)
    also_in = _string_list(obj, "expect_also_in", fail)
    superseded = _string_list(obj, "superseded", fail)
    if superseded and not answerable:
        raise fail("unanswerable item must not have 'superseded'")
    order = obj.get("order")
    if order is not None and order not in ("oldest", "newest"):
        raise fail("'order' must be 'oldest' or 'newest'")
    story_groups = obj.get("story_groups", [])
    if not all(isinstance(g, list) and len(g) > 1 and all(isinstance(x, str) and x for x in g) for g in story_groups):
        raise fail("'story_groups' must be a list of lists of two or more sources")
    return {
        "acceptable": _string_list(obj, "acceptable", fail),
        "order": order,
        "story_groups": tuple(tuple(g) for g in story_groups),
        "direct": direct,
        "filters": tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(filters.items())),
        "expect_time_range": tuple(sorted(time_range.items())) if time_range is not None else None,
        "expect_also_in": also_in,
        "superseded": superseded,
    }


def _item_from(obj: object, path: Path, line: int) -> GoldItem:
    """Validate one decoded JSON line and build its ``GoldItem``. The checks run in a fixed order,
    so a line with several faults always reports the same first one."""

    def fail(message: str) -> GoldFileError:
        return GoldFileError(path, line, message)

    fields = _check_fields(obj, fail)
    item_id = _nonblank(fields, "id", fail)
    question = _nonblank(fields, "question", fail)
    groups = _answer_groups(fields, fail)
    sources = _sources(fields, groups, fail)
    history = _history(fields, fail)
    kind = _kind(fields, fail)
    return GoldItem(
        id=item_id,
        question=question,
        answers=groups,
        sources=sources,
        answerable=fields["answerable"],
        history=history,
        kind=kind,
        **_news_fields(fields, fail),
    )


def load_gold(path: str | Path) -> list[GoldItem]:
    """Load and validate a JSONL gold file (one object per line, blank lines
    allowed).  Fails loudly on the first bad line: a silently skipped or
    mis-typed item would skew every score computed from the file."""
    path = Path(path)
    items: list[GoldItem] = []
    first_seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GoldFileError(path, line_no, f"invalid JSON: {exc.msg}") from exc
            item = _item_from(obj, path, line_no)
            if item.id in first_seen:
                raise GoldFileError(
                    path, line_no, f"duplicate id {item.id!r} (first on line {first_seen[item.id]})"
                )
            first_seen[item.id] = line_no
            items.append(item)
    if not items:
        raise GoldFileError(path, None, "no gold items")
    return items
