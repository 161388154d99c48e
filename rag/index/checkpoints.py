"""When an ingest saves the manifest mid-run. Each save rewrites the whole manifest, so saving after
every batch made a batch cost more as the index grew; a checkpoint is due once the work since the
last one is at least the last save's cost over `share`, so saves take at most that share of the run
(and a crash loses at most that much work, and never less than one batch)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator


class Checkpoints:
    def __init__(self, share: float) -> None:
        self.share = share
        self._cost: float | None = None  # seconds the last save took; None before the first
        self._since = time.perf_counter()

    def due(self) -> bool:
        return self._cost is None or time.perf_counter() - self._since >= self._cost / self.share

    @contextmanager
    def timing(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self._since = time.perf_counter()
        self._cost = self._since - started
