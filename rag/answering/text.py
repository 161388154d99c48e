"""Small text helpers shared by the answering steps: content words, stems, numbers, entities."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves also according said says say tell
    told many much did does do happen happened according article corpus news report reported""".split()
)
_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*%?", re.UNICODE)
_NUMBER = re.compile(r"\d")
# Questions whose answer is a number: evidence scoring favours, and answerability requires, one.
WANTS_NUMBER = re.compile(
    r"\b(how many|how much|what percentage|what share|what proportion|what number|how large|how big|"
    r"what amount|what sum|what figure|how long|what year|which year|what target)\b",
    re.I,
)


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Élysée' matches 'Elysee'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("đ", "d")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def words(text: str) -> list[str]:
    return [w.strip(".,'’") for w in _WORD.findall(fold(text))]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w and w not in STOPWORDS]


def stems(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


def has_number(text: str) -> bool:
    return bool(_NUMBER.search(text))


def entities(text: str) -> set[str]:
    """Capitalised words not at the start of the text: names of people, places, bodies."""
    found = set()
    tokens = re.findall(r"[^\W\d_][\w’'.-]*", text)
    for i, token in enumerate(tokens):
        if i > 0 and token[0].isupper() and fold(token) not in STOPWORDS:
            found.add(stem(fold(token).strip(".’'")))
    return found
