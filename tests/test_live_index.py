"""A real `newsrag serve` keeps answering while other processes rebuild, remove and ingest.

Regression for: `newsrag ingest --rebuild` in another terminal made every UI question fail with
"Collection ... does not exist" until the server was restarted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.fakes import write_articles
from tests.servers import free_port, stop, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "How many nations pledged troops to the reassurance force?",
    "Who is the US envoy?",
    "How many drones were intercepted?",
]


def _env(data: Path, corpus: Path) -> dict[str, str]:
    return {**os.environ, "NEWSRAG_EMBEDDING_BACKEND": "hashing", "NEWSRAG_RERANK": "false",
            "NEWSRAG_DATA_DIR": str(data), "NEWSRAG_CORPUS_DIR": str(corpus), "PYTHONPATH": str(ROOT),
            "GRADIO_ANALYTICS_ENABLED": "False"}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_server_answers_throughout_rebuild_remove_and_ingest_by_other_processes(tmp_path):
    from gradio_client import Client

    corpus = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", corpus)
    extra = tmp_path / "elsewhere"
    write_articles(extra, 3, prefix="town")
    env = _env(tmp_path / "data", corpus)
    _cli(env, "ingest")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_healthy(server, url)
        client = Client(url, verbose=False)
        results: list[dict] = []
        finished = threading.Event()

        def ask_forever() -> None:
            i = 0
            while not finished.is_set():
                try:
                    results.append(client.predict(QUESTIONS[i % len(QUESTIONS)], None, None, None, None, api_name="/ask"))
                except Exception as exc:  # noqa: BLE001 - a failed call is what this test counts
                    results.append({"error": f"{type(exc).__name__}: {exc}"})
                i += 1

        asker = threading.Thread(target=ask_forever, daemon=True)
        asker.start()
        time.sleep(1.0)
        _cli(env, "ingest", "--rebuild")
        during_rebuild = len(results)
        _cli(env, "remove", "001_b3a78f4a513db0c2.txt")
        _cli(env, "ingest", str(extra))
        _cli(env, "ingest", "--rebuild")
        time.sleep(1.0)
        finished.set()
        asker.join(timeout=120)
        failures = [r for r in results if "error" in r]
        assert not failures, failures[:3]
        assert during_rebuild >= 1 and len(results) >= 6
        # the server sees the other processes' commits: the removed article is gone, the new ones are there
        corpus_rows = {d["source"] for d in client.predict(api_name="/corpus")["documents"]}
        assert "001_b3a78f4a513db0c2.txt" not in corpus_rows and "town_000.txt" in corpus_rows
        cited = client.predict("Which town opened bridge number 2?", None, None, None, None, api_name="/ask")
        assert "error" not in cited
        assert not any(c["source"] == "001_b3a78f4a513db0c2.txt" for r in results[-3:] for c in r.get("citations", []))
    finally:
        stop(server)
