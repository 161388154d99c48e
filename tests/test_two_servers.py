"""Two `newsrag serve` processes over one `chroma run` server and one data folder (issue #24 item 4).

Both answer; a document uploaded through one is answered by the other within seconds; while a
third process runs `newsrag ingest --rebuild` against the same data folder and Chroma server,
questions to the other server never fail. Everything listens on 127.0.0.1 only; every loop is
bounded by a count and a time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import free_port, stop, wait_healthy

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NEWSRAG = str(BIN / "newsrag")
READY_TIMEOUT_S = 300
REASSURANCE = "How many nations pledged troops to the reassurance force?"
CITED_FILE = "004_b7c3ddf9127e697c.txt"
UPLOAD_NAME = "quillmere_ferries.txt"
UPLOAD = (b"Quillmere ferry fleet doubles\n\n"
          b"The island of Quillmere added 23 electric ferries to its fleet on Thursday, the harbour board said.\n")
UPLOAD_QUESTION = "How many electric ferries did Quillmere add to its fleet?"
SEEN_WITHIN_S = 10.0   # "answered by the other within a few seconds"
REBUILD_LIMIT_S = 600  # the rebuild of six short documents takes well under a minute
MAX_QUESTIONS = 400
FILLERS = 200


def _env(home: Path, chroma_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    env.update(
        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
        ANONYMIZED_TELEMETRY="False", GRADIO_TEMP_DIR=str(home / "gradio"), HF_HOME=str(home / "hf"),
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        NEWSRAG_DATA_DIR=str(home / "data"), NEWSRAG_CORPUS_DIR=str(home / "corpus"),
        NEWSRAG_CHROMA_HOST="127.0.0.1", NEWSRAG_CHROMA_PORT=str(chroma_port), NEWSRAG_ONNX_THREADS="1",
    )
    return env


def _start_chroma(home: Path) -> tuple[subprocess.Popen, int]:
    exe = BIN / "chroma"
    if not exe.exists():
        pytest.fail(f"no chroma executable next to {sys.executable}: reinstall chromadb (`make setup`)")
    port = free_port()
    log = (home / "chroma.log").open("wb")
    proc = subprocess.Popen([str(exe), "run", "--path", str(home / "chroma-server"), "--port", str(port),
                             "--host", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT, cwd=home)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as resp:
                if resp.status == 200:
                    return proc, port
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc, 15)
            pytest.fail(f"chroma server did not come up: {(home / 'chroma.log').read_text()[-2000:]}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """chroma run + `newsrag ingest` of the seeds + two `newsrag serve` on one data folder."""
    home = tmp_path_factory.mktemp("two-servers")
    shutil.copytree(ROOT / "seeds", home / "corpus")
    for i in range(FILLERS):  # so the rebuild lasts long enough to be asked across many times
        (home / "corpus" / f"filler_{i:03d}.txt").write_text(
            f"Town {i} council meeting\n\nThe council of town number {i} met on Tuesday to discuss "
            f"{['parking', 'libraries', 'flood defences', 'bus routes', 'school meals'][i % 5]}. "
            f"Councillors voted {i % 9 + 3} to {i % 4 + 1} to approve a plan costing {i * 7 + 11} thousand pounds. "
            "Residents may comment on the plan at the town hall until the end of the month.\n")
    chroma, chroma_port = _start_chroma(home)
    env = _env(home, chroma_port)
    processes: list[subprocess.Popen] = []
    try:
        done = subprocess.run([NEWSRAG, "ingest"], cwd=home, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        urls = []
        for name in ("a", "b"):
            port = free_port()
            log = (home / f"serve-{name}.log").open("w")
            processes.append(subprocess.Popen([NEWSRAG, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                              cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, text=True))
            urls.append(f"http://127.0.0.1:{port}")
        for process, url in zip(processes, urls):
            wait_healthy(process, url, READY_TIMEOUT_S)
        yield {"home": home, "env": env, "a": urls[0], "b": urls[1], "chroma_port": chroma_port}
    finally:
        for process in processes:
            stop(process)
        stop(chroma, 15)


def ask(url: str, question: str, timeout: float = 60) -> tuple[int, dict]:
    import httpx

    try:
        response = httpx.post(url + "/v1/chat/completions", timeout=timeout,
                              json={"model": "newsrag", "messages": [{"role": "user", "content": question}]})
    except httpx.HTTPError as exc:
        return 0, {"error": repr(exc)}
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {"error": response.text[:500]}


def content(body: dict) -> str:
    return body["choices"][0]["message"]["content"]


def cited(body: dict) -> list[str]:
    return [c["source"] for c in body.get("citations") or []]


def test_both_servers_answer(deployment) -> None:
    for url in (deployment["a"], deployment["b"]):
        status, body = ask(url, REASSURANCE)
        assert status == 200, body
        assert "26" in content(body) and CITED_FILE in cited(body), body


def test_upload_through_one_is_answered_by_the_other(deployment) -> None:
    import httpx

    a, b = deployment["a"], deployment["b"]
    status, body = ask(b, UPLOAD_QUESTION)
    assert status == 200 and UPLOAD_NAME not in cited(body), body  # not known before the upload

    report = httpx.post(a + "/v1/documents", timeout=300,
                        files=[("files", (UPLOAD_NAME, UPLOAD, "text/plain"))])
    assert report.status_code == 200 and report.json()["added"] == 1, report.text
    uploaded = time.monotonic()

    attempts, last = 0, None
    while attempts < 100 and time.monotonic() - uploaded < SEEN_WITHIN_S:
        attempts += 1
        status, last = ask(b, UPLOAD_QUESTION, timeout=SEEN_WITHIN_S)
        if status == 200 and UPLOAD_NAME in cited(last) and "23" in content(last):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"server B did not answer from the upload within {SEEN_WITHIN_S}s ({attempts} tries): {last}")
    listed = httpx.get(b + "/v1/documents", timeout=60).json()["data"]
    assert UPLOAD_NAME in [row["source"] for row in listed]


def test_rebuild_by_a_third_process_never_fails_a_question_on_the_other(deployment) -> None:
    b, home, env = deployment["b"], deployment["home"], deployment["env"]
    log = (home / "rebuild.log").open("w")
    rebuild = subprocess.Popen([NEWSRAG, "ingest", "--rebuild"], cwd=home, env=env, stdout=log,
                               stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    results: list[tuple[float, int, str]] = []
    try:
        while rebuild.poll() is None and len(results) < MAX_QUESTIONS and time.monotonic() - started < REBUILD_LIMIT_S:
            status, body = ask(b, REASSURANCE)
            text = content(body) if status == 200 else str(body)[:300]
            results.append((round(time.monotonic() - started, 2), status, text))
    finally:
        if rebuild.poll() is None:
            rebuild.wait(max(1.0, REBUILD_LIMIT_S - (time.monotonic() - started)))
        log.close()
    output = (home / "rebuild.log").read_text()
    print(f"rebuild: {time.monotonic() - started:.1f}s, {len(results)} questions to the other server meanwhile")
    assert rebuild.returncode == 0, output[-3000:]
    assert "rebuilt the index" in output, output[-3000:]
    assert len(results) >= 3, f"only {len(results)} questions while the rebuild ran: {results}"
    failed = [r for r in results if r[1] != 200]
    assert not failed, f"{len(failed)} of {len(results)} questions failed during the rebuild: {failed[:5]}"
    wrong = [r for r in results if "26" not in r[2]]
    assert not wrong, f"{len(wrong)} of {len(results)} answers lost the fact during the rebuild: {wrong[:5]}"

    # after the rebuild both servers still answer, the upload included
    for url in (deployment["a"], b):
        status, body = ask(url, REASSURANCE)
        assert status == 200 and "26" in content(body), body
    status, body = ask(b, UPLOAD_QUESTION)
    assert status == 200 and "23" in content(body), body
