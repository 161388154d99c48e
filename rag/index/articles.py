"""Decoded article texts by content hash: what citations quote and the UI shows."""

from __future__ import annotations

from pathlib import Path

from rag.index.atomic import atomic_write_text


class ArticleStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def put(self, content_hash: str, text: str) -> None:
        target = self.path / f"{content_hash}.txt"
        if not target.exists():
            atomic_write_text(target, text)

    def get(self, content_hash: str) -> str:
        return (self.path / f"{content_hash}.txt").read_text(encoding="utf-8")

    def paragraph(self, content_hash: str, start: int, end: int, expected: str) -> str:
        """The blank-line paragraph holding [start, end) when that slice still reads `expected`;
        '' when the article is gone or changed (another process's ingest)."""
        try:
            text = self.get(content_hash)
        except OSError:
            return ""
        if text[start:end] != expected:
            return ""
        first = text.rfind("\n\n", 0, start)
        last = text.find("\n\n", end)
        return text[first + 2 if first >= 0 else 0: last if last >= 0 else len(text)]

    def prune(self, keep: set[str]) -> None:
        if self.path.exists():
            for file in self.path.glob("*.txt"):
                if file.stem not in keep:
                    file.unlink(missing_ok=True)
