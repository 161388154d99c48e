"""newsrag: question answering over a news corpus with verbatim, verified citations.

Public API: Assistant, Answer, Citation, IngestReport, Settings. Imports are lazy so that
`newsrag --help` and settings-only code stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Assistant", "Answer", "Citation", "IngestReport", "NewsragError", "Settings"]

if TYPE_CHECKING:
    from rag.assistant import Assistant
    from rag.settings import Settings
    from rag.types import Answer, Citation, IngestReport, NewsragError


def __getattr__(name: str) -> Any:
    if name == "Assistant":
        from rag.assistant import Assistant

        return Assistant
    if name == "Settings":
        from rag.settings import Settings

        return Settings
    if name in ("Answer", "Citation", "IngestReport", "NewsragError"):
        from rag import types

        return getattr(types, name)
    raise AttributeError(name)
