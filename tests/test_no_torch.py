"""The query path never imports torch: with the ONNX embedder and reranker, ingesting and asking
(Python API and `newsrag ask`) must not load torch, transformers or sentence-transformers, whose
import alone costs several seconds of cold start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "sentence_transformers")

API_SCRIPT = """
import json, sys
from rag import Assistant, Settings
settings = Settings()
assistant = Assistant(settings)
assistant.ingest(progress=False)
answer = assistant.ask("How many drones were intercepted?")
print(json.dumps({"backend": settings.embedding_backend, "embedder": assistant.embedder.name,
                  "citations": len(answer.citations), "reranker": getattr(assistant.reranker, "name", None),
                  "heavy": [m for m in %r if m in sys.modules]}))
""" % (HEAVY,)


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_api_ingest_and_ask_do_not_import_torch(tmp_path: Path, corpus: Path) -> None:
    done = _run([sys.executable, "-c", API_SCRIPT], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"].startswith("onnx-") and result["embedder"].startswith("onnx:")
    assert result["citations"] >= 1  # the question was really answered, not short-circuited
    assert result["heavy"] == []


@pytest.mark.slow
def test_cli_ask_does_not_import_torch(tmp_path: Path, corpus: Path) -> None:
    """`-X importtime` lists every module a process imports, whichever code path pulled it in."""
    ingest = _run([sys.executable, "-m", "ui.cli", "ingest"], tmp_path)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    ask = _run([sys.executable, "-X", "importtime", "-m", "ui.cli", "ask", "How many drones were intercepted?"], tmp_path)
    assert ask.returncode == 0, ask.stderr[-2000:]
    assert "[1]" in ask.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in ask.stderr.splitlines() if line.startswith("import time:")}
    assert "onnxruntime" in imported  # the probe sees the real model stack
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
