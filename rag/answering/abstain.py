"""Answerability: does a sentence actually answer the question, or merely resemble it?

Similarity alone cannot tell "26 nations pledged troops" from an answer to "How many soldiers
will the force have?". These checks look for what the question asks for: a number next to the
counted noun, a date, a name or place the question does not already contain, the question's own
entities, and something new beyond the question's words.
"""

from __future__ import annotations

import re

from rag.answering.text import STOPWORDS, WANTS_NUMBER, content_words, fold, stem

_NUMBER_WORDS = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|dozens|hundreds|thousands|million|billion"
_HAS_NUMBER = re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.I)
_WANTS_DATE = re.compile(r"\b(when|what date|which date|what day|which day|what month|which month|what year|which year)\b", re.I)
_WANTS_NAME = re.compile(r"\b(who|whom|whose|name of|named|which (?:president|minister|leader|official|envoy|person|politician|editor|chancellor|secretary|newspaper|outlet|publication|project|agency|minister|organi[sz]ation))\b", re.I)
_WANTS_PLACE = re.compile(r"\b(where|which (?:city|country|capital|town|palace|venue|countries|nations|states)|in what city|what city|what country)\b", re.I)
_DATE_TOKEN = re.compile(
    r"\b(\d{4}|\d{1,2}(st|nd|rd|th)|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
    r"tomorrow|last (week|month|year)|next (week|month|year)|earlier this (week|month|year)|"
    r"this (week|month|year)|overnight|on the eve)\b",
    re.I,
)
_WANTS_DURATION = re.compile(r"\bhow long\b", re.I)
_DURATION = re.compile(r"\b(years?|months?|weeks?|days?|hours?|minutes?|decades?|centur(y|ies))\b", re.I)
_SYNONYMS = {
    "soldier": {"soldier", "troop"}, "troop": {"troop", "soldier"},
    "countri": {"countri", "nation", "state", "member"}, "nation": {"nation", "countri", "state", "member"},
    "peopl": {"peopl", "person", "civilian"},
}


# News names a country by its capital, its people or its region; an article that says "Russia"
# does answer a question about "Moscow".
_ALIASES = {
    "moscow": "russia russian kremlin", "kreml": "russia russian moscow",
    "kyiv": "kiev ukraine ukrainian", "kiev": "kyiv ukraine ukrainian",
    "washi": "us u.s united america american trump white", "ameri": "us u.s united america american washington",
    "londo": "uk u.k britain british", "briti": "uk u.k britain london", "brita": "uk u.k british london",
    "uk": "u.k britain british london", "u.k": "uk britain british london",
    "us": "u.s america american washington", "u.s": "us america american washington",
    "paris": "france french elysee", "franc": "french paris", "frenc": "france paris",
    "berli": "germany german", "germa": "germany german berlin", "beiji": "china chinese",
    "chine": "china beijing", "bruss": "eu europe european", "nordi": "finland finnish sweden swedish norway norwegian denmark danish iceland",
    "warsa": "poland polish", "polis": "poland warsaw", "polan": "polish warsaw",
}


_ALIASES = {key[:5]: names for key, names in _ALIASES.items()}


def _named(entity: str, pool: set[str]) -> bool:
    if entity in pool or _prefix_in(entity, pool):
        return True
    aliases = _ALIASES.get(entity[:5], "").split()
    return any(_prefix_in(alias.replace(".", "")[:5] if len(alias) > 4 else alias.replace(".", ""), pool) for alias in aliases)


def _prefix_in(word: str, pool: set[str]) -> bool:
    key = word[:5]
    return any(p[:5] == key for p in pool)


def new_entities(sentence: str, question: str) -> list[str]:
    """Capitalised words of the sentence (not its first word) that the question does not name."""
    q_words = {fold(w) for w in re.findall(r"\w+", question)}
    tokens = re.findall(r"[^\W\d_][\w’'.-]*", sentence)
    found = []
    for i, token in enumerate(tokens):
        if i == 0 or not token[0].isupper():
            continue
        word = fold(token).strip(".’'")
        if word in STOPWORDS or _prefix_in(word, q_words):
            continue
        found.append(token)
    return found


