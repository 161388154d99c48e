"""Where an index keeps its parts under the data folder, and the one-writer lock."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rag.types import NewsragError


@dataclass
class IndexPaths:
    data_dir: Path

    @property
    def manifest(self) -> Path:
        return self.data_dir / "manifest.json"

    @property
    def chroma(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def keyword(self) -> Path:
        return self.data_dir / "keyword"

    @property
    def articles(self) -> Path:
        return self.data_dir / "articles"

    @property
    def uploads(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def lock(self) -> Path:
        return self.data_dir / ".write.lock"

    @property
    def pending(self) -> Path:
        """Names the collection a rebuild is writing, so a crashed rebuild's leftovers are dropped."""
        return self.data_dir / ".rebuild-pending"


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """One writer per index at a time, across processes; a second writer fails at once, clearly."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise NewsragError(f"another ingest or remove is writing to {path.parent}; wait for it to finish") from None
    try:
        yield
    finally:
        lock.release()
