"""Turning an elliptical follow-up ("And who announced it?") into something answerable.

Rules, not a model: a question that leans on the conversation (a leading connective, a pronoun
with nothing to refer to, or too few content words of its own) is joined to the conversation's
topic question for retrieval. The previous answer travels along too: its sources are preferred
(the follow-up asks about the same story) and its sentences are not said again (the follow-up
asks for another facet of it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.answering.text import content_words, names, stems

_CONNECTIVE = re.compile(r"^\s*(and|but|also|so|then|what about|how about|and what|what of|or)\b", re.I)
_PRONOUN = re.compile(r"\b(it|its|they|them|their|theirs|this|that|these|those|he|him|his|she|her|there|the same)\b", re.I)
_DEFINITE = re.compile(r"\bthe ([a-z]+)\b", re.I)


@dataclass
class Conversation:
    """What answering needs to know about the turn being answered."""

    question: str  # the user's own words
    query: str  # what retrieval and the cross-encoder see
    follow_up: bool = False
    previous_answer: str = ""  # the last assistant turn's text (its sentences are not repeated)
    previous_sources: list[str] = field(default_factory=list)
    topic: str = ""  # a follow-up's: the topic question it leans on


def is_follow_up(question: str) -> bool:
    if _CONNECTIVE.match(question):
        return True
    words = content_words(question)
    if len(words) <= 1:
        return True
    return bool(_PRONOUN.search(question)) and len(words) <= 3


def refers_back(question: str, topic: str) -> bool:
    """A short question naming nobody whose "the <noun>" is a noun of the topic question: "Who
    directed the film?" after "Where was the premiere of the film Polar Express held?"."""
    if names(question) or len(content_words(question)) > 3:
        return False
    said = stems(topic)
    return any(stems(m.group(1)) & said for m in _DEFINITE.finditer(question))


def standalone_question(question: str, history: list[dict] | None) -> str:
    """The question to retrieve with: itself, or the topic question it depends on plus itself."""
    return resolve(question, history).query


def resolve(question: str, history: list[dict] | None) -> Conversation:
    question = question.strip()
    turns = history or []
    previous = [t["content"].strip() for t in turns if t.get("role") == "user" and t.get("content")]
    # A follow-up of a follow-up refers to the topic the conversation started from.
    anchor = next((p for p in reversed(previous) if not is_follow_up(p)), previous[-1] if previous else None)
    if not anchor or not (is_follow_up(question) or refers_back(question, anchor)):
        return Conversation(question, question)
    last = next((t for t in reversed(turns) if t.get("role") == "assistant"), {})
    sources = [str(s) for s in last.get("sources") or [] if isinstance(s, str)]
    anchor = anchor if anchor.rstrip().endswith("?") else anchor.rstrip() + "?"
    return Conversation(question, f"{anchor} {question}", True, str(last.get("content") or ""), sources, anchor)
