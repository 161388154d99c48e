"""The /v1 HTTP API in-process (FastAPI's TestClient, which is an httpx client, so the official
`openai` client runs over it unchanged), on the seeds with the hashing embedder."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openai import OpenAI

from rag.assistant import Assistant
from rag.errors import Busy, IndexUnavailable, InvalidRequest, NotConfigured, NotFound
from rag.types import NewsragError
from tests.servers import free_port
from ui.server import claim_port, create_app, serve

REASSURANCE = "How many nations pledged troops to the reassurance force?"
UNANSWERABLE = "Who won the 2022 football World Cup?"
CITED_FILE = "004_b7c3ddf9127e697c.txt"
KEY = "test-key-123"
CITATION_FIELDS = {"marker", "source", "title", "quote", "start", "end", "published", "url", "corroborated_by"}


@pytest.fixture
def fast(settings) -> Assistant:
    """The seeds, hashing embedder, no cross-encoder: answers in milliseconds."""
    a = Assistant(settings.model_copy(update={"rerank": False}))
    a.ingest(progress=False)
    return a


def client_for(assistant) -> TestClient:
    return TestClient(create_app(assistant), raise_server_exceptions=False)


@pytest.fixture
def http(fast) -> Iterator[TestClient]:
    with client_for(fast) as tc:
        yield tc


@pytest.fixture
def oai(http) -> OpenAI:
    return OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=http, max_retries=0)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def sse_events(body: str) -> list[str]:
    return [line[len("data: "):] for line in body.split("\n\n") if line.startswith("data: ")]


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]  # OpenAI's shape, never a traceback
    assert error["message"] and "Traceback" not in response.text
    return error


class Wrapped:
    """A real assistant seen through a narrower or instrumented `ask`/`stream` (no mocks)."""

    def __init__(self, inner: Assistant) -> None:
        self.inner, self.settings, self.calls = inner, inner.settings, []

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


# ------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("error, status, kind", [
    (InvalidRequest("the question is empty"), 400, "invalid_request_error"),
    (NotFound("no such article in the index"), 404, "not_found_error"),
    (Busy("another process is writing the index"), 409, "conflict_error"),
    (IndexUnavailable("the index is empty"), 503, "server_error"),
    (NotConfigured("no LLM is configured"), 503, "server_error"),
])
def test_each_kind_of_error_has_its_own_status(fast, error, status, kind):
    """The status follows the error's type (rag.errors.present), whole or streamed, never its text."""
    failing = Wrapped(fast)

    def fail(*args, **kwargs):
        raise error

    failing.ask = fail
    failing.stream = lambda *args, **kwargs: (fail() for _ in [0])  # fails at its first piece
    with client_for(failing) as tc:
        for stream in (False, True):
            body = {"messages": user(REASSURANCE), "stream": stream}
            shown = assert_error(tc.post("/v1/chat/completions", json=body), status)
            assert shown == {"message": str(error), "type": kind, "param": None, "code": None}


def test_a_bug_is_a_500_that_keeps_its_details_on_the_server(fast):
    failing = Wrapped(fast)

    def fail(*args, **kwargs):
        raise RuntimeError("/srv/secret/path exploded")

    failing.ask = fail
    with client_for(failing) as tc:
        error = assert_error(tc.post("/v1/chat/completions", json={"messages": user(REASSURANCE)}), 500)
    assert error["type"] == "server_error" and "secret" not in error["message"]


# ------------------------------------------------------------------------------------ answers
def test_models_list_newsrag_and_the_llm_model_only_when_configured(fast, oai):
    assert [m.id for m in oai.models.list()] == ["newsrag"]
    fast.settings = fast.settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "m"})
    with client_for(fast) as tc:
        assert [m["id"] for m in tc.get("/v1/models").json()["data"]] == ["newsrag", "newsrag-llm"]


def test_plain_answer_quotes_the_article_with_citations(oai, fast):
    reply = oai.chat.completions.create(model="newsrag", messages=user(REASSURANCE), temperature=0.7)
    content = reply.choices[0].message.content
    assert "26" in content and "[1]" in content
    assert reply.model_extra["abstained"] is False
    citations = reply.model_extra["citations"]
    assert citations and set(citations[0]) == CITATION_FIELDS
    cited = [c for c in citations if c["source"] == CITED_FILE]
    assert cited, citations
    article = fast.article(CITED_FILE)["text"]
    assert article[cited[0]["start"]:cited[0]["end"]] == cited[0]["quote"]


