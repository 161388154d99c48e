"""ui.watch against a real hashing-embedder index and a real watchdog observer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rag import Assistant, Settings
from tests.fakes import write_articles
from ui.watch import ignored, watch


class CountingAssistant(Assistant):
    """Counts write calls so debouncing is measured, not assumed."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.ingests = 0

    def ingest(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.ingests += 1
        return super().ingest(*args, **kwargs)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[CountingAssistant, Path, list[str]]]:
    folder = tmp_path / "watched"
    write_articles(folder, 2, prefix="seed")
    assistant = CountingAssistant(Settings(data_dir=tmp_path / "data", embedding_backend="hashing", rerank=False))
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(assistant, [folder]),
                              kwargs={"debounce_s": 0.5, "on_line": lines.append, "stop": stop}, daemon=True)
    thread.start()
    _until(lambda: any(l.startswith("watching") for l in lines), 60)
    yield assistant, folder, lines
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def _until(cond: Callable[[], bool], timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _sources(a: Assistant) -> set[str]:
    return {d["source"] for d in a.documents()}


def test_initial_sync_add_delete_rename(watched: tuple[CountingAssistant, Path, list[str]]) -> None:
    assistant, folder, lines = watched
    assert len(_sources(assistant)) == 2
    new = write_articles(folder, 1, prefix="fresh")[0]
    _until(lambda: any(l.startswith("added") and "fresh" in l for l in lines))
    assert any("fresh" in s for s in _sources(assistant))
    new.rename(folder / "renamed_000.txt")
    _until(lambda: any("renamed" in s for s in _sources(assistant)) and not any("fresh" in s for s in _sources(assistant)))
    (folder / "renamed_000.txt").unlink()
    _until(lambda: not any("renamed" in s for s in _sources(assistant)))
    assert any(l.startswith("removed") for l in lines)
    (folder / ".hidden.swp").write_text("x")
    (folder / "dl.part").write_text("x")
    time.sleep(1.5)
    assert len(_sources(assistant)) == 2


def test_burst_is_debounced(watched: tuple[CountingAssistant, Path, list[str]]) -> None:
    assistant, folder, _ = watched
    before = assistant.ingests
    write_articles(folder / "burst", 1000, prefix="bulk")
    _until(lambda: sum("bulk" in s for s in _sources(assistant)) == 1000, 240)
    assert assistant.ingests - before <= 5, assistant.ingests - before


def test_ignored() -> None:
    assert ignored("/x/.a.txt.swp") and ignored("/x/a.part") and ignored("/x/.git/a.txt") and ignored("/x/a.txt~")
    assert not ignored("/x/a.txt")


def test_busy_writer_is_waited_for_and_said_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.errors import Busy
    import ui.watch as w

    monkeypatch.setattr(w, "BUSY_RETRY_S", 0.01)
    assistant = CountingAssistant(Settings(data_dir=tmp_path / "data", embedding_backend="hashing", rerank=False))
    real, fails = assistant.ingest, [3]

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        if fails[0]:
            fails[0] -= 1
            raise Busy("another writer holds the index")
        return real(*args, **kwargs)

    monkeypatch.setattr(assistant, "ingest", flaky)
    path = write_articles(tmp_path / "in", 1)[0]
    lines: list[str] = []
    w.sync_once(assistant, {str(path)}, set(), lines.append, threading.Event())
    assert sum("busy" in l for l in lines) == 1 and f"added {path.name}" in lines
