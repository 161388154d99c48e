"""What kind of thing a question asks for, and whether a sentence holds one.

Relevance is the cross-encoder's job; these few general checks only catch a relevant sentence
that cannot be the answer: a "how many" question answered by a sentence without a number, a "who"
question by a sentence naming nobody new.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

from rag.answering.text import PARTICLES, STOPWORDS, fold, has_number, names, stem, stems
from rag.lexicon import (
    ANY_YEAR, COUNT_GROUPS, DAYNUM, FULL_MONTHS, IRREGULAR_DEMONYMS, MONTH, NUMBER, ROLE_NOUNS, SCALES, WEEKDAY, WEEKDAYS, alternation,
)

if TYPE_CHECKING:
    from rag.answering.question import Question

_NUMBER_Q = re.compile(
    r"\b(how many|how much|what percentage|what share|what proportion|what number|how large|how big|"
    r"how old|what amount|what sum|what figure|how far|what target|to what (?:level|share|extent))\b",
    re.I,
)
# "What is the parking fee?", "What will the line cost?": a sum of money asked without "how much".
_MONEY_WHAT_Q = re.compile(
    r"\bwhat(?:['’]s| is| was| are| were| will be| would be)? (?:the |its |their |his |her |an? )?(?:[\w-]+ ){0,3}"
    r"(?:price|cost|fee|fare|salary|wage|fine|bill|budget)s?\b|\bwhat\b[^?]*\bcosts?\s*\??\s*$", re.I)
_DURATION_Q = re.compile(r"\bhow long\b", re.I)
_DATE_Q = re.compile(r"\b(when|(?:what|which)(?: \w+)? (?:date|day|month|year|time))\b", re.I)
_PERSON_Q = re.compile(r"\b(who|whom|whose)\b", re.I)
# "Who is Steve Witkoff?" asks what the named person is ('Trump's envoy'), not for a name.
_DESCRIBE_Q = re.compile(
    rf"^\s*(?i:who) (?i:is|was|are|were) (?P<name>[A-Z][\w.’'-]*(?: (?:(?:{alternation(sorted(PARTICLES))}) )*[A-Z][\w.’'-]*)*)\s*\??\s*$"
)
_PLACE_Q = re.compile(r"\b(where|(?:what|which) (?:city|country|town|capital|region|state))\b", re.I)
# "Which publication ...", "What is the name of ...": the answer is a name the question lacks.
_NAME_Q = re.compile(r"\bwhich\b|\bwhat(?:['’]s| is| was| are| were) the names? of\b", re.I)
_YES_NO_Q = re.compile(
    r"^\s*(?:and\s+|but\s+|so\s+)?(did|does|do|is|are|was|were|has|have|had|can|could|will|would|should|may|might|must)\b",
    re.I,
)
_DURATION = re.compile(r"\b(years?|months?|weeks?|days?|hours?|minutes?|decades?|centur(?:y|ies))\b", re.I)
# Months spelt out ("May" only capitalised: "may" is a verb), weekdays, relative days and parts of it.
_MONTH_WORDS = alternation("(?-i:May)" if m == "may" else m for m in FULL_MONTHS)
_DATE = re.compile(
    rf"\b(\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)|(?:\d{{1,2}} )?(?:{_MONTH_WORDS})(?: \d{{1,2}}(?:st|nd|rd|th)?\b)?|"
    rf"{alternation(WEEKDAYS)}|yesterday|today|tonight|tomorrow|overnight|"
    r"(?:last|next|this|earlier this|later this) (?:week|month|year|spring|summer|autumn|fall|winter)|"
    r"(?:morning|afternoon|evening|weekend))\b",
    re.I,
)


class Kind(str, Enum):
    NUMBER = "number"
    DURATION = "duration"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    NAME = "name"
    YES_NO = "yes/no"
    OTHER = "other"


# First match wins: "how long" before "how many", a typed wh-word before a yes/no opening
# ("Did ... when ..." asks for a date), "which" (a bare name) last.
_KIND_ORDER = (
    (_DURATION_Q, Kind.DURATION), (_NUMBER_Q, Kind.NUMBER), (_MONEY_WHAT_Q, Kind.NUMBER), (_DATE_Q, Kind.DATE), (_PERSON_Q, Kind.PERSON),
    (_PLACE_Q, Kind.PLACE), (_YES_NO_Q, Kind.YES_NO), (_NAME_Q, Kind.NAME),
)


def question_kind(question: str) -> Kind:
    """The answer type of the user's own question (the last one, for a merged follow-up)."""
    q = question.strip()
    described = _DESCRIBE_Q.match(q)
    if described and fold(re.split(r"[\s-]", described.group("name"))[-1]).rstrip("s") not in ROLE_NOUNS:
        return Kind.OTHER
    return next((kind for pattern, kind in _KIND_ORDER if pattern.search(q)), Kind.OTHER)


