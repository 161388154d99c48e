"""The Gradio app in-process on a loopback port, driven through gradio_client and plain HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from rag.types import Answer, Citation, Passage
from tests.servers import running_app

REASSURANCE = "How many nations pledged troops to the reassurance force?"
DRONES = "How many drones did Russia fire across Ukraine overnight?"
FOLLOW_UP = "And how many were intercepted?"
UNANSWERABLE = "Who won the 2022 football World Cup?"
CITED_FILE = "004_b7c3ddf9127e697c.txt"
TRAVERSALS = [
    "../../etc/passwd",
    "/etc/passwd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..\\..\\windows\\win.ini",
    "seeds/../../etc/passwd",
    "....//....//etc/passwd",
    "file:///etc/passwd",
    CITED_FILE,  # a real file name is not a citation id either
    "",
]



@pytest.fixture
def app_url(assistant) -> Iterator[str]:
    with running_app(assistant) as url:
        yield url


@pytest.fixture
def client(app_url):
    from gradio_client import Client

    c = Client(app_url, verbose=False, analytics_enabled=False, download_files=False)
    try:
        yield c
    finally:
        c.close()


def ask(client, question: str, history=None) -> tuple[dict, list[dict]]:
    job = client.submit(question, history if history is not None else [], api_name="/ask")
    final = job.result(timeout=60)
    return final, job.outputs()


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


# ----------------------------------------------------------------------------------- through the API
def test_streamed_answer_cites_and_opens_the_article(client, assistant):
    final, outputs = ask(client, REASSURANCE)
    assert "error" not in final, final
    assert final["partial"] is False and not final["abstained"]
    assert "26" in final["text"] and "[1]" in final["text"]
    partials = [o for o in outputs if isinstance(o, dict) and o.get("partial")]
    assert partials, "the answer was not streamed"
    assert final["text"].startswith(partials[0]["text"].strip()[:20])
    cited = [c for c in final["citations"] if c["source"] == CITED_FILE]
    assert cited, final["citations"]

    article = client.predict(cited[0]["chunk_id"], api_name="/open_citation")
    assert article["source"] == CITED_FILE
    expected = assistant.article(CITED_FILE)["text"]
    assert article["text"] == expected
    assert cited[0]["quote"] in article["text"]
    assert article["text"][cited[0]["start"]:cited[0]["end"]] == cited[0]["quote"]


def test_concurrent_questions_are_all_answered(client):
    jobs = [client.submit(q, [], api_name="/ask") for q in (REASSURANCE, DRONES, REASSURANCE, UNANSWERABLE)]
    finals = [job.result(timeout=60) for job in jobs]
    assert "26" in finals[0]["text"] and "112" in finals[1]["text"] and "26" in finals[2]["text"]
    assert finals[3]["abstained"] is True


def test_follow_up_uses_history(client):
    first, _ = ask(client, DRONES)
    assert "112" in first["text"], first
    history = [{"role": "user", "content": DRONES}, {"role": "assistant", "content": first["text"]}]
    second, _ = ask(client, FOLLOW_UP, history)
    assert "84" in second["text"], second
    assert second["citations"]
    # History may also come as a JSON string.
    import json

    third, _ = ask(client, FOLLOW_UP, json.dumps(history))
    assert "84" in third["text"]


def test_unanswerable_question_abstains(client):
    final, _ = ask(client, UNANSWERABLE)
    assert final["abstained"] is True
    assert final["citations"] == []
    assert "corpus does not" in final["text"].lower()


def test_citation_ids_are_never_paths(client):
    for attempt in TRAVERSALS:
        result = client.predict(attempt, api_name="/open_citation")
        assert set(result) == {"error"}, (attempt, result)
        assert "root:" not in str(result)


def test_file_routes_do_not_serve_system_files(app_url):
    for path in (
        "file=/etc/passwd",
        "gradio_api/file=/etc/passwd",
        "gradio_api/file=../../../../etc/passwd",
        "gradio_api/file=%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "file=" + CITED_FILE,
    ):
        status, body = http_get(app_url + path)
        assert "root:" not in body, path
        assert "Macron" not in body, path
        assert status >= 400, (path, status)


def test_user_errors_are_friendly_messages(client, assistant):
    assert client.predict("   ", [], api_name="/ask") == {"error": "the question is empty"}
    too_long = client.predict("x" * (assistant.settings.max_question_chars + 1), [], api_name="/ask")
    assert "limit" in too_long["error"] and "Traceback" not in too_long["error"]
    bad_history = client.predict(REASSURANCE, "{not json", api_name="/ask")
    assert "history" in bad_history["error"]
    wrong_shape = client.predict(REASSURANCE, [{"role": "wizard", "content": 1}], api_name="/ask")
    assert "history" in wrong_shape["error"]


def test_corpus_and_reindex(client):
    info = client.predict(api_name="/corpus")
    assert info["status"]["documents"] == 5 and info["status"]["mode"] == "extractive"
    assert "data_dir" not in info["status"]  # no server paths through the API
    assert {d["source"] for d in info["documents"]} >= {CITED_FILE}
    assert all(d["chunks"] > 0 and d["title"] for d in info["documents"])
    summary = client.predict(api_name="/reindex")
    assert "files seen 5" in summary and "unchanged 5" in summary


def test_page_is_offline(app_url):
    status, page = http_get(app_url)
    assert status == 200 and "newsrag" in page
    assert "fonts.googleapis" not in page and "fonts.gstatic" not in page
    endpoints = {"ask", "open_citation", "corpus", "reindex"}
    _, info = http_get(app_url + "gradio_api/info")
    assert all(f'"/{name}"' in info for name in endpoints), info


def test_theme_needs_no_font_service():
    from ui.app import launch_options, offline_theme

    theme = offline_theme()
    css = theme._get_theme_css()
    assert theme._stylesheets == []
    assert "--font: system-ui, sans-serif" in css and "googleapis" not in css
    options = launch_options()
    assert options["share"] is False and options["run_history"] is False


# --------------------------------------------------------------------------------- rendering (no server)
EVIL = 'Officials said <script>alert("x")</script> 17 bridges <img src="http://evil.example/p.png"> opened.'


def evil_answer() -> Answer:
    start = EVIL.index("17 bridges")
    quote = EVIL[start:]
    return Answer(
        question="How many bridges?",
        text=f"{quote} [1]",
        citations=[Citation(1, "evil<b>.txt", "<i>Title</i>", "cid\"><x", quote, start, len(EVIL), 0.9)],
        abstained=False,
        mode="extractive",
    )


def test_rendering_escapes_article_text():
    from ui import render

    answer = evil_answer()
    panel = render.sources_panel(answer, lambda cid: {"text": "Before.\n" + EVIL + "\nAfter."})
    for fragment in (panel, render.chat_text(answer.text), render.article_view({"title": "<t>", "source": "s", "url": "http://evil.example/", "text": EVIL}, [(0, 9)])):
        assert "<script" not in fragment and "<img" not in fragment and "<a " not in fragment
        assert "<i>" not in fragment and "<b>" not in fragment
    assert "&lt;script&gt;" in panel and "<mark>17 bridges &lt;img" in panel
    assert 'data-cid="cid&quot;&gt;&lt;x"' in panel
    assert "Before." not in panel and "After." not in panel  # only the quote's own paragraph


def test_quote_is_marked_inside_its_paragraph():
    from ui import render

    text = "First paragraph.\nAlpha beta. The quoted sentence here. Gamma delta.\nLast paragraph."
    start = text.index("The quoted")
    end = start + len("The quoted sentence here.")
    html = render.quote_in_paragraph(text, text[start:end], start, end)
    assert html == "Alpha beta. <mark>The quoted sentence here.</mark> Gamma delta."
    long = "word " * 400 + "NEEDLE." + " word" * 400
    trimmed = render.quote_in_paragraph(long, "NEEDLE.", long.index("NEEDLE."), long.index("NEEDLE.") + 7)
    assert trimmed.startswith("… ") and trimmed.endswith(" …") and "<mark>NEEDLE.</mark>" in trimmed
    assert len(trimmed) < 1100
    # Offsets that do not match fall back to finding the quote.
    assert "<mark>The quoted sentence here.</mark>" in render.quote_in_paragraph(text, text[start:end], 0, 5)


def test_related_passages_are_labelled_not_an_answer():
    from ui import render

    abstained = Answer(
        question="q", text="The corpus does not say.", citations=[], abstained=True, mode="extractive",
        related=[Passage("a.txt", "T", "c1", "<b>close</b> passage", 0.2)],
    )
    html = render.related_panel(abstained)
    assert "Related passages (not an answer)" in html and "&lt;b&gt;close" in html
    assert render.related_panel(evil_answer()) == ""
    assert "Related passages" not in render.sources_panel(abstained)
