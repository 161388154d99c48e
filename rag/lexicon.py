"""The calendar and number vocabulary of English news, spelt once for all of `rag/`.

Ingest (publication dates in `rag.sources.dates`), time phrases (`rag.answering.timeq`,
`dayref`) and answering (answer kinds, names, figures, revisions) build their patterns from these
tables, so a month name or a number word is never typed twice. Only the shared grammars live here;
a pattern one module alone needs stays with that module, built from these names.
"""

from __future__ import annotations

import re

# ------------------------------------------------------------------ calendar
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Abbreviations news prints ("9 Mar 2025", "Sept. 3"); May has none.
MONTH_ABBREVIATIONS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sept": 9, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
FULL_MONTHS = {name.lower(): number for number, name in enumerate(MONTH_NAMES, start=1)}
MONTHS = FULL_MONTHS | MONTH_ABBREVIATIONS  # lower-case name or abbreviation -> 1..12
WEEKDAYS = {name.lower(): number for number, name in enumerate(WEEKDAY_NAMES)}  # Monday = 0
WEEKDAY_ABBREVIATIONS = tuple(name[:3].lower() for name in WEEKDAY_NAMES)


def alternation(words: object) -> str:
    """'a|b|c' of the words, in the order given."""
    return "|".join(words)  # type: ignore[arg-type]


def longest_first(words: object) -> str:
    """An alternation that tries longer words first, for patterns with no word boundary after it."""
    return alternation(sorted(words, key=len, reverse=True))  # type: ignore[call-overload]


# Regex fragments (no groups, lower-case unless said): a day of the month, a year, a month, a weekday.
DAYNUM = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?!\d)"
YEAR = r"(?:19|20)\d\d(?!\d)"
ANY_YEAR = r"(?:1\d{3}|20\d\d)(?!\d)"  # a year a question asks for may be historic (1887); YEAR is a date's
WEEKDAY = rf"(?:{alternation(WEEKDAYS)})\b"
# Full month names but "may", which is a verb unless a day or year comes with it.
FULL_MONTH_NOT_MAY = alternation(m for m in FULL_MONTHS if m != "may")
MONTH = rf"(?:{FULL_MONTH_NOT_MAY}|may|{alternation(MONTH_ABBREVIATIONS)})\b\.?"


def day_of_month(text: str) -> int:
    """'3rd' -> 3: the number of a DAYNUM match."""
    return int(re.sub(r"\D", "", text))


def is_year(text: str) -> bool:
    return re.fullmatch(YEAR, text) is not None


# ------------------------------------------------------------------ numbers
UNIT_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
# The value of a number word: 'seven' 7, 'forty' 40.
NUMBER_VALUES = {w: n for n, w in enumerate(UNIT_WORDS)} | {w: 10 * n for n, w in enumerate(TENS_WORDS, start=2)}
# Scale words and abbreviations after a figure: '£2.1 billion', '£2.1bn', '10k'.
SCALES = {"trillion": 1e12, "billion": 1e9, "bn": 1e9, "million": 1e6, "mn": 1e6, "m": 1e6,
          "thousand": 1e3, "k": 1e3}
_QUANTITY_WORDS = [*UNIT_WORDS[1:], *TENS_WORDS, "hundred", "thousand", "million", "billion", "trillion",
                   "dozen", "dozens", "hundreds", "thousands", "millions", "half"]
NUMBER_WORDS = alternation(_QUANTITY_WORDS)
# A number word with its value: 'seven', 'twenty-six' (compound tens up to ninety-nine).
WORD_NUMBER = (rf"(?:(?:{alternation(TENS_WORDS)})(?:-(?:{alternation(UNIT_WORDS[1:10])}))?"
               rf"|{alternation(UNIT_WORDS)})")
_CURRENCY = r"(?:(?:[$€£]|\b(?:EUR|USD|GBP))\s?)"
_SCALE = r"(?:\s?(?:%|per ?cent\b|bn\b|m\b|k\b)|\s(?:million|billion|trillion|thousand)\b)?"
# A quantity as written: "26", "2.5%", "$10bn", "1,200", "twenty-six", "three million".
NUMBER = re.compile(
    rf"{_CURRENCY}?(?<![\w.,])\d+(?:[.,]\d+)*(?:[-–]\d+(?:[.,]\d+)*)?{_SCALE}"
    rf"|{_CURRENCY}\d+(?:[.,]\d+)*{_SCALE}"
    rf"|\b(?:{NUMBER_WORDS})(?:[\s-](?:{NUMBER_WORDS}))*\b",
    re.I,
)
# A figure whose value can be computed: currency, digits or a number word, scale, per cent.
FIGURE = re.compile(
    rf"(?<![\w.,£$€])(?P<cur>[£$€])?\s?(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|(?i:\b{WORD_NUMBER}\b))"
    rf"(?![:\d])(?:\s?(?P<scale>{alternation(s for s in SCALES if len(s) > 2)}|{alternation(s for s in SCALES if len(s) <= 2)})\b)?"
    r"(?:\s?(?P<pct>%|per\s?cent\b|percent\b))?",
)
# Digits as a claim states them, with a per cent sign or word: what an LLM's sentence must not change.
DIGITS = re.compile(r"\d+(?:[.,]\d+)*(?:\s*(?:%|percent\b|per cent\b))?", re.I)


# Role nouns a "Who is X's <role>?" question asks about, and the few adjectives of place that do not
# share a stem with their place ('French' / 'France'): used to tell one owner's role from another's.
ROLE_NOUNS = frozenset("""
minister secretary president chancellor premier manager coach chairman chairwoman chair chief executive
director envoy ambassador spokesman spokeswoman spokesperson leader head governor mayor editor captain
boss founder commissioner general official engineer judge prosecutor king queen ceo owner producer master
""".split())
IRREGULAR_DEMONYMS = {
    "french": ("france",), "dutch": ("netherlands", "holland"), "irish": ("ireland",), "welsh": ("wales",),
    "swiss": ("switzerland",), "british": ("britain", "uk"), "english": ("england",), "american": ("us", "usa", "america"),
    "danish": ("denmark",), "swedish": ("sweden",), "finnish": ("finland",), "norwegian": ("norway",),
}

# Which way a quantity moved: a question asking whether it rose is answered no by a sentence saying
# it fell ('Did the deal push shares up?' / 'shares slipped on Monday').
DIRECTION_UP = frozenset("""
rise rises rose risen rising up increase increased increases increasing grow grew grown growing higher gain gained
gains climb climbed climbing boost boosted jump jumped soar soared surge surged improve improved raise raised
""".split())
DIRECTION_DOWN = frozenset("""
fall falls fell fallen falling down decrease decreased decreasing decline declined declines declining drop dropped
drops dropping slip slipped slips slide slid lower lowered shrink shrank shrunk cut cuts slump slumped plunge plunged
""".split())
DIRECTION_LEVEL = frozenset("unchanged flat steady stable stagnant stagnated".split())  # neither way

# Counting nouns news uses for one another ("How many companies ..." / "a survey of 10,227 firms").
COUNT_GROUPS = (
    ("company", "firm", "business", "employer"), ("country", "nation", "state"),
    ("people", "person", "resident", "fan", "visitor", "spectator", "citizen"),
    ("worker", "employee", "staff", "job"), ("film", "movie"), ("shop", "store", "outlet", "branch"),
    ("vehicle", "car"), ("child", "pupil", "student"),
)
