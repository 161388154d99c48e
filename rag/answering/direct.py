"""The short answer ("14 bridges", "Brennan", "No") taken verbatim from the sentence that answers.

Only for questions that ask for a number, a duration, a date, a name or yes/no; None otherwise
or when the sentence does not plainly hold one. Every non yes/no answer is a substring of the
cited sentence, so it can be checked against the quote.
"""

from __future__ import annotations

import datetime as dt
import re

from rag.answering import dayref
from rag.answering.answerability import (
    Kind, counted_nouns, date_expressions, duration_expressions, held_names, initials, name_held, name_tokens, name_words,
    new_names,
)
from rag.answering.question import Question, without_attribution
from rag.answering.text import STOPWORDS, fold, names, stem, stems
from rag.lexicon import DIRECTION_DOWN, DIRECTION_LEVEL, DIRECTION_UP, NUMBER

_NEGATION = re.compile(
    r"\b(not|never|no|none|neither|nor|nobody|nothing|without)\b|n[’']t\b"
    # Verbs that deny what follows them, in the tenses news uses ('refuses to say', 'refrained
    # from divulging', 'stopped short of endorsing').
    r"|\b(declin(?:e|es|ed|ing)|refus(?:e|es|ed|ing)|fail(?:s|ed|ing)?|den(?:y|ies|ied|ying)|reject(?:s|ed|ing)?"
    r"|refrain(?:s|ed|ing)?|(?:rule[sd]?|ruling) out|(?:stop(?:s|ped)?) short of)\b",
    re.I,
)
# "Is there a consensus ...?" asks whether the consensus exists: a 'Yes' sentence must name it
# ('France and the UK have explored sending troops' does not say the nations agree).
_EXISTENTIAL = re.compile(r"^\s*(?:is|are|was|were|will|has|have)\s+there\s+(?:been\s+|be\s+)?(?:an?|any|some)\s+([a-z][\w-]*)", re.I)
# A sentence that leaves the asked fact open answers neither yes nor no.
_HEDGE = re.compile(
    r"\b(?:(?:un|not )clear|uncertain|unknown|not known|undecided|(?:yet|unable|too early) to (?:say|decide|confirm|tell))"
    r"\s+(?:whether|if)\b|\bremains? to be seen\b",
    re.I,
)
# Words that make a statement a possibility, not a fact ('could lose', 'is expected to announce').
_SPECULATIVE = re.compile(r"\b(?:could|might|(?-i:may)|would|expected to|likely to|reportedly|allegedly|possibly)\b", re.I)
# A sentence that refers back to a name said before it.
_REFERS_BACK = re.compile(r"\b(?:he|she|they|it|his|her|their|its)\b", re.I)
_NEAR_WORDS = 6  # a name and the asked word it goes with, in a 'Yes' sentence
_NEGATION_REACH = 4  # words either side of a negation, in its clause, that must hold an asked word, for a 'No'
_CLAUSE_BREAK = re.compile(r"[,;:()\"“”—]|\s-\s")
_GAP = re.compile(r"^[\s,]*(?:(?:of|the|and|in|on|at)\s+)*$", re.I)
_TOKEN = re.compile(r"[\w’'-]+")
_NOUN_WINDOW = 3  # words between a number and the noun it counts ("14 new steel bridges")


def direct_answer(
    kind: Kind, question: Question, sentence: str, yes_min_coverage: float, no_min_coverage: float,
    published: dt.date | None = None, title: str = "", context: str = "",
) -> str | None:
    """`published` is the date of the sentence's article: "on Monday" becomes a calendar day;
    `title` its headline and `context` its passage (a yes/no sentence may leave the subject to them)."""
    if kind is Kind.NUMBER:
        return number_answer(question, sentence)
    if kind is Kind.DURATION:
        return duration_answer(sentence)
    if kind is Kind.DATE:
        return when_answer(sentence, published)
    if kind is Kind.PERSON:
        return person_answer(question, sentence)
    if kind in (Kind.PLACE, Kind.NAME):
        return name_answer(question, sentence)
    if kind is Kind.YES_NO:
        return yes_no(question, sentence, yes_min_coverage, no_min_coverage, title, context)
    return None


