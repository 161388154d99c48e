"""Conversations in the real page (Debian's chromium): kept across a reload, an older one reopened
from the list, an export that holds every citation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_browser import REASSURANCE, TIMEOUT_MS, app_url, ask, page, shot, wait_for_text  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

SECOND = "Who is the U.S. envoy for peace talks?"


def _answered(page, text: str) -> None:
    wait_for_text(page, "#nr-chat", text)
    page.wait_for_function("() => !document.querySelector('#nr-chat').innerText.includes('Searching')", timeout=TIMEOUT_MS)


STORED = """() => Object.keys(localStorage).filter(k => k.includes('newsrag-conversations'))
                   .map(k => localStorage.getItem(k)).join('|')"""


def _saved(page, before: str) -> None:
    """The browser has stored the conversation (the save follows the answer by a moment)."""
    page.wait_for_function(f"(before) => ({STORED})() !== before", arg=before, timeout=TIMEOUT_MS)


def _open_panel(page) -> None:
    panel = page.locator("#nr-conversations")
    if page.locator("#nr-past").count() == 0 or not page.locator("#nr-past").is_visible():
        panel.locator("button").first.click()


def _pick(page, label_part: str) -> None:
    _open_panel(page)
    page.locator("#nr-past input").click()
    page.locator("ul[role='listbox'] li", has_text=label_part).first.click()
    page.wait_for_function("(part) => document.querySelector('#nr-past input').value.includes(part)",
                           arg=label_part, timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)  # the picked value reaches the server with the next event


def _download(page, button: str, tmp_path: Path) -> str:
    page.locator(button).click()
    link = page.locator("#nr-export-file a").first
    link.wait_for(timeout=TIMEOUT_MS)
    with page.expect_download() as info:
        link.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    return target.read_text(encoding="utf-8")


def test_a_conversation_survives_a_reload_reopens_and_exports_with_its_citations(page, tmp_path):
    wait_for_text(page, "#nr-status", "Mode:")  # the page is live before anything is typed
    before = page.evaluate(STORED)
    ask(page, REASSURANCE)
    _answered(page, "26")
    _saved(page, before)
    page.reload()
    _answered(page, "26")  # the newest conversation is back after the reload, with its answer
    shot(page, "conversation-after-reload")

    page.locator("#nr-clear").click()
    page.wait_for_function("() => !document.querySelector('#nr-chat').innerText.includes('26')", timeout=TIMEOUT_MS)
    ask(page, SECOND)
    _answered(page, "Witkoff")
    _pick(page, "How many nations pledged")
    page.locator("#nr-open-past").click()
    page.wait_for_function("""() => { const t = document.querySelector('#nr-chat').innerText;
                                      return t.includes('26') && !t.includes('Witkoff'); }""", timeout=TIMEOUT_MS)
    shot(page, "conversation-reopened")

    markdown = _download(page, "#nr-export-md", tmp_path)
    assert REASSURANCE in markdown and "26" in markdown
    assert "004_b7c3ddf9127e697c.txt" in markdown and "> " in markdown  # every citation with its quote
    data = json.loads(_download(page, "#nr-export-json", tmp_path))
    cited = [c for t in data["turns"] if t["role"] == "assistant" for c in t["citations"]]
    assert cited and all(c["quote"] and c["source"] for c in cited)
    assert not page.outside_requests and not page.dialogs
