"""The `newsrag` command as a shell user meets it: pipes, open date ranges, mistyped paths."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ui.cli import format_answer
from rag.types import Answer


@pytest.fixture()
def cli_env(corpus, tmp_path):
    env = {**os.environ, "NEWSRAG_EMBEDDING_BACKEND": "hashing", "NEWSRAG_RERANK": "false",
           "NEWSRAG_DATA_DIR": str(tmp_path / "data"), "NEWSRAG_CORPUS_DIR": str(corpus)}
    subprocess.run([sys.executable, "-m", "ui.cli", "ingest"], env=env, check=True, capture_output=True, timeout=300)
    return env


def test_regression_a_closed_pipe_ends_quietly_with_exit_0(cli_env):
    """`newsrag ask ... | head -1` failed half the time with 'internal error (BrokenPipeError)', exit 1."""
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "ask", "How many nations pledged troops?"],
                                env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.readline()
        proc.stdout.close()  # the reader leaves, as `head -1` does
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and b"internal error" not in err and b"Traceback" not in err


def test_an_open_date_range_reads_as_since_a_day():
    answer = Answer(question="q", standalone_question="q", text="x", citations=[], abstained=True, mode="extractive",
                    time_range={"since": "2025-03-01", "until": None})
    first = format_answer(answer).splitlines()[0]
    assert "since 1 March 2025" in first and "None" not in first


def test_a_path_that_does_not_exist_is_an_error_naming_it(cli_env, tmp_path):
    result = subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(tmp_path / "typo")], env=cli_env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "typo" in result.stderr and "Traceback" not in result.stderr


def test_regression_a_busy_port_is_reported_at_once_before_the_engine_loads(tmp_path):
    """It took ~8 s to say the port was taken: the engine and its models were loaded first."""
    import socket

    probe = ("import sys; from ui.cli import main; code = main(['serve', '--port', sys.argv[1]]); "
             "print('engine loaded' if 'rag.assistant' in sys.modules else 'engine not loaded', code)")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-c", probe, str(port)], capture_output=True, text=True, timeout=120,
                                env={**os.environ, "NEWSRAG_DATA_DIR": str(tmp_path / "data")})
    assert result.stdout.split() == ["engine", "not", "loaded", "2"], result.stdout + result.stderr
    assert f"port {port} is in use" in result.stderr and "Traceback" not in result.stderr
