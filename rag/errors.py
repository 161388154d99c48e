"""Typed errors: what went wrong, said once, shown by every interface through one mapping.

The engine raises these; `rag.errors.present` is the one place that turns an error into what an
interface shows (a CLI line and exit code, a UI message, an HTTP status). Interfaces never match
on message text.
"""

from __future__ import annotations

from dataclasses import dataclass


class NewsragError(Exception):
    """An error whose message is meant for the user: shown without a traceback."""

    http_status = 400
    # Every error meant for the user ends a command with 2 (a bug with 1): scripts tell "my input
    # or my index" from "newsrag broke"; the type and the message say which input.
    exit_code = 2


class InvalidRequest(NewsragError):
    """The request itself is wrong: an empty or over-long question, a bad date, bad history."""

    http_status = 400


class NotFound(NewsragError):
    """A named document, citation, source or folder does not exist."""

    http_status = 404


class Busy(NewsragError):
    """Another writer holds the index, or every answer slot is taken: try again shortly."""

    http_status = 409


class IndexUnavailable(NewsragError):
    """The index cannot answer: empty, damaged, or built with other settings (needs a rebuild)."""

    http_status = 503


class NotConfigured(NewsragError):
    """A feature needs a setting or a package that is not there (an LLM endpoint, a model file)."""

    http_status = 503


@dataclass(frozen=True)
class Presented:
    """How an interface shows an error: one line for a person, an HTTP status, an exit code."""

    message: str
    http_status: int
    exit_code: int
    kind: str


def present(exc: BaseException) -> Presented:
    """The one translation from an exception to what the user sees. A `NewsragError`'s message is
    already meant for people; anything else is an internal error named by its type only (its text
    may hold paths or data that are not the user's business)."""
    if isinstance(exc, NewsragError):
        line = " ".join(str(exc).split()) or type(exc).__name__
        return Presented(line, exc.http_status, exc.exit_code, _kind(exc))
    return Presented(f"internal error ({type(exc).__name__})", 500, 1, "internal_error")


def _kind(exc: NewsragError) -> str:
    """A stable machine-readable name: invalid_request, not_found, busy, index_unavailable, ..."""
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower().replace("newsrag_error", "error")
