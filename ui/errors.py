"""What the page shows for a failure: the user's error as `rag.errors.present` words it, or, for
a bug, a generic line (its traceback goes to the server log, never to the page)."""

from __future__ import annotations

import logging

from rag.errors import present

log = logging.getLogger(__name__)


def shown(exc: BaseException, action: str, internal: str | None) -> str | None:
    """The message for the page; `internal` (logged with the traceback) when `exc` is a bug."""
    presented = present(exc)
    if presented.kind == "internal_error":
        log.error("%s failed", action, exc_info=exc)
        return internal
    return presented.message