def test_streamed_answer_is_the_plain_answer_in_pieces_with_citations_last(http, oai):
    plain = oai.chat.completions.create(model="newsrag", messages=user(REASSURANCE))
    chunks = list(oai.chat.completions.create(model="newsrag", messages=user(REASSURANCE), stream=True))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) > 3
    assert "".join(pieces) == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"] == plain.model_extra["citations"]
    assert all("citations" not in (c.model_extra or {}) for c in chunks[:-1])

    raw = http.post("/v1/chat/completions", json={"messages": user(REASSURANCE), "stream": True})
    assert raw.headers["content-type"].startswith("text/event-stream")
    events = sse_events(raw.text)
    assert events[-1] == "[DONE]"
    assert json.loads(events[0])["choices"][0]["delta"]["role"] == "assistant"


def test_unanswerable_question_abstains_without_citations(oai):
    reply = oai.chat.completions.create(model="newsrag", messages=user(UNANSWERABLE))
    assert reply.model_extra["abstained"] is True
    assert reply.model_extra["citations"] == []
    assert reply.choices[0].message.content


def test_the_conversation_so_far_is_the_history(fast):
    seen = Wrapped(fast)

    def ask(question, history=None, mode=None):
        seen.calls.append((question, history, mode))
        return fast.ask(question, history, mode)

    seen.ask = ask
    messages = [
        {"role": "system", "content": "You are helpful."},  # steers nothing: not a turn
        {"role": "user", "content": REASSURANCE},
        {"role": "assistant", "content": "26 nations [1]"},
        {"role": "user", "content": [{"type": "text", "text": "And who announced it?"}]},
    ]
    with client_for(seen) as tc:
        assert tc.post("/v1/chat/completions", json={"model": "newsrag", "messages": messages}).status_code == 200
    assert seen.calls == [("And who announced it?", [
        {"role": "user", "content": REASSURANCE}, {"role": "assistant", "content": "26 nations [1]"}], "extractive")]


def test_filters_reach_the_engine_as_iso_strings_or_are_refused_in_one_line(fast):
    seen = Wrapped(fast)

    def ask(question, history=None, mode=None, *, sources=None, since=None, until=None):
        seen.calls.append({"sources": sources, "since": since, "until": until})
        return fast.ask(question, history, mode)

    seen.ask = ask
    body = {"messages": user(REASSURANCE), "sources": [CITED_FILE], "since": "2025-01-01", "until": "2025-12-31"}
    with client_for(seen) as tc:
        assert tc.post("/v1/chat/completions", json=body).status_code == 200
        assert_error(tc.post("/v1/chat/completions", json={**body, "since": "last spring"}), 400)
    assert seen.calls == [{"sources": [CITED_FILE], "since": "2025-01-01", "until": "2025-12-31"}]

    narrow = Wrapped(fast)
    narrow.ask = lambda question, history=None, mode=None: fast.ask(question, history, mode)
    with client_for(narrow) as tc:
        error = assert_error(tc.post("/v1/chat/completions", json=body), 400)
    assert "cannot filter by sources, since, until" in error["message"]