def _counted_nouns(question: str) -> set[str]:
    """The (up to two) words after the last 'how many', up to the first function word."""
    parts = re.split(r"\bhow many\b", question, flags=re.I)
    if len(parts) < 2:
        return set()
    nouns = set()
    for word in re.findall(r"[a-z-]+", parts[-1].lower())[:2]:
        if word in STOPWORDS:
            break
        nouns.add(stem(word))
    return nouns


def _number_near(sentence: str, nouns: set[str], window: int = 4) -> bool:
    tokens = re.findall(r"[\w.%-]+", fold(sentence))
    wanted = set().union(*(_SYNONYMS.get(n, {n}) for n in nouns))
    for i, token in enumerate(tokens):
        if _HAS_NUMBER.search(token):
            near = tokens[max(0, i - 2): i] + tokens[i + 1: i + 1 + window]
            if any(stem(t) in wanted for t in near):
                return True
    return False


_META_REFERENCE = re.compile(
    r",?\s*\b(?:according to|in|as reported in|as told in)\s+(?:the|an?)\s+(?:report|article|story|piece|coverage)"
    r"\s+(?:on|about|of)\s+[^,?]*,?",
    re.I,
)


def _entities(question: str) -> set[str]:
    return {
        stem(part.replace(".", ""))
        for i, t in enumerate(re.findall(r"[^\W\d_][\w’'.-]*", question))
        if i and t[0].isupper() and fold(t).strip(".’'") not in STOPWORDS
        for part in fold(t).strip(".’'").split("-")  # "Tusk-Macron talks" names Tusk and Macron
        if part
    }


def missing(question: str, sentence: str, context: str = "", article: str = "") -> list[str]:
    """What the sentence lacks to answer the question; empty when it may answer it.

    `question` is the user's own (last) question; `context` is text around the sentence (its
    neighbours and the article title) that may name the question's entities.
    """
    reasons = []
    if WANTS_NUMBER.search(question) and not _HAS_NUMBER.search(sentence):
        reasons.append("no number")
    if _WANTS_DURATION.search(question) and not _DURATION.search(sentence):
        reasons.append("no duration")
    nouns = _counted_nouns(question)
    if nouns and _HAS_NUMBER.search(sentence) and not _number_near(sentence, nouns):
        reasons.append(f"no count of {'/'.join(sorted(nouns))}")
    if _WANTS_DATE.search(question) and not WANTS_NUMBER.search(question) and not _DATE_TOKEN.search(sentence):
        reasons.append("no date")
    if (_WANTS_NAME.search(question) or _WANTS_PLACE.search(question)) and not new_entities(sentence, question):
        reasons.append("no new name or place")
    # "according to the article on the Tusk-Macron talks" says which article, not what the
    # sentence must name: those entities are looked for in the whole passage instead.
    meta = " ".join(m.group(0) for m in _META_REFERENCE.finditer(question))
    asked = _META_REFERENCE.sub(" ", question) if meta else question
    around = {stem(w.replace(".", "")) for w in content_words(sentence + " " + context)}
    lacking = [e for e in _entities(asked) if not _named(e, around)]
    if meta:
        passage = around | {stem(w.replace(".", "")) for w in content_words(article)}
        lacking += [e for e in _entities(" x " + meta) if not _named(e, passage)]
    if lacking:
        reasons.append("does not name " + ", ".join(sorted(set(lacking))))
    q_stems = {stem(w) for w in content_words(asked)}
    novel = {stem(w) for w in content_words(sentence)} - q_stems
    if len(novel) < 2 and not _HAS_NUMBER.search(sentence):
        reasons.append("adds nothing to the question")
    return reasons
