"""The product against a real `chroma run` server (NEWSRAG_CHROMA_HOST/PORT), not the embedded store."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port, stop



@pytest.fixture
def chroma_server(tmp_path: Path):
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():  # chromadb ships it; its absence is a broken install, not a reason to skip
        pytest.fail(f"no chroma executable next to {sys.executable}: reinstall chromadb (`make setup`)")
    port = free_port()
    log = (tmp_path / "chroma.log").open("wb")
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(tmp_path / "chroma-server"), "--port", str(port), "--host", "127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"chroma server did not come up: {(tmp_path / 'chroma.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield port
    finally:
        stop(proc, 15)
        log.close()


@pytest.mark.slow
def test_ingest_and_ask_through_chroma_server(tmp_path: Path, corpus: Path, chroma_server: int) -> None:
    from rag.assistant import Assistant
    from rag.settings import Settings

    settings = Settings(
        chroma_host="127.0.0.1", chroma_port=chroma_server, data_dir=tmp_path / "data",
        corpus_dir=corpus, embedding_backend="hashing",
    )
    assistant = Assistant(settings)
    report = assistant.ingest(progress=False)
    assert report.added == 5 and not report.skipped
    assert assistant.status()["documents"] == 5
    assert assistant.status()["chroma"] == f"127.0.0.1:{chroma_server}"
    assert not (tmp_path / "data" / "chroma").exists() or not any((tmp_path / "data" / "chroma").iterdir())

    answer = assistant.ask("How many drones did Russia fire across Ukraine overnight?")
    assert not answer.abstained, answer.text
    cited = [c for c in answer.citations if c.source == "004_b7c3ddf9127e697c.txt"]
    assert cited, [c.source for c in answer.citations]
    assert "112" in answer.text and any("112" in c.quote for c in cited), answer.text

    again = assistant.ingest(progress=False)
    assert again.chunks_embedded == 0 and again.unchanged == 5

    # a second client (a new process would do the same) sees the server's index
    other = Assistant(settings)
    assert other.retrieve("drones Russia Ukraine overnight", mode="dense")
