"""A real OpenAI-compatible HTTP server on 127.0.0.1 for the LLM-mode tests.

It speaks the wire protocol the real servers speak (POST /v1/chat/completions, streaming as SSE
or not, GET /v1/models), so the tests exercise our code, llama-index's OpenAILike and the openai
client end to end, with no mocks. Its reply is scriptable per test and it records every request.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest

Reply = Callable[[list[dict[str, Any]]], str]


class FakeOpenAI:
    """`reply` is a fixed string or a function of the request's messages; `status` != 200 fails."""

    def __init__(self, model: str = "fake-model") -> None:
        self.model = model
        self.reply: str | Reply = "The sources do not answer this question."
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(self, messages: list[dict[str, Any]]) -> str:
        return self.reply(messages) if callable(self.reply) else self.reply

    @property
    def last_messages(self) -> list[dict[str, Any]]:
        return self.requests[-1]["messages"]


def text_of(message: dict[str, Any]) -> str:
    """A message's text, whether content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def pieces(text: str) -> Iterator[str]:
    """Word-sized deltas, the way real servers stream."""
    yield from re.findall(r"\S+\s*|\s+", text)


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet tests
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            if self.path.rstrip("/") != "/v1/models":
                self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                return
            self._json(200, {"object": "list", "data": [{"id": fake.model, "object": "model", "created": 0, "owned_by": "fake"}]})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                return
            fake.requests.append(body)
            if fake.status != 200:
                self._json(fake.status, {"error": {"message": "scripted failure", "type": "server_error"}})
                return
            text = fake.answer(body.get("messages", []))
            if body.get("stream"):
                self._stream(text, body.get("model", fake.model))
            else:
                self._json(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": body.get("model", fake.model),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                })

        def _stream(self, text: str, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes

            def event(delta: dict[str, Any], finish: str | None = None) -> None:
                chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

            event({"role": "assistant", "content": ""})
            for piece in pieces(text):
                event({"content": piece})
            event({}, "stop")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