def number_answer(question: Question, sentence: str) -> str | None:
    """The number that counts what the question counts, with that noun: '14 bridges'."""
    numbers = [m for m in NUMBER.finditer(sentence) if fold(m.group(0)) not in question.figures]
    if not numbers:
        return None
    counted = counted_nouns(question.text)
    best: tuple[int, str] | None = None  # (words between number and noun, answer)
    for m in numbers:
        for i, w in enumerate(_TOKEN.finditer(sentence[m.end():])):
            if i >= _NOUN_WINDOW:
                break
            if stem(fold(w.group(0))) in counted:
                if best is None or i < best[0]:
                    best = (i, sentence[m.start(): m.end() + w.end()])
                break
    if best:
        return best[1]
    # No counted noun ("how many were intercepted?"): the number nearest the question's own words.
    echoes = [m.start() for m in _echoes(question, sentence)]
    if not echoes:
        return numbers[0].group(0).strip()
    return min(numbers, key=lambda m: min(abs(m.start() - e) for e in echoes)).group(0).strip()


def name_answer(question: Question, sentence: str) -> str | None:
    """The new name nearest to where the sentence echoes the question ('harbour pilot, Tom Okafor')."""
    found = new_names(sentence, question.text)
    if not found:
        return None
    return _nearest(question, sentence, found)


def person_answer(question: Question, sentence: str) -> str | None:
    """A person is named in two or more words ('Ursula von der Leyen'); the title before the
    name is dropped. The multi-word name nearest to the question's echo wins."""
    people = [n for n in new_names(sentence, question.text) if len(n.split()) >= 2]
    if not people:
        return name_answer(question, sentence)
    best = _nearest(question, sentence, people)
    words = best.split()
    capitals = [i for i, w in enumerate(words) if w[0].isupper()]
    return " ".join(words[capitals[-2]:]) if len(capitals) >= 2 else best


def _nearest(question: Question, sentence: str, found: list[str]) -> str:
    echoes = [m.span() for m in _echoes(question, sentence)]
    if not echoes:
        return found[0]

    def gap(name: str) -> int:
        s = sentence.find(name)
        e = s + len(name)
        return min(s - ee if s >= ee else es - e if es >= e else 0 for es, ee in echoes)

    return min(found, key=gap)


def _echoes(question: Question, sentence: str) -> list[re.Match[str]]:
    """The sentence's words that the question uses too (stemmed)."""
    return [m for m in _TOKEN.finditer(sentence) if stem(fold(m.group(0))) in question.stems]


def duration_answer(sentence: str) -> str | None:
    """'two weeks', 'more than three years': a number right before a unit of time."""
    for unit in duration_expressions(sentence):
        before = [m for m in NUMBER.finditer(sentence[: unit.start()]) if _GAP.match(sentence[m.end(): unit.start()])]
        if before:
            return sentence[before[-1].start(): unit.end()]
    return None


def date_answer(sentence: str) -> str | None:
    """The first date expression, adjacent parts joined: 'Thursday, March 6', '2 March 2025'."""
    found = date_expressions(sentence)
    if not found:
        return None
    begin, finish = found[0].start(), found[0].end()
    for m in found[1:]:
        if not _GAP.match(sentence[finish: m.start()]):
            break
        finish = m.end()
    return sentence[begin:finish]


def when_answer(sentence: str, published: dt.date | None) -> str | None:
    """The sentence's date; a day it names relative to its article ("on Monday", "yesterday",
    "last Friday") resolved against the article's date: "Monday 24 March 2025". An explicit date
    stays as written, unless it is only the dateline ("RIVERTON, March 11, 2025 —")."""
    found = date_answer(sentence)
    dateline = found is not None and _dateline(sentence, found)
    if published is None or (found is not None and _explicit(found) and not dateline):
        return found
    resolved = dayref.resolve_day_reference(sentence, published)  # skips a dateline
    if resolved is None:
        return found
    phrase, day = resolved
    if _explicit(phrase):
        return phrase if dateline else found
    return dayref.format_day(day)


