"""Conversations kept in the browser: a list to reopen or delete, and exports that keep citations.

The page keeps them in Gradio's `BrowserState` (the browser's local storage: nothing is stored on
the server, and each browser has its own). These functions only transform that plain value, so
they are tested without a browser: the store is `{"conversations": [{"id", "title", "updated",
"turns": [{"role", "content", "shown", "direct"?, "citations"?}]}]}`, newest first.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

MAX_KEPT = 50  # older conversations drop off: local storage is small
TITLE_CHARS = 60
EMPTY: dict[str, Any] = {"conversations": []}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def conversations(store: Any) -> list[dict[str, Any]]:
    found = store.get("conversations") if isinstance(store, dict) else None
    return [c for c in found or [] if isinstance(c, dict) and c.get("id") and isinstance(c.get("turns"), list)]


def find(store: Any, conv_id: str | None) -> dict[str, Any] | None:
    return next((c for c in conversations(store) if c["id"] == conv_id), None)


def save(store: Any, conv_id: str | None, turns: list[dict[str, Any]]) -> tuple[dict[str, Any], str | None]:
    """The store with this conversation saved (a new one gets an id), newest first; (store, id)."""
    if not turns:
        return {"conversations": conversations(store)}, conv_id
    conv_id = conv_id or uuid.uuid4().hex[:12]
    kept = [c for c in conversations(store) if c["id"] != conv_id]
    entry = {"id": conv_id, "title": title_of(turns), "updated": _now(), "turns": turns}
    return {"conversations": [entry, *kept][:MAX_KEPT]}, conv_id


def title_of(turns: list[dict[str, Any]]) -> str:
    """The first question, shortened: what the picker and an export call the conversation."""
    first = next((t.get("content") for t in turns if t.get("role") == "user"), None) or "Conversation"
    return " ".join(str(first).split())[:TITLE_CHARS]


def delete(store: Any, conv_id: str | None) -> dict[str, Any]:
    return {"conversations": [c for c in conversations(store) if c["id"] != conv_id]}


def choices(store: Any) -> list[tuple[str, str]]:
    """(label, id) for the picker: the first question and when it was last answered."""
    return [(f"{c['title']} ({str(c.get('updated', ''))[:16].replace('T', ' ')})", c["id"]) for c in conversations(store)]


def to_markdown(conv: dict[str, Any]) -> str:
    """Questions, answers (direct answer first) and every citation with its quote, source and date."""
    lines = [f"# {conv.get('title') or 'Conversation'}", "", f"Exported from newsrag, {_now()}.", ""]
    for turn in conv.get("turns", []):
        if turn.get("role") == "user":
            lines += [f"## Q: {turn.get('content', '')}", ""]
            continue
        if turn.get("direct"):
            lines += [f"**{turn['direct']}**", ""]
        lines += [str(turn.get("content", "")), ""]
        for c in turn.get("citations") or []:
            dated = f", {c['published']}" if c.get("published") else ""
            lines.append(f"- [{c.get('marker')}] {c.get('source')}{dated}: {c.get('title', '')}\n  > {c.get('quote', '')}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_json(conv: dict[str, Any]) -> str:
    """The conversation as data: the page's own rendering (`shown`) left out."""
    turns = [{k: v for k, v in t.items() if k != "shown"} for t in conv.get("turns", [])]
    return json.dumps({"id": conv.get("id"), "title": conv.get("title"), "updated": conv.get("updated"),
                       "turns": turns}, ensure_ascii=False, indent=2)
