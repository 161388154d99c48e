"""RemoteEmbedder against a real OpenAI-compatible /v1/embeddings server on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import numpy as np
import pytest

from rag.embeddings import HashingEmbedder
from rag.types import NewsragError
from tests.servers import free_port


class FakeEmbeddings:
    """Answers like an OpenAI embeddings endpoint with un-normalised hashing vectors (shuffled
    `index` order, as servers may), or with a scripted failure."""

    def __init__(self) -> None:
        self.vectors = HashingEmbedder(dim=64)
        self.mode = "ok"  # ok | error | garbage | short | slow
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "FakeEmbeddings":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(fake: FakeEmbeddings) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            fake.requests.append(body)
            fake.headers.append(dict(self.headers))
            if self.path != "/v1/embeddings":
                return self._send(404, b'{"error": {"message": "not found"}}')
            if fake.mode == "error":
                return self._send(400, json.dumps({"error": {"message": "model 'x' not loaded\nsecond line"}}).encode())
            if fake.mode == "garbage":
                return self._send(200, b"<html>proxy login</html>")
            if fake.mode == "slow":
                time.sleep(2)
            inputs = body["input"]
            vectors = fake.vectors.embed(inputs) * 3.0
            if fake.mode == "short":
                vectors = vectors[:-1]
            data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
            self._send(200, json.dumps({"object": "list", "model": body["model"], "data": data[::-1]}).encode())

    return Handler


@pytest.fixture
def server() -> Iterator[FakeEmbeddings]:
    fake = FakeEmbeddings().start()
    yield fake
    fake.stop()


def _embedder(server: FakeEmbeddings, **options: Any):
    from rag.models.remote import RemoteEmbedder

    return RemoteEmbedder(server.base_url, "fake-embed", api_key="sk-test", **options)


def test_batches_orders_and_normalises(server: FakeEmbeddings) -> None:
    texts = [f"article number {i} about topic {i % 3}" for i in range(7)]
    embedder = _embedder(server, batch_size=3)
    vectors = embedder.embed(texts)
    assert [len(r["input"]) for r in server.requests] == [3, 3, 1]
    assert all(r["model"] == "fake-embed" for r in server.requests)
    assert server.headers[0]["Authorization"] == "Bearer sk-test"
    assert vectors.shape == (7, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors, HashingEmbedder(dim=64).embed(texts), atol=1e-5)  # order restored from `index`
    assert embedder.texts_embedded == 7 and embedder.name == "remote:fake-embed"
    assert embedder.embed([]).shape == (0, 64)
    assert np.allclose(embedder.embed_queries(["article number 1 about topic 1"]), vectors[1:2], atol=1e-5)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error", "answered HTTP 400: model 'x' not loaded second line"),
        ("garbage", "answered badly: not an OpenAI embeddings response"),
        ("short", "answered badly: 1 vectors .* for 2 texts"),
    ],
)
def test_bad_answers_are_one_line_errors(server: FakeEmbeddings, mode: str, message: str) -> None:
    server.mode = mode
    with pytest.raises(NewsragError, match=message) as info:
        _embedder(server).embed(["one", "two"])
    assert "\n" not in str(info.value)


def test_timeout_and_unreachable(server: FakeEmbeddings) -> None:
    server.mode = "slow"
    with pytest.raises(NewsragError, match="did not answer within 0.5 s"):
        _embedder(server, timeout_s=0.5).embed(["one"])
    from rag.models.remote import RemoteEmbedder

    nobody = RemoteEmbedder(f"http://127.0.0.1:{free_port()}/v1", "fake-embed")
    with pytest.raises(NewsragError, match="unreachable .*NEWSRAG_EMBEDDING_BASE_URL"):
        nobody.embed(["one"])


def test_settings_choose_remote(server: FakeEmbeddings, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.models import make_embedder
    from rag.settings import Settings

    monkeypatch.setenv("NEWSRAG_EMBEDDING_BASE_URL", server.base_url)
    monkeypatch.setenv("NEWSRAG_EMBEDDING_REMOTE_MODEL", "fake-embed")
    implied = make_embedder(Settings())  # a base URL alone implies the remote backend
    assert implied.name == "remote:fake-embed"
    monkeypatch.setenv("NEWSRAG_EMBEDDING_BACKEND", "hashing")
    assert make_embedder(Settings()).name == "hashing:512"  # an explicit backend wins
    monkeypatch.delenv("NEWSRAG_EMBEDDING_REMOTE_MODEL")
    monkeypatch.setenv("NEWSRAG_EMBEDDING_BACKEND", "remote")
    with pytest.raises(NewsragError, match="NEWSRAG_EMBEDDING_REMOTE_MODEL"):
        make_embedder(Settings())


def test_assistant_ingests_and_answers_with_remote_embeddings(server: FakeEmbeddings, corpus, tmp_path) -> None:
    from rag.assistant import Assistant
    from rag.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus, embedding_backend="remote",
                        embedding_base_url=server.base_url, embedding_remote_model="fake-embed", rerank=False)
    assistant = Assistant(settings)
    assistant.ingest(progress=False)
    answer = assistant.ask("How many drones were intercepted?")
    assert answer.retrieved_sources and server.requests