# "RIVERTON, January 8, 2025 — ": the paper's place and date before the story, not a fact of it.
_DATELINE = re.compile(r"^\s*[A-Z][A-Z .'’-]+,\s+[^—–\n]{3,30}?\d\s*[—–-]\s+")


def without_dateline(sentence: str) -> str:
    """The sentence without a leading dateline, so the paper's date is not taken for the answer's."""
    return _DATELINE.sub("", sentence, count=1)


def _explicit(expression: str) -> bool:
    """A date written with its numbers ('3 March', '2031') rather than named relative to the article."""
    return any(ch.isdigit() for ch in expression)


def _dateline(sentence: str, expression: str) -> bool:
    at = sentence.find(expression)
    return at >= 0 and dayref.DATELINE_END.match(sentence, at + len(expression)) is not None


def negated(sentence: str, question: str = "", about: frozenset[str] | None = None) -> bool:
    """The sentence denies something: a negation the question does not itself use ('Did X rule
    out ...?' is answered yes by 'X ruled out ...'), or a question word with a negative prefix
    ('likely' -> 'unlikely'). With `about` (stems), only a negation within a few words of one of
    them in its clause counts: 'without the participation of the USA' denies nothing about a
    phone call, and 'this is not a matter of desire' nothing about wanting a meeting."""
    asked = {stem(w) for w in re.findall(r"\w+", fold(question))}
    folded = fold(sentence)
    tokens = [(m.start(), stem(m.group(0))) for m in re.finditer(r"\w+", folded)]

    def near(at: int) -> bool:
        if about is None:
            return True
        # The negation's clause: from the punctuation before it to the punctuation after it.
        left = max((m.end() for m in _CLAUSE_BREAK.finditer(folded, 0, at)), default=0)
        right = next((m.start() for m in _CLAUSE_BREAK.finditer(folded, at)), len(folded))
        clause = [(start, t) for start, t in tokens if left <= start < right]
        i = sum(1 for start, _ in clause if start < at)
        return any(t in about for _, t in clause[max(0, i - _NEGATION_REACH): i + _NEGATION_REACH + 1])

    if any(stem(fold(m.group(0)).split()[0]) not in asked and near(m.start()) for m in _NEGATION.finditer(folded)):
        return True
    return any(
        len(w) > 5 and w[:2] in ("un", "in", "im") and stem(w[2:]) in asked or w[:3] in ("non", "dis") and stem(w[3:]) in asked
        for w in re.findall(r"\w+", folded)
    )


