"""Keep the index in step with watched folders (`newsrag watch`, `serve --watch`)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from rag.errors import Busy, NewsragError, present

TEMP_SUFFIXES = (".part", ".tmp", ".swp", ".swo", ".swx", ".crdownload", ".download", "~")
BUSY_RETRY_S = 1.0


def ignored(path: str) -> bool:
    """Hidden files, editor swap files and partial downloads change constantly and are never articles."""
    name = os.path.basename(path)
    return (not name or name.startswith((".", "~$", "#")) or name.endswith(TEMP_SUFFIXES)
            or any(part.startswith(".") for part in Path(path).parts[:-1] if part not in (".", "..")))


class _Collector(FileSystemEventHandler):
    """Gathers changed / deleted paths; the watch loop drains them once the folder is quiet."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.changed: set[str] = set()
        self.deleted: set[str] = set()
        self.last = 0.0

    def _mark(self, path: str, gone: bool) -> None:
        if ignored(path):
            return
        with self.lock:
            (self.deleted if gone else self.changed).add(path)
            (self.changed if gone else self.deleted).discard(path)
            self.last = time.monotonic()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        src = os.fsdecode(event.src_path)
        if event.event_type == "moved":
            self._mark(src, gone=True)
            self._mark(os.fsdecode(event.dest_path), gone=False)
        else:
            self._mark(src, gone=event.event_type == "deleted")

    def drain(self, quiet_s: float) -> tuple[set[str], set[str]] | None:
        with self.lock:
            if not (self.changed or self.deleted) or time.monotonic() - self.last < quiet_s:
                return None
            out = (self.changed, self.deleted)
            self.changed, self.deleted = set(), set()
            return out


def _retry_busy(call: Callable[[], Any], on_line: Callable[[str], Any], stop: threading.Event) -> Any:
    """Another writer holds the lock: wait for it rather than drop the change; say so once."""
    told = False
    while True:
        try:
            return call()
        except Busy:
            if not told:
                on_line("index busy (another writer); waiting to retry")
                told = True
            if stop.wait(BUSY_RETRY_S):
                return None


def _snapshot(assistant: Any) -> dict[str, str]:
    return {d["source"]: str(d.get("content_hash")) for d in assistant.documents()}


def _report(before: dict[str, str], after: dict[str, str], report: Any, on_line: Callable[[str], Any]) -> None:
    """Per-file lines from a before/after listing, since the report itself only counts."""
    for source in sorted(after.keys() - before.keys()):
        on_line(f"added {source}")
    for source in sorted(s for s in after.keys() & before.keys() if after[s] != before[s]):
        on_line(f"updated {source}")
    for source in sorted(before.keys() - after.keys()):
        on_line(f"removed {source}")
    for skip in getattr(report, "skipped", None) or []:
        path, reason = (skip.path, skip.reason) if hasattr(skip, "path") else skip
        on_line(f"skipped {os.path.basename(str(path))}: {reason}")


def _write(assistant: Any, call: Callable[[], Any], on_line: Callable[[str], Any], stop: threading.Event) -> None:
    before = _snapshot(assistant)
    report = _retry_busy(call, on_line, stop)
    _report(before, _snapshot(assistant), report, on_line)


def _sources_for(assistant: Any, paths: Iterable[str]) -> list[str]:
    """Deleted files can't be read, so map them to indexed sources by the path the index recorded."""
    wanted = {os.path.abspath(p) for p in paths}
    out = []
    for doc in assistant.documents():
        p = doc.get("path")
        if p and os.path.abspath(str(p)) in wanted:
            out.append(doc["source"])
    return out


def sync_once(assistant: Any, changed: set[str], deleted: set[str], on_line: Callable[[str], Any],
              stop: threading.Event) -> None:
    """One ingest of the changed files and one remove of the deleted ones."""
    present_now = sorted(p for p in changed if os.path.isfile(p))
    try:
        if present_now:
            _write(assistant, lambda: assistant.ingest(present_now, prune=False, progress=False), on_line, stop)
        gone = _sources_for(assistant, [p for p in deleted if not os.path.exists(p)])
        if gone:
            _write(assistant, lambda: assistant.remove(gone), on_line, stop)
    except NewsragError as exc:
        on_line(f"error: {present(exc).message}")


def watch(assistant: Any, paths: list[str | Path], *, debounce_s: float = 1.0,
          on_line: Callable[[str], Any] = print, stop: threading.Event | None = None) -> None:
    """Initial sync (pruning what vanished meanwhile), then follow the folders until stop / Ctrl-C."""
    stop = stop or threading.Event()
    folders = [str(Path(p).resolve()) for p in paths]
    collector = _Collector()
    observer = Observer()
    # Watch before the initial sync so nothing written during it is missed (re-ingest is a no-op).
    for folder in folders:
        observer.schedule(collector, folder, recursive=True)
    observer.start()
    try:
        _write(assistant, lambda: assistant.ingest(folders, prune=True, progress=False), on_line, stop)
        on_line(f"watching {', '.join(folders)}")
        while not stop.wait(min(0.2, debounce_s / 2 or 0.05)):
            batch = collector.drain(debounce_s)
            if batch:
                sync_once(assistant, *batch, on_line=on_line, stop=stop)
    except KeyboardInterrupt:
        on_line("stopped")
    finally:
        observer.stop()
        observer.join(timeout=5)
