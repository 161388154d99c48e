"""What interfaces may use of the engine: the public facade as a Protocol.

The CLI, the page, the /v1 API, the MCP server and the evals type against `AssistantAPI`, so a
fake in a test or another implementation fits, and nothing reaches past it into the rooms."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Protocol

if TYPE_CHECKING:
    from rag.evidence import RetrievedPassage
    from rag.settings import Settings
    from rag.types import Answer, IngestReport, Progress


class AssistantAPI(Protocol):
    settings: "Settings"

    @property
    def uploads_dir(self) -> Path: ...

    def warm_up(self) -> None: ...

    def ingest(self, paths: list[str | Path] | None = None, *, prune: bool = True, rebuild: bool = False,
               progress: bool = False, on_progress: "Progress | None" = None) -> "IngestReport": ...

    def upload(self, files: list[tuple[str, bytes]], on_progress: "Progress | None" = None) -> "IngestReport": ...

    def remove(self, sources: list[str]) -> "IngestReport": ...

    def documents(self) -> list[dict[str, Any]]: ...

    def article(self, source: str) -> dict[str, Any]: ...

    def article_for_chunk(self, chunk_id: str) -> dict[str, Any]: ...

    def examples(self, limit: int, max_chars: int) -> list[str]: ...

    def status(self) -> dict[str, Any]: ...

    def retrieve(self, query: str, mode: str | None = None, top_k: int | None = None, *,
                 sources: list[str] | None = None, since: str | None = None,
                 until: str | None = None) -> list["RetrievedPassage"]: ...

    def ask(self, question: str, history: list[dict] | None = None, mode: str | None = None, *,
            sources: list[str] | None = None, since: str | None = None, until: str | None = None) -> "Answer": ...

    def stream(self, question: str, history: list[dict] | None = None, mode: str | None = None, *,
               sources: list[str] | None = None, since: str | None = None,
               until: str | None = None) -> Iterator["str | Answer"]: ...

    # Followed topics (rag.topics): "new" = ingested since the topic's last digest (or its follow).
    def follow(self, topic: str) -> dict[str, Any]: ...

    def unfollow(self, topic: str) -> dict[str, Any]: ...

    def following(self) -> list[dict[str, Any]]: ...

    def digest(self, topic: str | None = None) -> dict[str, Any]: ...
