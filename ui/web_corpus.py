"""The collection side of the page: upload, remove, the document list, examples from the articles.

Everything here goes through the Assistant's collection API (`upload`, `remove`, `documents`,
`status`); no file on disk is touched except Gradio's own temporary copies of uploads.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from rag.types import IngestReport
from ui import render
from ui.errors import page_message

if TYPE_CHECKING:  # types only: ui imports no engine internals at run time
    from rag.facade import AssistantAPI


EXAMPLE_MAX_CHARS = 57  # Gradio cuts example labels at about this many characters
CORPUS_HEADERS = ["Source", "Title", "Published", "Chunks", "Origin"]
REPORT_HEADERS = ["File", "Result", "Detail"]
EMPTY_INDEX = (
    "**The index is empty.** Add articles in the **Corpus** tab (drag and drop them onto the upload "
    "box), or run `newsrag ingest PATH` on the server, then ask away."
)


# ---------------------------------------------------------------------------------------- rendering
def corpus_rows(documents: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [d.get("source") or "", d.get("title") or "", d.get("published") or "", int(d.get("chunks") or 0),
         str(d.get("origin") or "")]
        for d in documents
    ]


def example_messages(examples: list[list[str]]) -> list[dict[str, str]] | None:
    """The example questions as the empty chat shows them (None: no examples)."""
    return [{"text": q[0]} for q in examples] or None


def upload_rows(report: IngestReport, names: list[str], before: dict[str, str], after: dict[str, str],
                uploads: Path) -> list[list[str]]:
    """One row per uploaded file: added / updated / unchanged, or skipped with the reason.

    `before`/`after` map each indexed file's path to its content hash around the upload."""
    skipped = {Path(s.path).name: s.reason for s in report.skipped}
    rows = []
    for name in names:
        path = str((uploads / Path(name).name).absolute())
        if name in skipped or Path(name).name in skipped:
            rows.append([name, "skipped", skipped.get(name) or skipped[Path(name).name]])
        elif path not in after:
            rows.append([name, "skipped", "not indexed"])
        elif path not in before:
            rows.append([name, "added", ""])
        else:
            rows.append([name, "updated" if before[path] != after[path] else "unchanged", ""])
    return rows


def remove_rows(report: IngestReport, names: list[str], after: set[str]) -> list[list[str]]:
    skipped = {s.path: s.reason for s in report.skipped}
    return [
        [name, "skipped", skipped[name]] if name in skipped
        else [name, "removed" if name not in after else "kept", ""]
        for name in names
    ]


def failure(action: str, headline: str, exc: BaseException) -> tuple[str, str]:
    """(per-file detail, summary) of a failed change."""
    message = page_message(exc, action, None)
    if message is None:
        return "see the server log", f"{headline}; see the server log."
    return message, f"{headline}: {message}"


# ------------------------------------------------------------------------------------------ handlers
class Collection:
    """Handlers of the Corpus tab and of everything on the page that follows the collection."""

    def __init__(self, assistant: AssistantAPI) -> None:
        self.assistant = assistant

    def _hashes(self) -> dict[str, str]:
        """Indexed file path -> content hash: tells an updated upload from an unchanged one."""
        return {d["path"]: d["content_hash"] for d in self.assistant.documents()}

    def origin_label(self, origin: str) -> str:
        uploads = getattr(self.assistant, "uploads_dir", None)
        return "uploaded" if uploads is not None and Path(origin) == Path(uploads) else origin

    def signature(self, documents: list[dict[str, Any]]) -> str:
        return hashlib.sha1(json.dumps(documents, sort_keys=True, default=str).encode()).hexdigest()

    def snapshot(self) -> dict[str, Any]:
        """What the page shows of the collection, as plain values."""
        documents = self.assistant.documents()
        return {
            "signature": self.signature(documents),
            "status": render.status_line(self.assistant.status(), documents),
            "rows": [row[:-1] + [self.origin_label(row[-1])] for row in corpus_rows(documents)],
            "sources": [d["source"] for d in documents],
            "examples": [[q] for q in self.assistant.examples(self.assistant.settings.ui_example_count, EXAMPLE_MAX_CHARS)],
        }

    def page(self, picked_remove: list[str] | None = None, picked_filter: list[str] | None = None) -> tuple:
        """(signature, status line, corpus table, remove picker, filter picker, the chat's examples, empty-index note)."""
        snap = self.snapshot()
        sources = snap["sources"]
        return (
            snap["signature"],
            snap["status"],
            snap["rows"],
            gr.Dropdown(choices=sources, multiselect=True, value=[s for s in picked_remove or [] if s in sources]),
            gr.Dropdown(choices=sources, multiselect=True, value=[s for s in picked_filter or [] if s in sources]),
            gr.Chatbot(examples=example_messages(snap["examples"])),
            gr.Markdown(visible=not sources),
        )

    def refresh_if_changed(self, signature: str, picked_remove=None, picked_filter=None) -> tuple:
        """The timer's check: redraw only when another process (or session) changed the index."""
        page = self.page(picked_remove, picked_filter)
        if page[0] == signature:
            return tuple(gr.skip() for _ in page)
        return page

    def upload(self, files: list[str] | None, picked_remove=None, picked_filter=None, progress=gr.Progress()) -> tuple:
        """Index the dropped files; returns (per-file report, summary, cleared upload box, *page)."""
        paths = [Path(f) for f in files or []]
        if not paths:
            return (gr.skip(), gr.skip(), None, *self.page(picked_remove, picked_filter))
        progress(0, desc=f"Indexing {len(paths)} file{'s' if len(paths) != 1 else ''}…")

        def step(done: int, total: int, source: str) -> None:
            progress((done, max(total, 1)), desc=f"Indexing {source}")

        try:
            payload = [(p.name, p.read_bytes()) for p in paths]
            before = self._hashes()
            report = self.assistant.upload(payload, on_progress=step)
            rows = upload_rows(report, [n for n, _ in payload], before, self._hashes(), self.assistant.uploads_dir)
            summary = report.summary()
        except Exception as exc:  # noqa: BLE001 - every failure is a row per file, never a traceback
            detail, summary = failure("upload", "Upload failed", exc)
            rows = [[p.name, "failed", detail] for p in paths]
        finally:
            for p in paths:  # Gradio's temporary copies: the assistant stores its own
                p.unlink(missing_ok=True)
        return (rows, summary, None, *self.page(picked_remove, picked_filter))

    def remove(self, picked: list[str] | None, picked_filter=None, progress=gr.Progress()) -> tuple:
        """Drop the picked documents; returns (per-file report, summary, *page)."""
        picked = [s for s in picked or [] if isinstance(s, str) and s]
        if not picked:
            return ([], "Pick one or more documents to remove first.", *self.page([], picked_filter))
        progress(0, desc=f"Removing {len(picked)} document{'s' if len(picked) != 1 else ''}…")
        try:
            report = self.assistant.remove(picked)
            rows = remove_rows(report, picked, {d["source"] for d in self.assistant.documents()})
            summary = report.summary()
        except Exception as exc:  # noqa: BLE001 - every failure is a row per file, never a traceback
            detail, summary = failure("remove", "Removing failed", exc)
            rows = [[s, "failed", detail] for s in picked]
        return (rows, summary, *self.page([], picked_filter))

    def pick_row(self, picked: list[str] | None, evt: gr.SelectData) -> list[str]:
        """A click on a row of the document list adds that document to the remove picker."""
        row = evt.row_value or []
        source = row[0] if row else None
        picked = list(picked or [])
        if isinstance(source, str) and source and source not in picked:
            picked.append(source)
        return picked