_DEMONYM = re.compile(r"(?:n|an|ian|ese|i)$")


_POSSESSIVE = re.compile(r"['’]s\b")


def name_tokens(text: str) -> list[str]:
    """The text's words as names compare them: stemmed, dots and possessives dropped, so 'U.S.'
    and 'US' are one name and "Nokia's" is 'Nokia'."""
    return [stem(w) for w in re.findall(r"\w+", _POSSESSIVE.sub("", fold(text)).replace(".", ""))]


def name_words(text: str) -> set[str]:
    return set(name_tokens(text))


def same_word(a: str, b: str) -> bool:
    """Equal, or one is the other's people/adjective form ('Estonia'/'Estonian', 'Albania'/'Albanian')."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    base = short.rstrip("aeiouy") or short
    return len(base) >= 4 and long.startswith(base) and _DEMONYM.fullmatch(long[len(base):]) is not None


def _in(word: str, pool: set[str]) -> bool:
    return word in pool or any(same_word(word, p) for p in pool)


_NAME_SUFFIXES = frozenset("jr sr ii iii".split())


def initials(name: str) -> str | None:
    """'United States' -> 'us', 'North Atlantic Treaty Organization' -> 'nato' (stemmed as names
    are); None for one word."""
    words = [w for w in re.findall(r"\w+", fold(name).replace(".", "")) if w not in PARTICLES and w not in ("the", "and")]
    return stem("".join(w[0] for w in words)) if len(words) >= 2 else None


def held_names(passage: str) -> set[str]:
    """The name words a passage holds, with the initials of its many-word names: news writes
    'the United States' in one sentence and 'the US' in the next."""
    held = name_words(passage)
    held.update(i for i in map(initials, names(passage)) if i)
    return held


def name_held(name: str, held: set[str]) -> bool:
    """Every word of `name` is in `held` (from `held_names`), or its initials are ('United
    States' in a passage that says 'US')."""
    if all(_in(w, held) for w in name_words(name)):
        return True
    short = initials(name)
    if short is not None and short in held:
        return True
    # News names a person in full once, then 'Mr Evans': the surname stands for the name.
    parts = [w for w in re.findall(r"\w+", _POSSESSIVE.sub("", fold(name))) if w not in _NAME_SUFFIXES]
    # ('Bank of England' is not 'England').
    return len(parts) >= 2 and "of" not in parts and _in(stem(parts[-1]), held)


def new_names(sentence: str, question: str) -> list[str]:
    """Names in the sentence that name something the question does not.

    A name keeps only its words after the last one the question uses: 'French Defense Minister
    Sébastien Lecornu' answers 'Who is the defense minister?' as 'Sébastien Lecornu', and
    'Mayor Alice Brennan' names nothing new to 'Where did Alice Brennan go?'.
    """
    asked = name_words(question)
    found = []
    for name in names(sentence):
        parts = name.split()
        used = [i for i, part in enumerate(parts) if any(_in(w, asked) for w in name_words(part))]
        rest = parts[used[-1] + 1:] if used else parts
        while rest and fold(rest[0]) in ("of", "de", "the", "and"):
            rest = rest[1:]
        if rest:
            found.append(" ".join(rest))
    return found


def names_covered(question: "Question", passage: str, lenient: bool = False, names: Sequence[str] | None = None) -> bool:
    """Every name (`names`, default the question's) and figure the question uses occurs in the
    passage (the sentence, its chunk and title): 'the meeting where 14 towns signed' is about a
    passage that says 14. `lenient` (a confident cross-encoder) excuses names, which news spells
    many ways, but not figures."""
    held = held_names(passage)
    figures = {fold(m.group(0)) for m in NUMBER.finditer(passage)}
    return (lenient or all(name_held(n, held) for n in (question.names if names is None else names))) and (
        question.digit_figures <= figures
    )


def holds_kind(kind: Kind, sentence: str, question: "Question") -> bool:
    """Whether the sentence holds the kind of thing asked for (yes/no and open questions: always)."""
    if kind is Kind.NUMBER:
        return has_number(sentence)
    if kind is Kind.DURATION:
        return _DURATION.search(sentence) is not None
    if kind is Kind.DATE:
        return _DATE.search(sentence) is not None
    if kind in (Kind.PERSON, Kind.PLACE, Kind.NAME):
        return bool(new_names(sentence, question.text))
    return True


# "On what date" asks for a day, "in what year" for a year, "which month" for a month: a span of
# another grain ('1969' for "On what date will the rally take place?") is not that answer.
_DATE_GRAIN_Q = re.compile(r"\b(?:what|which)(?: calendar)? (date|day|month|year|time)\b", re.I)
# A calendar date an undated article can give: 'yesterday' or 'on Monday' resolve against nothing.
_CALENDAR = rf"{DAYNUM} (?:of )?{MONTH}|{MONTH} {DAYNUM}|\d{{4}}-\d\d-\d\d"
_CALENDAR_DATE = re.compile(rf"\b(?:{_CALENDAR})", re.I)
_DAY = re.compile(rf"\b(?:{_CALENDAR}|{WEEKDAY}|yesterday|today|tomorrow)", re.I)
_GRAIN = {
    "date": _DAY,
    "day": _DAY,
    "month": re.compile(rf"\b{MONTH}", re.I),
    "year": re.compile(rf"\b{ANY_YEAR}"),
    "time": re.compile(rf"\b\d{{1,2}}[:.]\d\d\b|\b\d{{1,2}} ?[ap]\.?m\b|\b(?:noon|midnight)\b|{_DATE.pattern}", re.I),
}


# What a number question counts: a share wants a per cent ("what percentage"), a count is no per
# cent ("how many"), an amount of money is money ("how much did it cost/earn/take", unless it asks
# how much something rose or fell): '4.5%' does not say how much a film took.
_PERCENT_Q = re.compile(r"\b(?:what|which) (?:percentage|proportion|share|per ?cent)\b|\bby what per ?cent", re.I)
_COUNT_Q = re.compile(r"\bhow many\b", re.I)
_MONEY_Q = re.compile(r"\bhow much\b(?! (?:more|less|longer|time|of)\b)", re.I)
# ... and only where money is what it asks about: "how much rain fell" or "how much land" is no sum.
_MONEY_WORDS = re.compile(
    r"\b(?:cost|costs|costing|pa(?:y|id|ys)|earn(?:ed|s)?|t(?:ake|ook|aken)|rais(?:e|ed)|sp(?:end|ent)|charg(?:e|ed)|worth|"
    r"price|fee|fine|budget|fund(?:s|ing)?|s(?:ell|old)|bid|offer|damages|salary|wages?|grant|loan|debt|invest(?:ed)?|"
    r"revenue|profit|sales|money|compensation)\b", re.I)
_CHANGE = re.compile(r"\b(?:ris[ei]n?g?|rose|fall(?:en|ing)?|fell|drop(?:ped)?|gr[eo]wn?|increased?|decreased?|cut|gain(?:ed)?|"
                     r"los[et]|jump(?:ed)?|slump(?:ed)?|climb(?:ed)?|declined?|shrunk?|shrank|up|down|by)\b", re.I)
_PERCENT = re.compile(r"%|\bper ?cent\b|\bpercent\b", re.I)
_FRACTION = re.compile(r"\b(?:half|third|quarter|fifth|tenth)s?\b", re.I)
_MONEY = re.compile(
    rf"[$€£¥]|\b(?:EUR|USD|GBP|JPY)|\b(?:pounds?|dollars?|euros?|yen|yuan|pence|cents?|francs?|rupees?|roubles?)\b"
    rf"|\d\s?(?:{alternation(s for s in SCALES if s != 'thousand')})\b|\b(?:million|billion|trillion)\b", re.I)


_WORD = re.compile(r"[\w’'.-]+")  # a word with its dots and apostrophes: 'U.K.', 'Howl's'


def _number_fits(question: str, span: str) -> bool:
    if _PERCENT_Q.search(question):
        return bool(has_number(span) and _PERCENT.search(span) or _FRACTION.search(span))
    if not has_number(span):
        return False
    if _COUNT_Q.search(question):
        return not _PERCENT.search(span)
    if (_MONEY_Q.search(question) and _MONEY_WORDS.search(question) or _MONEY_WHAT_Q.search(question)) and not _CHANGE.search(question):
        return bool(_MONEY.search(span))
    return True


def span_fits(kind: Kind, span: str, question: "Question", dated: bool = True) -> bool:
    """Whether a reader's span is the kind of thing asked for: a "how many" wants a number, a
    "when" a date or time word, a "who"/"where"/"which" a name the question does not already use
    ('2005' does not answer "In which US state"), of the grain asked ("on what date" a day, "in
    what year" a year). Open and yes/no questions take any span."""
    if kind is Kind.NUMBER:
        return _number_fits(question.text, span)
    if kind is Kind.DURATION:
        return _DURATION.search(span) is not None or has_number(span)
    if kind is Kind.DATE:
        grain = _DATE_GRAIN_Q.search(question.text)
        unit = grain.group(1).lower() if grain else None
        if unit == "date" and not dated:
            return _CALENDAR_DATE.search(span) is not None  # `dated`: the span's article has a date to resolve days against
        return (_GRAIN[unit] if unit else _DATE).search(span) is not None
    if kind in (Kind.PERSON, Kind.PLACE, Kind.NAME):
        asked = {fold(w) for w in _WORD.findall(question.text)}
        # A capital anywhere marks a name: 'Aceh', 'iPod', 'U.K.'.
        # ('An' opening a sentence is no name.)
        return any(any(ch.isupper() for ch in w) and not any(ch.isdigit() for ch in w) and fold(w) not in asked
                   and fold(w) not in STOPWORDS for w in _WORD.findall(span))
    return True


def date_expressions(sentence: str) -> list[re.Match[str]]:
    return list(_DATE.finditer(sentence))


def duration_expressions(sentence: str) -> list[re.Match[str]]:
    return list(_DURATION.finditer(sentence))


def adds_something(sentence: str, question: "Question", min_new_words: int) -> bool:
    """A sentence that only restates the question answers nothing."""
    novel = stems(sentence) - question.stems
    return len(novel) >= min_new_words or has_number(sentence)


# "Who is Poland's foreign minister?", "Who is the manager of Newcastle?": an owner, a role with its
# modifiers, the role's head noun last.
_NAME_RUN = r"[A-Z][\w.’'-]*(?: [A-Z][\w.’'-]*)*"
_ROLE_Q = re.compile(
    rf"^\s*(?i:who (?:is|was|are|were) (?:the )?)(?:(?P<owner>{_NAME_RUN})['’]s? )?"
    rf"(?P<role>(?:[\w.-]+ ){{0,2}}?(?i:{alternation(ROLE_NOUNS)}))(?: (?i:of|at|for|in) (?:the )?(?P<owner2>{_NAME_RUN}))?\b"
)
_TITLE_WINDOW = 4  # words before a name that can be its title ("Polish Finance Minister Andrzej ...")


def _related(a: str, b: str) -> bool:
    """Same place or its adjective: 'Poland'/'Polish', 'France'/'French', 'Newcastle' and 'Arsenal' not."""
    a, b = fold(a).replace(".", ""), fold(b).replace(".", "")
    if a == b or same_word(a, b) or b in IRREGULAR_DEMONYMS.get(a, ()) or a in IRREGULAR_DEMONYMS.get(b, ()):
        return True
    return len(a) >= 3 and len(b) >= 3 and a[:3] == b[:3]


_COUNTED = re.compile(r"\bhow (?:many|much)\s+((?:[\w-]+\s+){0,3}[\w-]+)", re.I)
_RUN_WORD = re.compile(r"[^\W\d_][\w’'-]*|\S")
_RUN_JOINERS = frozenset(("and", "or"))
_RUN_WORDS = 4  # words after a number that can be the noun it counts ("112 strike and decoy drones")


def counted_nouns(question: str) -> set[str]:
    """What a "how many" question counts, stemmed: 'How many pole vault world records has ...' ->
    {pole, vault, world, record}."""
    m = _COUNTED.search(question)
    if not m:
        return set()
    nouns = set()
    for word in m.group(1).split():
        if fold(word) in STOPWORDS:
            break
        nouns.add(stem(fold(word)))
    return nouns


@lru_cache(maxsize=1)
def _count_synonyms() -> dict[str, frozenset[str]]:
    return {stem(w): frozenset(stem(x) for x in group) for group in COUNT_GROUPS for w in group}


# "What percentage of men ..." asks a share of one population: '35% of women' is another's.
_SHARE_OF = re.compile(r"\b(?:percentage|proportion|share|fraction|per ?cent)\s+of\s+((?:[\w'’-]+\s+){0,4}[\w'’-]+)", re.I)
_OF_RUN = re.compile(r"^\s*of\s+((?:[\w'’-]+\s*){1,4})", re.I)
_DETERMINERS = frozenset(("the", "all", "its", "their", "his", "her", "our", "a", "an", "those", "these"))


def _population(text: str) -> list[str]:
    """The content words a share is of, determiners in front skipped: 'the UK's men in ...' -> [uk's, men]."""
    words: list[str] = []
    for word in text.split():
        folded = fold(word)
        if folded in _DETERMINERS and not words:
            continue
        if folded in STOPWORDS or not folded[:1].isalpha():
            break
        words.append(folded)
    return words


_FIGURE_OF = re.compile(r"(\d(?:[\d.,]*\d)?\s*(?:%|per ?cent)?)\s+of\s+((?:[\w'’-]+\s*){1,4})", re.I)


def _asked_population(question: "Question") -> list[str]:
    """Whom a "what percentage of X" question asks about ([] for any other question)."""
    m = _SHARE_OF.search(question.text)
    return _population(m.group(1)) if question.kind is Kind.NUMBER and m is not None else []


def share_agrees(question: "Question", after_span: str, sentence: str = "") -> bool:
    """Whether a share span is of the population asked about, when its sentence compares shares:
    "What percentage of men ..." is not answered by '35% of women' in "35% of women earn less,
    compared to only 18% of men". Only a contrast is judged: another figure of the sentence must
    be of the asked population ('60% of those polled' for "percentage of voters", with no other
    share beside it, may be the same people named another way)."""
    return asked_share_instead(question, after_span, sentence) is None


def asked_share_instead(question: "Question", after_span: str, sentence: str) -> tuple[int, int] | None:
    """Where the sentence gives the asked population's share ('18%' of "18% of men" for "What
    percentage of men ...") when the span, followed by `after_span`, is another population's
    ('35%' of "35% of women"): (start, end) in the sentence, or None when the span is of the asked
    population or the sentence gives no share of it. The reader, reading a sentence that compares
    shares, can take the wrong one; the sentence itself says which is which."""
    asked, got_m = _asked_population(question), _OF_RUN.match(after_span)
    got = _population(got_m.group(1)) if got_m is not None else []
    if not asked or not got or _same_population(asked, got):
        return None
    for m in _FIGURE_OF.finditer(sentence):
        population = _population(m.group(2))
        if population and _same_population(asked, population):
            return m.start(1), m.end(1)
    return None


def _same_population(a: list[str], b: list[str]) -> bool:
    """A shared word, or the initials of one side ('GDP', 'gross domestic product')."""
    if {stem(w) for w in a} & {stem(w) for w in b}:
        return True
    short = lambda words: "".join(w[0] for w in words)  # noqa: E731
    return short(a) in b or short(b) in a


def counted_agrees(question: "Question", after_span: str, sentence: str = "") -> bool:
    """Whether the words right after a "how many" span count what is asked: '55,000 promotion
    packs' does not answer "How many complaints ...". Only a run of content words straight after
    the number is judged ('26 of them', '310 in 2004': nothing to judge, True); a counting noun
    and its usual synonyms (the lexicon's COUNT_GROUPS: 'firms' for 'companies') agree. A share
    is judged by `share_agrees`."""
    if question.kind is not Kind.NUMBER:
        return True
    if not re.search(r"\bhow many\b", question.text, re.I):
        return share_agrees(question, after_span, sentence)
    counted = counted_nouns(question.text)
    counted |= {syn for w in counted for syn in _count_synonyms().get(w, ())}
    run = []
    for word in _RUN_WORD.findall(after_span)[:_RUN_WORDS]:
        folded = fold(word)
        if folded in _RUN_JOINERS:
            continue
        if not word[0].isalpha() or folded in STOPWORDS:
            break
        if folded not in SCALES:
            run.append(stem(folded))
    if not counted or not run:
        return True
    return any(_in(w, counted) for w in run)


def role_agrees(question: "Question", before_span: str) -> bool:
    """Whether the title in front of a span ('Finance Minister Andrzej Domański', 'Arsenal manager
    Arsene Wenger') is the role the question asks about: a title with the asked head noun but
    another modifier ('finance' for "foreign minister") or another owner ('Arsenal' for "the
    manager of Newcastle") is someone else's. No title in front, or a question of another shape:
    nothing to judge (True)."""
    if question.kind is not Kind.PERSON:
        return True
    m = _ROLE_Q.match(question.text)
    if m is None:
        return True
    role = m.group("role").split()
    head = fold(role[-1])
    if head not in ROLE_NOUNS:
        return True
    words = _WORD.findall(re.split(r"[,;:()\"“”]", before_span)[-1])[-_TITLE_WINDOW:]
    at = next((i for i in range(len(words) - 1, -1, -1) if fold(words[i]) == head), None)
    if at is None:
        return True
    title = words[:at]
    modifiers = [w for w in role[:-1] if not w[0].isupper()]
    owners = [w for part in (m.group("owner"), m.group("owner2")) if part for w in part.split()]
    owners += [w for w in role[:-1] if w[0].isupper()]  # "the U.S. envoy": U.S. owns the role
    if modifiers and title and not any(_related(t, w) for t in title[-1:] for w in modifiers):
        return False  # 'Finance Minister' is not the foreign minister
    # 'But its president': a capitalised stopword opens the sentence, it names no one.
    named = [t for t in title if t[0].isupper() and fold(t) not in STOPWORDS and not any(_related(t, w) for w in modifiers)]
    return not (owners and named and not any(_related(t, o) for t in named for o in owners))
