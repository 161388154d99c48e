"""A real `newsrag serve` process on loopback, driven by the official `openai` client: the issue's
acceptance (the seeds, the real models, an API key), the UI beside the API, and a busy port."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import AuthenticationError, OpenAI

from tests.servers import free_port, stop, wait_healthy

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NEWSRAG = str(Path(sys.executable).with_name("newsrag"))
REASSURANCE = "How many nations pledged troops to the reassurance force?"
FOLLOW_UP = "And who announced it?"
UNANSWERABLE = "Who won the 2022 football World Cup?"
CITED_FILE = "004_b7c3ddf9127e697c.txt"
KEY = "serve-test-key"
READY_TIMEOUT_S = 300


def clean_env(home: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any NEWSRAG_ setting, plus the given ones; offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
               GRADIO_TEMP_DIR=str(home / "gradio"), HF_HOME=str(home / "hf"))
    env.update({f"NEWSRAG_{k.upper()}": v for k, v in settings.items()})
    return env


def get(url: str, headers: dict | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def post(url: str, body: bytes, headers: dict) -> tuple[int, str]:
    import httpx

    response = httpx.post(url, content=body, headers=headers, timeout=60)
    return response.status_code, response.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`newsrag ingest` of a copy of the seeds, then `newsrag serve` with an API key, on a free port."""
    home = tmp_path_factory.mktemp("serve")
    shutil.copytree(ROOT / "seeds", home / "corpus")
    env = clean_env(home, data_dir=str(home / "data"), corpus_dir=str(home / "corpus"), api_key=KEY)
    subprocess.run([NEWSRAG, "ingest"], cwd=home, env=env, check=True, capture_output=True, timeout=600)
    port = free_port()
    process = subprocess.Popen(
        [NEWSRAG, "serve", "--port", str(port)], cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(process, url, READY_TIMEOUT_S)
        yield url
    finally:
        stop(process)


@pytest.fixture
def client(server) -> OpenAI:
    return OpenAI(base_url=server + "/v1", api_key=KEY, max_retries=0, timeout=120)


def cited_sources(reply) -> list[str]:
    return [c["source"] for c in reply.model_extra["citations"]]


def test_acceptance_plain_streamed_and_follow_up(client):
    timings = []
    started = time.perf_counter()
    plain = client.chat.completions.create(model="newsrag", messages=[{"role": "user", "content": REASSURANCE}])
    timings.append(time.perf_counter() - started)
    content = plain.choices[0].message.content
    assert "26" in content and CITED_FILE in cited_sources(plain), (content, plain.model_extra)
    assert plain.model_extra["abstained"] is False

    started = time.perf_counter()
    chunks = list(client.chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": REASSURANCE}], stream=True))
    timings.append(time.perf_counter() - started)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) > 1 and "26" in "".join(pieces)
    assert CITED_FILE in [c["source"] for c in chunks[-1].model_extra["citations"]]

    history = [{"role": "user", "content": REASSURANCE}, {"role": "assistant", "content": content}]
    started = time.perf_counter()
    follow = client.chat.completions.create(model="newsrag", messages=history + [{"role": "user", "content": FOLLOW_UP}])
    timings.append(time.perf_counter() - started)
    print("answer seconds (first, streamed, follow-up):", [round(t, 2) for t in timings])
    assert "Macron" in follow.choices[0].message.content, follow.model_extra
    assert follow.model_extra["citations"]


def test_unanswerable_question_abstains_without_citations(client):
    reply = client.chat.completions.create(model="newsrag", messages=[{"role": "user", "content": UNANSWERABLE}])
    assert reply.model_extra["abstained"] is True and reply.model_extra["citations"] == []


def test_the_key_is_enforced_on_v1_only(server):
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=server + "/v1", api_key="wrong", max_retries=0).models.list()
    status, body = get(server + "/v1/models")
    assert status == 401 and json.loads(body)["error"]["type"] == "authentication_error"
    status, body = get(server + "/healthz")
    assert status == 200 and json.loads(body)["ready"] is True and json.loads(body)["documents"] == 5


def test_bad_bodies_get_json_errors(server):
    auth = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    status, body = post(server + "/v1/chat/completions", os.urandom(8 * 1024 * 1024), auth)
    assert 400 <= status < 500 and "Traceback" not in body
    for payload in (b"{not json", json.dumps({"model": "newsrag", "messages": []}).encode()):
        status, body = post(server + "/v1/chat/completions", payload, auth)
        assert status == 400 and json.loads(body)["error"]["message"], body


def test_upload_then_ask(server, client):
    import httpx

    article = b"Zorblax opens libraries\n\nThe city of Zorblax opened 17 new public libraries on Monday, the mayor said.\n"
    headers = {"Authorization": f"Bearer {KEY}"}
    report = httpx.post(server + "/v1/documents", headers=headers, timeout=120,
                        files=[("files", ("zorblax.txt", article, "text/plain"))]).json()
    assert report["added"] == 1, report
    try:
        reply = client.chat.completions.create(
            model="newsrag", messages=[{"role": "user", "content": "How many libraries did Zorblax open?"}])
        assert "17" in reply.choices[0].message.content and cited_sources(reply) == ["zorblax.txt"]
    finally:
        assert httpx.delete(server + "/v1/documents/zorblax.txt", headers=headers, timeout=120).json()["removed"] == 1


def test_the_ui_keeps_working_beside_the_api(server):
    from gradio_client import Client

    status, page = get(server + "/")
    assert status == 200 and "<html" in page.lower()
    ui = Client(server + "/", verbose=False, analytics_enabled=False, download_files=False)
    try:
        final = ui.predict(REASSURANCE, [], api_name="/ask")
    finally:
        ui.close()
    assert "26" in final["text"] and CITED_FILE in [c["source"] for c in final["citations"]]


def test_a_busy_port_is_one_line_and_no_traceback(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [NEWSRAG, "serve", "--port", str(port)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
            env=clean_env(tmp_path, data_dir=str(tmp_path / "data"), corpus_dir=str(tmp_path / "corpus")),
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"newsrag: port {port} is in use; choose another with --port N or NEWSRAG_PORT"
    ]


def test_regression_v1_unknown_route_and_wrong_method_are_openai_errors_on_serve(server):
    """`newsrag serve` mounts the page at `/`, which answered these in its own `{"detail": ...}`."""
    auth = {"Authorization": f"Bearer {KEY}"}
    for path, status in (("/v1/nope", 404), ("/v1/chat/completions", 405)):
        code, text = get(server + path, auth)
        error = json.loads(text)["error"]
        assert code == status and set(error) == {"message", "type", "param", "code"} and path in error["message"]
