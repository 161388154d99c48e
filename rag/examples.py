"""Example questions built from the collection: what a newcomer could ask it and get an answer.

Whole names, never a headline cut to fit: a briefing on the newest story that names something
("What's the latest on Vale Line?"), a period briefing on the newest month ("What happened in April
2025?"), a lookup on what a named person said in a recent article ("What did Helen Marsh say?"),
and a summary of another story. Questions longer than `max_chars` are skipped (Gradio cuts
example labels).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Callable, Iterable

from rag.answering.text import names
from rag.lexicon import MONTH_NAMES, WEEKDAY_NAMES

_NOT_TOPICS = {m.casefold() for m in (*MONTH_NAMES, *WEEKDAY_NAMES)}
# "Helen Marsh said", "Helen Marsh, the transport commissioner, said": a person's words, asked for.
_SAID = re.compile(r"\b(?P<name>[A-Z][a-z'’-]+(?: [A-Z][a-z'’-]+)*)(?:, [^,.]{1,60},)? (?:said|told|says)\b")


def _topic(title: str, source: str, short_title_words: int = 4) -> str:
    """The longest name a title holds ('Vale Line', 'Time Warner'); else a short title whole
    ('Zorbland orchard harvest': its capital is grammar, so `names` skips it); else ''. A file
    name is no title."""
    found = [n for n in names(title) if n.casefold() not in _NOT_TOPICS and n.casefold() not in source.casefold()]
    if found:
        return max(found, key=len)
    words = title.strip(" .!?").split()
    stem = Path(source).stem.casefold().replace("_", " ").replace("-", " ")
    return " ".join(words) if 0 < len(words) <= short_title_words and " ".join(words).casefold() != stem else ""


def _speakers(text: str) -> list[str]:
    """Names (as `names` finds them: never a sentence's opening 'He') said to have spoken."""
    head = text[:4000]
    known = set(names(head))
    return [m.group("name") for m in _SAID.finditer(head) if m.group("name") in known]


def example_questions(
    documents: list[dict], article_text: Callable[[str], str], limit: int, max_chars: int,
    answers: Callable[[str], bool], tries: int = 3,
) -> list[str]:
    """Up to `limit` questions, newest articles first; `article_text(source)` reads one article and
    `answers(question)` says whether the collection answers a lookup (up to `tries` are asked)."""
    newest = sorted(documents, key=lambda d: (d.get("published") or "", d.get("source") or ""), reverse=True)
    topics = [t for t in (_topic(d.get("title") or "", d.get("source") or "") for d in newest) if t]
    month = next((dt.date.fromisoformat(d["published"]) for d in newest if d.get("published")), None)
    speakers = dict.fromkeys(s for d in newest[:5] for s in _speakers(_read(article_text, d["source"])))
    lookups = [q for q in (f"What did {s} say?" for s in speakers) if len(q) <= max_chars][:tries]
    lookup = next((q for q in lookups if _answered(answers, q)), "")
    unique_topics = list(dict.fromkeys(topics))
    candidates: Iterable[str] = (
        *([f"What's the latest on {unique_topics[0]}?"] if unique_topics else []),
        *([lookup] if lookup else []),
        *([f"What happened in {MONTH_NAMES[month.month - 1]} {month.year}?"] if month else []),
        *(f"Summarize the news about {t}." for t in unique_topics[1:]),
    )
    out: list[str] = []
    for question in candidates:
        if len(question) <= max_chars and question not in out:
            out.append(question)
        if len(out) == limit:
            break
    return out


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
