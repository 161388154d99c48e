"""Small text helpers shared by the answering steps (one copy each): words, stems, numbers, names."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rag.lexicon import FULL_MONTHS, NUMBER, WEEKDAYS

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
_CAPITALISED = re.compile(r"[^\W\d_][\w’'.-]*")
# Lower-case words inside a name: 'Bank of England', 'Ursula von der Leyen'.
PARTICLES = frozenset("of de der den von van du da di del la le bin al".split())
# Words that are capitalised for grammar, not because they name something.
_NOT_NAMES = frozenset([*WEEKDAYS, *FULL_MONTHS, *"mr mrs ms dr the a an i".split()])


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
    return NUMBER.search(text) is not None


def names(text: str) -> list[str]:
    """Runs of capitalised words, not counting the text's first word: 'Alice Brennan', 'U.K.'.

    A run may hold 'of'/'de' between capitals ('Bank of England'). Sentence-initial words are
    skipped because their capital is grammar, unless the next word is capitalised too.
    """
    tokens = [(m.group(0), m.start(), m.end()) for m in _CAPITALISED.finditer(text)]
    found: list[str] = []
    run: list[tuple[str, int, int]] = []

    def close() -> None:
        while run and fold(run[-1][0]) in PARTICLES:
            run.pop()
        if run:
            found.append(text[run[0][1]:run[-1][2]].rstrip(".’'"))
        run.clear()

    for i, (token, s, e) in enumerate(tokens):
        sentence_start = i == 0 or text[:s].rstrip().endswith((".", "!", "?", ":", '"', "“"))
        is_cap = token[0].isupper() and fold(token).strip(".’'") not in _NOT_NAMES
        if is_cap and sentence_start and fold(token) in STOPWORDS:
            is_cap = False
        joined = text[run[-1][2]:s].strip() == "" if run else True
        next_joined = i + 1 < len(tokens) and tokens[i + 1][0][0].isupper() and not text[e:tokens[i + 1][1]].strip()
        if is_cap and (not sentence_start or next_joined):
            if run and not joined:
                close()
            run.append((token, s, e))
        elif run and fold(token) in PARTICLES and joined:
            run.append((token, s, e))
        else:
            close()
    close()
    return found

