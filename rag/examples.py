"""Example questions built from the collection: what a newcomer could ask it and get an answer.

Whole names, never a headline cut to fit: a briefing on the newest story that names something
("What's the latest on Vale Line?"), a period briefing on the newest month ("What happened in April
2025?"), a lookup on what a named person said in a recent article ("What did Helen Marsh say?"),
and a summary of another story. Over undated articles "the latest" means nothing: the briefing is on
what most of them are about ("What's happening with Emmanuel Macron?"), and the period is a month
their text gives dates in ("What happened in March?", answered from those event dates). Questions
longer than `max_chars` are skipped (Gradio cuts example labels).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Callable

from rag.answering.eventdates import stated_dates
from rag.answering.text import names
from rag.lexicon import IRREGULAR_DEMONYMS, MONTH_NAMES, ROLE_NOUNS, WEEKDAY_NAMES
from rag.sources.article import is_derived_title

_NOT_TOPICS = {m.casefold() for m in (*MONTH_NAMES, *WEEKDAY_NAMES)}
# "Helen Marsh said", "Helen Marsh, the transport commissioner, said": a person's words, asked for.
_SAID = re.compile(r"\b(?P<name>[A-Z][a-z'’-]+(?: [A-Z][a-z'’-]+)*)(?:, [^,.]{1,60},)? (?:said|told|says)\b")
_HEAD_CHARS = 4000  # names and dates are read from each article's opening: what it is about
_READ_ARTICLES = 20  # the newest articles read for shared names and dates (the page builds examples often)
# 'French President Emmanuel Macron' is 'Emmanuel Macron' as a topic.
_TITLE_WORDS = ROLE_NOUNS | set(IRREGULAR_DEMONYMS) | {"prime", "foreign", "deputy", "vice", "mr", "mrs", "ms", "dr"}


def _topic(title: str, source: str, text: str = "", short_title_words: int = 4) -> str:
    """The longest name a title holds that its article's text also names ('Vale Line', 'Time
    Warner'; a capitalised headline's runs, 'Troop Security Guarantee', are no names); else a short
    title whole ('Zorbland orchard harvest': its capital is grammar, so `names` skips it); else ''.
    A file name, or a title made from the lead's first words, is no title."""
    if is_derived_title(title):
        return ""
    found = [n for n in names(title) if n.casefold() not in _NOT_TOPICS and n.casefold() not in source.casefold()
             and (not text or n in text)]
    if found:
        return max(found, key=len)
    words = title.strip(" .!?").split()
    stem = Path(source).stem.casefold().replace("_", " ").replace("-", " ")
    return " ".join(words) if 0 < len(words) <= short_title_words and " ".join(words).casefold() != stem else ""


def _shared_names(texts: list[str]) -> list[str]:
    """Names at least two articles give, most articles first, then the longer: what the collection
    is about. Roles go ('Emmanuel Macron'); possessives and adjectives of place are no topics."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({_untitled(n) for n in names(text[:_HEAD_CHARS])} - {""})
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], -len(kv[0]), kv[0]))
    return [name for name, count in ranked if count >= 2]


def _untitled(name: str) -> str:
    """'French President Emmanuel Macron' -> 'Emmanuel Macron'; '' for no topic ('Russian', 'Ukraine’s')."""
    words = name.split()
    while len(words) > 1 and words[0].casefold().rstrip(".") in _TITLE_WORDS:
        words = words[1:]
    name = " ".join(words)
    if name.casefold() in _NOT_TOPICS or name.endswith(("’s", "'s")) or (len(words) == 1 and _adjective(name)):
        return ""
    return name


def _adjective(word: str) -> bool:
    """'European', 'Russian', 'Ukrainian', 'Western': a word naming where something is from."""
    return word.casefold() in IRREGULAR_DEMONYMS or word.endswith(("ean", "ian", "ern", "ese", "ish"))


def _event_month(texts: list[str]) -> str:
    """The month the articles' own text dates most things in ('March'), or ''."""
    months = Counter(d.month for text in texts for d in stated_dates(text[:_HEAD_CHARS]))
    return MONTH_NAMES[months.most_common(1)[0][0] - 1] if months else ""


def _speakers(text: str) -> list[str]:
    """Names (as `names` finds them: never a sentence's opening 'He') said to have spoken."""
    head = text[:_HEAD_CHARS]
    known = set(names(head))
    return [m.group("name") for m in _SAID.finditer(head) if m.group("name") in known]


def example_questions(
    documents: list[dict], article_text: Callable[[str], str], limit: int, max_chars: int,
    answers: Callable[[str], bool], tries: int = 4,
) -> list[str]:
    """Up to `limit` questions, newest articles first; `article_text(source)` reads one article and
    `answers(question)` says whether the collection answers a lookup (up to `tries` are asked)."""
    newest = sorted(documents, key=lambda d: (d.get("published") or "", d.get("source") or ""), reverse=True)
    texts = {d["source"]: _read(article_text, d["source"]) for d in newest[:_READ_ARTICLES]}
    topics = [t for t in (_topic(d.get("title") or "", d.get("source") or "", texts.get(d["source"], "")) for d in newest) if t]
    month = next((dt.date.fromisoformat(d["published"]) for d in newest if d.get("published")), None)
    speakers = dict.fromkeys(s for d in newest[:5] for s in _speakers(texts.get(d["source"], "")))
    checks = _Checks(answers, tries)
    lookup = next((q for q in (f"What did {s} say?" for s in speakers) if len(q) <= max_chars and checks.answered(q)), "")
    if month is not None:
        unique_topics = list(dict.fromkeys(topics))
        opening = [f"What's the latest on {unique_topics[0]}?"] if unique_topics else []
        period = f"What happened in {MONTH_NAMES[month.month - 1]} {month.year}?"
    else:  # undated: no newest story, no publication month
        unique_topics = list(dict.fromkeys([*_shared_names(list(texts.values())), *topics]))
        opening = [f"What's happening with {t}?" for t in unique_topics[:1]]
        event_month = _event_month(list(texts.values()))
        period = f"What happened in {event_month}?" if event_month else ""
    out: list[str] = []
    for question in (*opening, lookup, period):
        if question and len(question) <= max_chars and question not in out:
            out.append(question)
    # Summaries of the other topics, each asked first: a topic the briefing finds nothing on is no example.
    summaries = (f"Summarize the news about {t}." for t in unique_topics[1:])
    out += [q for q in summaries if len(q) <= max_chars and len(out) < limit and checks.answered(q)]
    return out[:limit]


class _Checks:
    """Questions asked of the collection before they are shown, at most `budget` of them (each is a
    whole answer: the page waits for them when the collection changes)."""

    def __init__(self, answers: Callable[[str], bool], budget: int) -> None:
        self.answers, self.left = answers, budget

    def answered(self, question: str) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return _answered(self.answers, question)


def _answered(answers: Callable[[str], bool], question: str) -> bool:
    try:
        return answers(question)
    except Exception:  # noqa: BLE001 - the index changing meanwhile just gives no lookup example
        return False


def _read(article_text: Callable[[str], str], source: str) -> str:
    try:
        return article_text(source)
    except Exception:  # noqa: BLE001 - an article removed meanwhile just gives no example
        return ""
