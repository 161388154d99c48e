"""A progress bar on a terminal (ingest, the evaluation harness), and nothing where output is a log."""

from __future__ import annotations

import sys
from typing import Protocol


class Bar(Protocol):
    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


class _NoBar:
    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


def progress_bar(total: int, enabled: bool, *, desc: str, unit: str, unit_scale: bool = False) -> Bar:
    """A tqdm bar on stderr (done, total, elapsed and time left), or one that draws nothing when
    `enabled` is false or there is nothing to do."""
    if not enabled or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, unit_scale=unit_scale, desc=desc, file=sys.stderr)
