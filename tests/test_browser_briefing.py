"""A briefing in the real page (Debian's chromium): the dated timeline survives Gradio's
sanitiser, reads oldest first, and its markers open the source cards. Saves a screenshot to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import running_app
from tests.test_browser import ask, page, shot, wait_for_text  # noqa: F401 - page is a fixture

pytestmark = pytest.mark.browser

DATED = Path(__file__).resolve().parents[1] / "evals" / "corpora" / "dated"


@pytest.fixture
def app_url(tmp_path):
    """The page over the in-repo dated corpus (overrides test_browser's seeds app for `page`)."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    assistant = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=DATED, embedding_backend="hashing"))
    assistant.ingest(progress=False)
    with running_app(assistant) as url:
        yield url


def test_a_briefing_is_a_dated_timeline_whose_markers_open_the_sources(page):
    wait_for_text(page, "#nr-chat", "What happened in April 2025?")  # an example, in the empty chat
    ask(page, "What happened in February 2025?")
    wait_for_text(page, "#nr-chat", "5 stories, oldest first", "27 February 2025")
    # The streamed lines come first; the timeline replaces them when the answer is final.
    page.wait_for_function("() => document.querySelectorAll('#nr-chat .nr-tl-item').length === 5")
    entries = page.locator("#nr-chat .nr-tl-item")
    assert entries.count() == 5
    dates = [entries.nth(i).locator("time").get_attribute("datetime") for i in range(5)]
    assert dates == sorted(dates) and dates[0] == "2025-02-03"
    assert "also in flood-wall-echo.html" in page.locator("#nr-chat .nr-tl").inner_text()
    bullet = page.evaluate("getComputedStyle(document.querySelector('#nr-chat .nr-tl-item'), '::before').borderRadius")
    assert bullet == "50%"  # the page's timeline style applies inside the chat
    link = page.locator('#nr-chat .nr-tl a[href^="#nr-src-"]').nth(2)
    target = link.get_attribute("href")
    link.click()
    page.wait_for_function("(id) => location.hash === id", arg=target)
    assert page.locator(f"#nr-sources {target}").is_visible()
    wait_for_text(page, "#nr-sources", "market-hall-fire.md")
    shot(page, "5-briefing-timeline")