# ------------------------------------------------------------------------------------ search and documents
def test_search_returns_ranked_chunks_with_offsets_into_the_article(http, fast):
    hits = http.post("/v1/search", json={"query": "reassurance force troops", "top_k": 3}).json()["data"]
    assert 1 <= len(hits) <= 3 and [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    assert any(h["source"] == CITED_FILE for h in hits)
    for hit in hits:
        assert fast.article(hit["source"])["text"][hit["start"]:hit["end"]] == hit["text"]
    assert_error(http.post("/v1/search", json={"query": ""}), 400)
    assert_error(http.post("/v1/search", json={"query": "x", "top_k": 500}), 400)


def test_upload_then_ask_then_delete(http, oai):
    article = b"Zorblax opens libraries\n\nThe city of Zorblax opened 17 new public libraries on Monday, the mayor said.\n"
    files = [("files", ("zorblax.txt", article, "text/plain")), ("files", ("notes.exe", b"MZ\x00\x01", "application/octet-stream"))]
    report = http.post("/v1/documents", files=files).json()
    assert report["added"] == 1 and [s["path"] for s in report["skipped"]] == ["notes.exe"]
    assert "zorblax.txt" in [d["source"] for d in http.get("/v1/documents").json()["data"]]

    reply = oai.chat.completions.create(model="newsrag", messages=user("How many libraries did Zorblax open?"))
    assert "17" in reply.choices[0].message.content
    assert reply.model_extra["citations"][0]["source"] == "zorblax.txt"

    assert http.delete("/v1/documents/zorblax.txt").json()["removed"] == 1
    assert "zorblax.txt" not in [d["source"] for d in http.get("/v1/documents").json()["data"]]
    assert_error(http.delete("/v1/documents/zorblax.txt"), 404)
    assert_error(http.post("/v1/documents", data={"note": "no files"}), 400)


def test_document_list_keeps_server_paths_private(http, tmp_path):
    rows = http.get("/v1/documents").json()["data"]
    assert len(rows) == 5 and str(tmp_path) not in json.dumps(rows)


# ------------------------------------------------------------------------------------ guards
def test_a_configured_key_is_required_on_every_v1_route_but_not_healthz(fast):
    fast.settings = fast.settings.model_copy(update={"api_key": KEY})
    with client_for(fast) as tc:
        for method, path in (("get", "/v1/models"), ("post", "/v1/chat/completions"), ("post", "/v1/search"),
                             ("get", "/v1/documents"), ("delete", f"/v1/documents/{CITED_FILE}")):
            assert_error(tc.request(method, path), 401)
            assert_error(tc.request(method, path, headers={"Authorization": "Bearer wrong"}), 401)
        assert_error(tc.post("/v1/chat/completions", content=b"{junk"), 401)  # the key is checked first
        assert tc.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
        assert tc.get("/healthz").json() == {"status": "ready", "ready": True, "documents": 5, "chunks": fast.status()["chunks"]}
        assert CITED_FILE in [d["source"] for d in tc.get("/v1/documents", headers={"Authorization": f"Bearer {KEY}"}).json()["data"]]


@pytest.mark.parametrize(
    "body, status",
    [
        (b"{not json", 400),
        (b"", 400),
        (json.dumps({"messages": []}).encode(), 400),
        (json.dumps({"messages": "hello"}).encode(), 400),
        (json.dumps({"messages": [{"role": "assistant", "content": "hi"}]}).encode(), 400),
        (json.dumps({"messages": user("   ")}).encode(), 400),
        (json.dumps({"messages": user("x" * 5000)}).encode(), 400),
        (json.dumps({"messages": user("x" * 5000), "stream": True}).encode(), 400),
        (json.dumps({"model": "gpt-4", "messages": user(REASSURANCE)}).encode(), 404),
        (b"\x00\xff" * 4_000_000, 413),
    ],
    ids=["malformed", "empty", "no-messages", "messages-not-list", "no-user-turn", "blank-question",
         "question-too-long", "too-long-streamed", "unknown-model", "8MB-junk"],
)
def test_bad_bodies_get_a_json_error_never_a_traceback(http, body, status):
    assert_error(http.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"}), status)


def test_an_oversized_body_sent_without_a_length_is_refused_as_it_arrives(http):
    def junk() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 100_000

    assert_error(http.post("/v1/chat/completions", content=junk(), headers={"Content-Type": "application/json"}), 413)


def test_when_every_slot_and_queue_place_is_taken_the_api_says_429_with_retry_after(fast):
    fast.settings = fast.settings.model_copy(update={"api_max_concurrent": 1, "api_max_queued": 0})
    busy = Wrapped(fast)
    entered, release = threading.Event(), threading.Event()

    def ask(question, history=None, mode=None):
        entered.set()
        release.wait(30)
        return fast.ask(question, history, mode)

    busy.ask = ask
    with client_for(busy) as tc:
        first: dict = {}
        worker = threading.Thread(target=lambda: first.update(r=tc.post("/v1/chat/completions", json={"messages": user(REASSURANCE)})))
        worker.start()
        assert entered.wait(30)
        refused = tc.post("/v1/chat/completions", json={"messages": user(REASSURANCE)})
        assert_error(refused, 429)
        assert refused.headers["Retry-After"] == "1"
        assert tc.get("/healthz").status_code == 200  # health and listings are never queued
        release.set()
        worker.join(30)
        assert first["r"].status_code == 200
        assert tc.post("/v1/chat/completions", json={"messages": user(REASSURANCE)}).status_code == 200


# ------------------------------------------------------------------------------------ serving
def test_a_busy_port_is_one_actionable_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(NewsragError) as caught:
            claim_port("127.0.0.1", port)
    assert str(caught.value) == f"port {port} is in use; choose another with --port N or NEWSRAG_PORT"


class StopsAtWarmUp:
    """Just enough of an assistant for `serve` to get as far as loading the models."""

    def __init__(self, settings) -> None:
        self.settings = settings

    def warm_up(self) -> None:
        raise NewsragError("stopped at warm-up")


def test_serving_beyond_loopback_without_a_key_warns_and_a_failed_start_frees_the_port(settings, capsys):
    with pytest.raises(NewsragError, match="stopped at warm-up"):
        serve(StopsAtWarmUp(settings), host="0.0.0.0", port=0)
    assert "warning: serving on 0.0.0.0 without NEWSRAG_API_KEY" in capsys.readouterr().err
    port = free_port()
    with pytest.raises(NewsragError, match="stopped at warm-up"):
        serve(StopsAtWarmUp(settings.model_copy(update={"api_key": KEY})), host="127.0.0.1", port=port)
    assert "warning" not in capsys.readouterr().err
    claim_port("127.0.0.1", port).close()


def test_regression_unknown_routes_and_wrong_methods_under_v1_have_openais_error_shape(http):
    """FastAPI answered `{"detail": "Not Found"}`, which OpenAI clients cannot read."""
    error = assert_error(http.get("/v1/no-such-route"), 404)
    assert "/v1/no-such-route" in error["message"] and error["type"] == "not_found_error"
    error = assert_error(http.get("/v1/chat/completions"), 405)
    assert "GET" in error["message"]


def test_content_leads_with_the_direct_answer_and_markers_are_url_citation_annotations(http, fast):
    reply = http.post("/v1/chat/completions", json={"model": "newsrag", "messages": user(REASSURANCE)}).json()
    message, direct = reply["choices"][0]["message"], reply["direct"]
    assert direct and message["content"].startswith(direct)  # Open WebUI shows only `content`
    notes = message["annotations"]
    assert notes and all(n["type"] == "url_citation" for n in notes)
    for note in notes:
        cited = note["url_citation"]
        assert message["content"][cited["start_index"]:cited["end_index"]].startswith("[")
        assert cited["url"].startswith("newsrag://") and cited["title"]


def test_every_api_request_is_one_access_log_line(http, capsys):
    http.get("/v1/models")
    assert any(line.startswith("GET /v1/models 200 ") and line.endswith(" ms") for line in capsys.readouterr().err.splitlines())


def test_regression_v1_errors_keep_openais_shape_with_the_page_mounted_at_root(fast):
    """On `newsrag serve` the page is mounted at `/`, and that mount caught every unknown /v1 path
    (and every wrong method on a real one) before FastAPI's own 404/405: the answer was Gradio's
    `{"detail": "Not Found"}`. Built exactly as `serve` builds it: create_app(assistant, build_app(...))."""
    from ui.app import build_app

    with TestClient(create_app(fast, build_app(fast)), raise_server_exceptions=False) as tc:
        error = assert_error(tc.get("/v1/nope"), 404)
        assert set(error) == {"message", "type", "param", "code"} and error["type"] == "not_found_error"
        assert "/v1/nope" in error["message"]
        response = tc.get("/v1/chat/completions")
        error = assert_error(response, 405)
        assert "GET" in error["message"] and set(error) == {"message", "type", "param", "code"}
        assert response.headers["allow"] == "POST" and "use POST" in error["message"]
        assert_error(tc.post("/v1/models"), 405)
        assert_error(tc.delete("/v1"), 404)
        assert tc.get("/v1/models").status_code == 200  # the real routes still answer
        assert tc.get("/").status_code == 200  # and the page is still at `/`
