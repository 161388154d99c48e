"""Turning an elliptical follow-up ("And how many were intercepted?") into a standalone query.

Rules, not a model: a question that leans on the conversation (a leading connective, a pronoun
with nothing to refer to, or too few content words of its own) is joined to the previous user
question, whose entities then steer retrieval.
"""

from __future__ import annotations

import re

from rag.answering.text import content_words

_CONNECTIVE = re.compile(r"^\s*(and|but|also|so|then|what about|how about|and what|what of|or)\b", re.I)
_PRONOUN = re.compile(r"\b(it|its|they|them|their|theirs|this|that|these|those|he|him|his|she|her|there|the same)\b", re.I)


def is_follow_up(question: str) -> bool:
    if _CONNECTIVE.match(question):
        return True
    words = content_words(question)
    if len(words) <= 1:
        return True
    return bool(_PRONOUN.search(question)) and len(words) <= 3


def standalone_question(question: str, history: list[dict] | None) -> str:
    """The question to retrieve with: itself, or itself plus the last user turn it depends on."""
    question = question.strip()
    if not is_follow_up(question):
        return question
    previous = [t["content"].strip() for t in (history or []) if t.get("role") == "user" and t.get("content")]
    # A follow-up of a follow-up refers to the topic the conversation started from.
    anchor = next((p for p in reversed(previous) if not is_follow_up(p)), previous[-1] if previous else None)
    return f"{anchor} {question}" if anchor else question
