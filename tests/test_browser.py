"""The real page in Debian's chromium, through Playwright: ask, read the cited source, open the article;
upload articles, see them listed and cited, remove one.

Fails (does not skip) without /usr/bin/chromium: the UI is part of the product. Nothing is downloaded;
every request that leaves 127.0.0.1 is blocked and makes the test fail.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.servers import running_app

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
REASSURANCE = "How many nations pledged troops to the reassurance force?"
CITED_FILE = "004_b7c3ddf9127e697c.txt"
ARTICLE_SNIPPET = "Zelenskyy also held a private meeting with Witkoff."
EVIL_FILE = "zz_evil.txt"
EVIL_ARTICLE = (
    "Council <b>approves</b> bridges <img src=x onerror=\"window.__xss=1\">\n"
    "The Quuxville council approved 17 new bridges on Monday. <script>window.__xss=2;alert('xss')</script>"
    " <img src=\"http://evil.example/p.png\" onerror=\"window.__xss=3\"> The mayor of Quuxville praised "
    "the plan at length.\n"
    "Construction of the bridges will start next spring, officials in Quuxville said.\n"
)
EVIL_QUESTION = "How many new bridges did the Quuxville council approve?"
TIMEOUT_MS = 30_000
# Screenshots to look at: NEWSRAG_SCREENSHOTS names a folder; by default the system's temp folder
# (never inside the repo, never committed).
SHOTS = Path(os.environ.get("NEWSRAG_SCREENSHOTS") or Path(tempfile.gettempdir()) / "newsrag-shots")
UPLOADS = {
    "harbour.txt": "Quuxville harbour reopens\nThe old harbour of Quuxville reopened on Friday after 14 months of repairs.\n",
    "orchard.md": "---\ndate: 2025-02-14\n---\n# Zorbland orchard harvest\n\nFarmers in Zorbland picked 312 tonnes of plums this autumn, "
    "the cooperative said.\nThe cooperative expects a smaller harvest next year.\n",
}
PLUMS = "How many tonnes of plums did farmers in Zorbland pick?"
PENDING_SECONDS = 1.5  # how long the slowed assistant thinks, so the pending state can be seen


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)



class SlowFirstPiece:
    """The assistant, thinking a while before its first piece of any answer (to see the pending state)."""

    def __init__(self, assistant) -> None:
        self._assistant = assistant

    def __getattr__(self, name):
        return getattr(self._assistant, name)

    def stream(self, *args, **kwargs):
        time.sleep(PENDING_SECONDS)
        yield from self._assistant.stream(*args, **kwargs)


@pytest.fixture
def app_url(assistant, corpus: Path):
    (corpus / EVIL_FILE).write_text(EVIL_ARTICLE, encoding="utf-8")
    assistant.ingest(progress=False)
    with running_app(SlowFirstPiece(assistant)) as url:
        yield url


@pytest.fixture
def page(app_url):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `apt-get install chromium` (Debian's package; nothing is downloaded)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        outside: list[str] = []
        dialogs: list[str] = []

        def guard(route):
            host = urlparse(route.request.url).hostname
            if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)

        def on_dialog(dialog):
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(app_url)
        page.outside_requests = outside  # type: ignore[attr-defined]
        page.dialogs = dialogs  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            context.close()
            browser.close()


def ask(page, question: str) -> None:
    box = page.locator("#nr-question textarea")
    box.fill(question)
    page.locator("#nr-send").click()


def wait_for_text(page, selector: str, *texts: str) -> None:
    page.wait_for_function(
        """([sel, texts]) => { const el = document.querySelector(sel);
             return !!el && texts.every(t => el.innerText.includes(t)); }""",
        arg=[selector, list(texts)],
        timeout=TIMEOUT_MS,
    )


def test_ask_read_sources_open_article(page, corpus: Path, tmp_path: Path):
    # The page shows the mode and the corpus, and example questions made from the indexed titles.
    wait_for_text(page, "#nr-status", "Mode:", "extractive")
    wait_for_text(page, "#nr-examples", "Example questions", "What's the latest on")
    assert page.locator("#nr-empty").count() == 0 or not page.locator("#nr-empty").is_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('#nr-question textarea')).fontFamily").startswith("system-ui")

    # A user error is a friendly message in the conversation, not a traceback.
    ask(page, "   ")
    wait_for_text(page, "#nr-chat", "the question is empty")
    assert "Traceback" not in page.locator("#nr-chat").inner_text()

    # The question shows at once, with a pending reply that the answer then replaces.
    ask(page, REASSURANCE)
    wait_for_text(page, "#nr-chat", "reassurance force?", "Searching the articles…")
    wait_for_text(page, "#nr-sources", "Searching the articles…")
    shot(page, "1-pending")
    wait_for_text(page, "#nr-chat", "26", "[1]")
    assert "Searching the articles" not in page.locator("#nr-chat").inner_text()
    assert "the question is empty" not in page.locator("#nr-chat").inner_text()
    wait_for_text(page, "#nr-sources", CITED_FILE)
    card = page.locator("#nr-sources .nr-card").first
    assert "26" in card.locator("mark").inner_text()
    assert page.locator("#nr-related .nr-card").count() == 0

    # A [n] marker in the answer is a link to its source card.
    link = page.locator('#nr-chat a[href^="#nr-src-"]').first
    target = link.get_attribute("href")
    assert target and page.locator(f"#nr-sources {target}").count() == 1
    link.click()
    page.wait_for_function("(id) => location.hash === id", arg=target)
    assert page.locator(f"#nr-sources {target}").is_visible()

    card.locator("button.nr-open").click()
    wait_for_text(page, "#nr-article", ARTICLE_SNIPPET, CITED_FILE)
    assert "26 nations" in page.locator("#nr-article mark").first.inner_text()
    shot(page, "2-answer")

    # Article markup is text, never live elements.
    ask(page, EVIL_QUESTION)
    wait_for_text(page, "#nr-chat", "17")
    wait_for_text(page, "#nr-sources", EVIL_FILE, "<script>")
    page.locator("#nr-sources button.nr-open").first.click()
    wait_for_text(page, "#nr-article", "<script>window.__xss=2", "<img src=")
    for panel in ("#nr-chat", "#nr-sources", "#nr-article"):
        assert page.locator(f"{panel} script, {panel} img[onerror], {panel} .nr-panel b").count() == 0, panel
    assert page.evaluate("window.__xss") is None
    shot(page, "3-escaped")

    # An abstention says so and shows related passages apart, labelled as not an answer.
    ask(page, "Who won the 2022 football World Cup?")
    wait_for_text(page, "#nr-chat", "corpus does not say")
    wait_for_text(page, "#nr-related", "Related passages (not an answer)")
    wait_for_text(page, "#nr-sources", "cites no source")
    shot(page, "4-abstained")

    # Clearing empties the conversation.
    page.locator("#nr-clear").click()
    page.wait_for_function("() => !document.querySelector('#nr-chat').innerText.includes('World Cup')")

    # The corpus tab lists the articles (markup in a title stays text); re-indexing the folder picks up a new file.
    page.get_by_role("tab", name="Corpus").click()
    wait_for_text(page, "#nr-corpus", CITED_FILE, EVIL_FILE, "Source", "Title", "Published", "Chunks", "Origin")
    assert page.locator("#nr-corpus img, #nr-corpus script, #nr-corpus b").count() == 0
    (corpus / "zz_new.txt").write_text("Harbour works begin\nWork on the old harbour of Quuxville began in 2024.\n", encoding="utf-8")
    page.locator("#nr-reindex").click()
    page.wait_for_function(
        "() => (document.querySelector('#nr-report textarea')?.value || '').includes('added 1')",
        timeout=TIMEOUT_MS,
    )
    wait_for_text(page, "#nr-status", "7 articles")
    wait_for_text(page, "#nr-corpus", "zz_new.txt", "Harbour works begin")

    # Upload two articles at once (as a drop would): a per-file report, then both listed.
    files = []
    for name, text in UPLOADS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        files.append(str(tmp_path / name))
    page.locator("#nr-upload input[type=file]").set_input_files(files)
    wait_for_text(page, "#nr-changes", "harbour.txt", "orchard.md", "added")
    wait_for_text(page, "#nr-corpus", "harbour.txt", "orchard.md", "Zorbland orchard harvest", "uploaded", "2025-02-14")
    wait_for_text(page, "#nr-status", "9 articles")
    shot(page, "5-uploaded")

    # The uploaded article is cited, and shows up among the examples.
    page.get_by_role("tab", name="Ask").click()
    wait_for_text(page, "#nr-examples", "What's the latest on Zorbland orchard harvest?")  # the newest story, whole
    ask(page, PLUMS)
    wait_for_text(page, "#nr-chat", "312", "[1]")
    wait_for_text(page, "#nr-sources", "orchard.md", "published 14 February 2025")
    assert page.locator("#nr-chat strong").last.inner_text().startswith("312")  # the direct answer, first
    shot(page, "6-uploaded-cited")

    # Remove one: click its row in the list, then Remove.
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#nr-corpus").get_by_text("harbour.txt", exact=True).first.click()
    wait_for_text(page, "#nr-remove-pick", "harbour.txt")
    page.locator("#nr-remove").click()
    wait_for_text(page, "#nr-changes", "harbour.txt", "removed")
    wait_for_text(page, "#nr-status", "8 articles")
    page.wait_for_function("() => !document.querySelector('#nr-corpus').innerText.includes('harbour.txt')")
    wait_for_text(page, "#nr-corpus", "orchard.md")
    shot(page, "7-removed")

    # Filters: a bad date is a friendly message; the document picker offers the indexed documents.
    page.get_by_role("tab", name="Ask").click()
    page.locator("#nr-filters").get_by_text("Filters: which articles to search").click()
    page.locator("#nr-since input, #nr-since textarea").first.fill("2025-13-01")
    ask(page, PLUMS)
    wait_for_text(page, "#nr-chat", "since must be a date like 2025-02-01")
    page.locator("#nr-filter-sources input").first.click()
    wait_for_text(page, "body", "orchard.md")
    shot(page, "8-filters")
    page.keyboard.press("Escape")

    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.outside_requests == []  # type: ignore[attr-defined]
