"""Answering: the Question (analysed once) → sentence evidence → extractive or LLM answer → verified
citations → direct answer."""

from __future__ import annotations

from typing import Iterable

from rag.types import Answer, NewsragError


def drain(stream: Iterable[object]) -> Answer:
    """The final Answer of an `Assistant.stream` (the text pieces before it are previews)."""
    answer = None
    for piece in stream:
        if isinstance(piece, Answer):
            answer = piece
    if answer is None:
        raise NewsragError("the answer stream ended without an answer")
    return answer