def yes_no(question: Question, sentence: str, min_coverage: float, no_min_coverage: float, title: str = "",
           context: str = "") -> str | None:
    """'No' when the sentence negates the asked fact, 'Yes' when it states it; None otherwise, and
    None when it leaves the fact open ('it remains unclear whether ...').

    The sentence must be about the asked fact: it holds at least `min_coverage` of the content
    words of the question's core (stemmed; `no_min_coverage` when it negates; an 'According to
    X, ...' clause says where, not what) and its passage names every name the question names. A
    sentence leaves out what its headline (`title`) and the sentences around it (`context`)
    already name ("He has also criticised ..."; "The five-year funding ..." under "UK aids
    Rwanda's survivors"): the headline counts for the words, both for the names; whether it
    negates is the sentence's alone.
    """
    core = without_attribution(question.text)
    asked = frozenset(stems(core)) or question.stems
    if not asked:
        return None
    asked_names = names(core) if core != question.text else question.names
    what = asked - name_words(" ".join(asked_names))  # what is asked of the names
    if _hedges(sentence, what):
        return None
    words = _stems_and_parts(sentence) | _stems_and_parts(title)
    if negated(sentence, question.text, about=what) or _opposite_direction(sentence, question.text):
        # Denials are terse ("the US did not send one"): one of the asked names is enough, but in
        # the sentence or headline: a denial of a neighbour's fact is no answer.
        said = held_names(f"{title} {sentence}")
        held = [name for name in asked_names if name_held(name, said)]
        ok = bool(held) or not asked_names
        return "No" if ok and _coverage(asked, words, held) >= no_min_coverage else None
    if _SPECULATIVE.search(sentence) and not _SPECULATIVE.search(question.text):
        return None  # 'could lose her medals' does not say she will
    if _opposite_direction(sentence, question.text, only=False):
        return None  # 'the levy fell while fees rose' does not say the levy rose
    # The sentence may leave a name to its passage only when it refers back to it ('He has also ...').
    passage = f"{title} {context} {sentence}" if _REFERS_BACK.search(sentence) else f"{title} {sentence}"
    said = held_names(passage)
    held = [name for name in asked_names if name_held(name, said)]
    ok = len(held) == len(asked_names) and all(_near(sentence, name, asked) for name in held)
    # A sentence that leaves the asked name to its headline or passage but names someone new says
    # what that one did: 'X, chief of the Family Planning Association, said teaching pupils about
    # contraception was key' under a headline on Ruth Kelly does not say she supports it. (A name
    # of one word is as often a thing as a someone: 'GDP'.)
    own = held_names(sentence)
    borrowed = any(not name_held(name, own) for name in held)
    if borrowed and any(len(name.split()) > 1 for name in new_names(sentence, f"{question.text} {title}")):
        return None
    focus = _EXISTENTIAL.match(core)
    if focus is not None and stem(fold(focus.group(1))) not in words:
        return None
    return "Yes" if ok and _coverage(asked, words, held) >= min_coverage else None


def _near(sentence: str, name: str, asked: frozenset[str]) -> bool:
    """A name the sentence itself says stands within a few words of what is asked of it: in 'a
    meeting attended by 30 countries, as Ukraine backed a US proposal', the US attended nothing."""
    tokens = name_tokens(sentence)
    own = name_words(name)
    short = initials(name)
    at = [i for i, t in enumerate(tokens) if t in own or t == short]
    if not at:
        return True  # named by the headline or the passage, not here
    wanted = [i for i, t in enumerate(tokens) if t in asked and t not in own]
    return not wanted or min(abs(i - j) for i in at for j in wanted) <= _NEAR_WORDS


def _ways(text: str) -> set[str]:
    """Which ways ('up', 'down', 'level': unchanged) the text says something moved."""
    words = set(re.findall(r"[a-z]+", fold(text)))
    return {way for way, lexicon in (("up", DIRECTION_UP), ("down", DIRECTION_DOWN), ("level", DIRECTION_LEVEL)) if words & lexicon}


def _opposite_direction(sentence: str, question: str, only: bool = True) -> bool:
    """The question asks whether something went one way ('rise', 'cut', 'push up') and the
    sentence says the other ('slipped', 'rise by $19bn'): only the other (`only`), or also."""
    asked, said = _ways(question), _ways(sentence)
    if len(asked) != 1 or not said - asked:
        return False
    return not only or said.isdisjoint(asked)


def _stems_and_parts(text: str) -> set[str]:
    """Content stems, hyphenated words also by their parts ('closed-door' holds 'door')."""
    return stems(text) | stems(text.replace("-", " "))


def _coverage(asked: frozenset[str], words: set[str], held_names: list[str]) -> float:
    """The share of the asked words the sentence holds; a name it refers to by initials or a
    pronoun (held in its passage) counts as held."""
    return len(asked & (words | stems(" ".join(held_names)))) / len(asked)


def _hedges(sentence: str, asked: frozenset[str]) -> bool:
    """The sentence leaves open what is asked: its 'unclear whether ...' clause holds one of the
    question's words that are not names ('... unclear whether Trump agreed' leaves 'Did Trump
    agree?' open, not 'Do officials expect Trump to ...?')."""
    for m in _HEDGE.finditer(sentence):
        clause = re.split(r"[,;:.]", sentence[m.end():], maxsplit=1)[0]
        if not clause.strip() or asked & stems(clause):
            return True
    return False
