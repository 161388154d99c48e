"""A topic briefing in the real page (Debian's chromium): its coverage plot under the answer, its
Follow button, and What's new counting the story that lands afterwards (#35). Screenshots to look at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.servers import running_app
from tests.test_browser import TIMEOUT_MS, ask, page, shot, wait_for_text  # noqa: F401 - page is a fixture

pytestmark = pytest.mark.browser

DATED = Path(__file__).resolve().parents[1] / "evals" / "corpora" / "dated"
TOPIC_QUESTION = "What is happening with the Vale Line rail link?"
NEW_ARTICLE = """---
title: Vale Line rail link inquiry opens in Riverton
date: 2025-04-22
---

# Vale Line rail link inquiry opens in Riverton

A public inquiry into the Vale Line rail link between Riverton and Kellford opened on Tuesday at the Riverton civic hall.

The inspector will hear objections from Upper Kell residents about the cutting for six weeks.
"""


@pytest.fixture
def served(tmp_path):
    """The page over a copy of the dated corpus (the test adds an article to it), refreshing each second."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    corpus = tmp_path / "corpus"
    shutil.copytree(DATED, corpus)
    assistant = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=corpus, embedding_backend="hashing",
                                   ui_refresh_seconds=1.0))
    assistant.ingest(progress=False)
    with running_app(assistant) as url:
        yield url, assistant, corpus


@pytest.fixture
def app_url(served):
    return served[0]


def whats_new_title(page) -> str:
    return page.locator("#nr-whatsnew").inner_text().split("\n")[0]


def test_a_topic_briefing_shows_its_coverage_and_follow_counts_what_lands_after(page, served):
    _, assistant, corpus = served
    assert not page.locator("#nr-coverage").is_visible() and not page.locator("#nr-follow").is_visible()
    ask(page, TOPIC_QUESTION)
    page.wait_for_function("() => document.querySelectorAll('#nr-chat .nr-tl-item').length > 0", timeout=TIMEOUT_MS)
    # The plot: its caption names the unit and span; vega draws one bar per week, the empty ones too,
    # in date order (3 February and 25 March: the announcement and the revised cost).
    wait_for_text(page, "#nr-coverage", "Stories per week", "3 February – 25 March 2025 · 2 stories")
    page.wait_for_function("() => document.querySelectorAll('#nr-coverage .mark-rect path').length === 8",
                           timeout=TIMEOUT_MS)
    bars = page.eval_on_selector_all("#nr-coverage .mark-rect path", "ps => ps.map(p => p.getAttribute('aria-label'))")
    assert bars[0].endswith(": 3 Feb; stories: 1") and bars[-1].endswith(": 24 Mar; stories: 1"), bars
    assert [b.endswith("stories: 1") for b in bars] == [True] + [False] * 6 + [True], bars
    box = page.locator("#nr-coverage").bounding_box()
    assert box and box["height"] > 120 and box["width"] > 300
    caption = page.locator("#nr-coverage p.caption").bounding_box()  # not cut off by the plot's box
    assert caption and caption["y"] + caption["height"] <= box["y"] + box["height"]
    follow = page.locator("#nr-follow")
    assert follow.inner_text() == "Follow “the Vale Line rail link”"
    shot(page, "35-coverage-and-follow")

    follow.click()
    page.wait_for_function("() => document.querySelector('#nr-follow').innerText.startsWith('Following')",
                           timeout=TIMEOUT_MS)
    wait_for_text(page, "#nr-whatsnew", "following 1 topic, up to date")

    (corpus / "rail-link-inquiry.md").write_text(NEW_ARTICLE, encoding="utf-8")
    assistant.ingest(progress=False)  # as an upload or `serve --watch` would: the page learns of it by itself
    wait_for_text(page, "#nr-whatsnew", "What's new · 1 new story")
    shot(page, "35-whats-new-count")

    page.locator("#nr-whatsnew button").first.click()  # opens the panel: the digest
    wait_for_text(page, "#nr-digest", "the Vale Line rail link", "Vale Line rail link inquiry opens in Riverton",
                  "22 April 2025", "rail-link-inquiry.md")
    assert "Vale Line rail link to cost £1.8 billion" not in page.locator("#nr-digest").inner_text()  # seen before
    wait_for_text(page, "#nr-whatsnew", "following 1 topic, up to date")  # the digest marked it seen
    shot(page, "35-whats-new-digest")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the plot fits its column
    page.locator("#nr-coverage").scroll_into_view_if_needed()
    phone = page.locator("#nr-coverage").bounding_box()
    assert phone and phone["width"] <= 390
    shot(page, "35-phone")
    page.set_viewport_size({"width": 1280, "height": 720})

    # A lookup has no plot and no Follow.
    ask(page, "How much will the rail link cost?")
    page.wait_for_function("() => !document.querySelector('#nr-follow') || "
                           "document.querySelector('#nr-follow').offsetParent === null", timeout=TIMEOUT_MS)
    assert not page.locator("#nr-coverage").is_visible()
