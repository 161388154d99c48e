"""What the page shows for a failure: the user's error as `rag.errors.present` words it, or, for
a bug, a generic line (its traceback goes to the server log, never to the page)."""

from __future__ import annotations

import logging

from rag.errors import present

log = logging.getLogger(__name__)


def page_message(exc: BaseException, action: str, internal: str | None) -> str | None:
    """The message for the page; `internal` (logged with the traceback) when `exc` is a bug."""
    presented = present(exc)
    if presented.kind == "internal_error":
        log.error("%s failed", action, exc_info=exc)
        return internal
    return presented.message


# The `type` of an API error body, by HTTP status (OpenAI's names where it has one).
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
               405: "invalid_request_error", 409: "conflict_error", 413: "invalid_request_error",
               429: "rate_limit_error"}
INTERNAL_API_ERROR = "internal error; see the server log"


def error_body(status: int, message: str, code: str | None = None) -> dict:
    """OpenAI's error shape: `{"error": {"message", "type", "param", "code"}}` (`param` is always
    null: a validation error names its field in the message)."""
    kind = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def api_error(exc: BaseException, action: str) -> tuple[int, dict]:
    """(HTTP status, body) for an error an API request raised; a bug is logged and stays generic."""
    presented = present(exc)
    if presented.kind == "internal_error":
        log.error("%s failed", action, exc_info=exc)
        return 500, error_body(500, INTERNAL_API_ERROR)
    return presented.http_status, error_body(presented.http_status, presented.message)
