"""One request model for a question: the text, the conversation before it, the filters, the mode.

Every interface (CLI, page, /v1 API, MCP) hands the engine the same fields and the engine
validates them here, once: an empty or over-long question, malformed history, an unknown mode.
Dates are checked where they become a filter (`rag.filters.DocFilter.build`), in one place too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rag.errors import InvalidRequest
from rag.settings import AnswerSettings

MODES = ("extractive", "llm")
HISTORY_SHAPE = "history items must be {'role': 'user'|'assistant', 'content': str}"


@dataclass(frozen=True)
class AskRequest:
    question: str
    history: tuple[dict[str, Any], ...] = ()
    mode: str = "extractive"
    sources: tuple[str, ...] | None = None
    since: str | None = None
    until: str | None = None

    @classmethod
    def build(
        cls, limits: AnswerSettings, question: Any, history: Any = None, mode: str | None = None,
        sources: Any = None, since: Any = None, until: Any = None,
    ) -> "AskRequest":
        """The validated request; `limits` gives the default mode and the length limits."""
        if not isinstance(question, str) or not question.strip():
            raise InvalidRequest("the question is empty")
        if len(question) > limits.max_question_chars:
            raise InvalidRequest(f"the question is {len(question)} characters long; the limit is {limits.max_question_chars}")
        turns = [_turn(t, limits.max_question_chars * 4) for t in history or []]
        kept = turns[-limits.max_history_turns:] if limits.max_history_turns else []
        mode = mode or limits.mode
        if mode not in MODES:
            raise InvalidRequest(f"unknown mode '{mode}': use extractive or llm")
        return cls(question.strip(), tuple(kept), mode, tuple(sources) if sources else None, since, until)


def _turn(turn: Any, max_chars: int) -> dict[str, Any]:
    if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant") or not isinstance(turn.get("content"), str):
        raise InvalidRequest(HISTORY_SHAPE)
    kept: dict[str, Any] = {"role": turn["role"], "content": turn["content"][:max_chars]}
    sources = turn.get("sources")
    if turn["role"] == "assistant" and sources is not None:
        # Optional: the sources the answer cited, so a follow-up prefers them.
        if not isinstance(sources, list) or not all(isinstance(x, str) for x in sources):
            raise InvalidRequest("history 'sources' must be a list of source names")
        kept["sources"] = sources[:50]
    return kept
