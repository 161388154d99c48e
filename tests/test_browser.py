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


EXAMPLES = "#nr-chat button.example"


def above_the_fold(page, locator) -> bool:
    """Whether every element of the locator is inside the window as first shown, not scrolled to."""
    height = page.viewport_size["height"]
    boxes = [locator.nth(i).bounding_box() for i in range(locator.count())]
    return bool(boxes) and all(b is not None and b["y"] >= 0 and b["y"] + b["height"] <= height for b in boxes)


def test_ask_read_sources_open_article(page, corpus: Path, tmp_path: Path):
    # The page says what a reader cares about: the articles, their dates, the mode (#34 item 8: it
    # read "retriever hybrid · embeddings onnx:...").
    wait_for_text(page, "#nr-status", "6 articles", "none with a publication date", "Mode:", "extractive")
    assert "retriever" not in page.locator("#nr-status").inner_text()
    # Example questions made from the articles, in the empty chat above the fold (they were below it).
    wait_for_text(page, "#nr-chat", "What's happening with Emmanuel Macron?", "What happened in March?")
    assert above_the_fold(page, page.locator(EXAMPLES))
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

    # The chat has no floating label to sit over its scrolled text (#34 item 8).
    assert page.locator("#nr-chat label, #nr-chat [data-testid='block-label']").count() == 0
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
    wait_for_text(page, "#nr-chat", "What's the latest on Zorbland orchard harvest?")  # the newest story, whole
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


def test_an_example_asks_and_two_quotes_of_one_article_share_a_card(page):
    """#34 items 8, 1, 2 on the page: clicking an example asks it (it only filled the box); the
    undated seeds say so and answer from the dates their text gives, labelled as event dates; the
    two sentences of one article are one card with both quotes (they were two near-identical
    cards); a title made from the lead is marked, its file name beside it."""
    wait_for_text(page, "#nr-chat", "What happened in March?")
    shot(page, "9-examples-above-the-fold")
    page.locator(EXAMPLES, has_text="What happened in March?").click()
    wait_for_text(page, "#nr-chat", "What happened in March?", "no publication date, so I can't filter by date")
    wait_for_text(page, "#nr-chat", "11 March (event date)", "(first words)", "001_b3a78f4a513db0c2.txt")
    assert page.locator("#nr-question textarea").input_value() == ""  # asked, not left in the box
    wait_for_text(page, "#nr-sources", "001_b3a78f4a513db0c2.txt")
    cards = page.locator("#nr-sources .nr-card")
    assert cards.count() == 1 and cards.first.locator("mark").count() == 2
    assert all("March 11" in cards.first.locator("mark").nth(i).inner_text() for i in range(2))
    assert cards.first.locator(".nr-derived").inner_text() == "(first words)"
    shot(page, "10-example-asked-event-dates-one-card")
    # The examples live in the chat: redrawing them when the collection changes keeps the conversation.
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#nr-reindex").click()
    page.wait_for_function("() => (document.querySelector('#nr-report textarea')?.value || '').includes('unchanged')")
    page.get_by_role("tab", name="Ask").click()
    wait_for_text(page, "#nr-chat", "11 March (event date)")
    assert page.locator(EXAMPLES).count() == 0


def test_a_narrow_screen_shows_the_whole_placeholder_and_no_label_over_the_chat(page):
    """#34 item 8: on a phone the question box's placeholder was cut off, and the chat's
    'Conversation' label sat over its scrolled text."""
    page.set_viewport_size({"width": 390, "height": 844})
    wait_for_text(page, "#nr-chat", "What happened in March?")
    fits = page.locator("#nr-question textarea").evaluate("""(t) => {
        const cs = getComputedStyle(t); const c = document.createElement('canvas').getContext('2d');
        c.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        return [c.measureText(t.placeholder).width, t.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)]; }""")
    assert fits[0] <= fits[1], fits
    shot(page, "11-narrow-empty")
    ask(page, REASSURANCE)
    wait_for_text(page, "#nr-chat", "26 nations", "[1]")
    ask(page, "What did Macron say about the reassurance force?")
    page.wait_for_function("""() => { const chat = document.querySelector('#nr-chat').innerText;
        return chat.includes('What did Macron say') && !chat.includes('Searching the articles'); }""")
    page.locator("#nr-chat .bubble-wrap").first.evaluate("e => e.scrollTop = 120")
    assert page.locator("#nr-chat label, #nr-chat [data-testid='block-label']").count() == 0
    shot(page, "12-narrow-scrolled")
