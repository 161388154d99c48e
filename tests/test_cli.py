"""The `newsrag` command as a shell user meets it: pipes, open date ranges, mistyped paths."""

from __future__ import annotations

import json
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


@pytest.fixture()
def seeds_cli(corpus, monkeypatch):
    """`newsrag ingest` of the seeds in this process (hashing embedder): `main` then runs like the
    console script, minus the fast exit."""
    from ui.cli import main

    monkeypatch.setenv("NEWSRAG_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("NEWSRAG_RERANK", "false")
    assert main(["ingest", "--json"]) == 0
    return main


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


def test_regression_remove_of_an_unknown_name_exits_2_with_one_line_naming_it(seeds_cli, capsys):
    """It exited 1 (kept for bugs) with an ingest report: 'files seen 1: added 0 ... skipped 1'."""
    capsys.readouterr()
    assert seeds_cli(["remove", "nothing.txt"]) == 2
    out, err = capsys.readouterr()
    line = one_line(err)
    assert not out and "nothing.txt" in line and "`newsrag list`" in line and "files seen" not in line
    assert seeds_cli(["remove", "nothing.txt", "--json"]) == 2
    out, err = capsys.readouterr()
    assert not err and "nothing.txt" in json.loads(out)["error"]


def test_remove_of_a_known_name_still_reports_it_and_a_mixed_list_removes_the_known_one(seeds_cli, capsys):
    listed = [row["source"] for row in _listed(seeds_cli, capsys)]
    assert seeds_cli(["remove", listed[0]]) == 0
    assert "removed 1" in capsys.readouterr().out
    assert seeds_cli(["remove", listed[1], "nothing.txt"]) == 2
    line = one_line(capsys.readouterr().err)
    assert "nothing.txt" in line and listed[1] not in line and "removed the other 1" in line
    assert [row["source"] for row in _listed(seeds_cli, capsys)] == listed[2:]


def _listed(main, capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("argv, named", [
    (["ask"], "question"),
    (["serve", "--port", "abc"], "'abc'"),
    (["nonsense"], "'nonsense'"),
    (["ask", "q", "--retriever", "foo"], "'foo'"),
])
def test_regression_a_wrong_command_line_is_one_line_and_exit_2(argv, named, capsys):
    """argparse put its whole usage block above the line saying what was wrong."""
    from ui.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(argv)
    line = one_line(capsys.readouterr().err)
    assert stopped.value.code == 2 and named in line and "--help`" in line


def test_a_bare_newsrag_shows_its_commands_and_exits_2(capsys):
    from ui.cli import main

    assert main([]) == 2
    err = capsys.readouterr().err
    assert "ask" in err and "ingest" in err and "Traceback" not in err


def test_regression_an_unusable_data_folder_is_one_line_and_exit_2(tmp_path, capsys):
    """A data folder that could not be created was 'internal error (FileNotFoundError ...)', exit 1."""
    from ui.cli import main

    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    for argv in (["--data-dir", str(a_file), "list"], ["--data-dir", str(a_file / "data"), "ingest"]):
        assert main(argv) == 2
        line = one_line(capsys.readouterr().err)
        assert str(a_file) in line and "--data-dir" in line


# The page, the HTTP API, MCP and the watcher: seconds of imports a one-shot question never uses.
SERVER_STACK = ("gradio", "fastapi", "starlette", "uvicorn", "mcp", "openai", "watchdog", "ui.server", "ui.app")


def test_regression_a_cold_ask_imports_no_server_page_or_mcp_stack(cli_env):
    """Cold `newsrag ask` was 5.6-6.2 s, ~4 s of it start-up (issue #34 item 10): whichever code path
    pulls one of these in, `-X importtime` lists it."""
    ask = subprocess.run([sys.executable, "-X", "importtime", "-m", "ui.cli", "ask", "How many nations pledged troops?"],
                         env=cli_env, capture_output=True, text=True, timeout=300)
    assert ask.returncode == 0 and "[1]" in ask.stdout, ask.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in ask.stderr.splitlines() if line.startswith("import time:")}
    assert {"chromadb", "llama_index.core", "rag.assistant"} <= imported  # the probe sees the engine
    assert not imported & set(SERVER_STACK), sorted(imported & set(SERVER_STACK))
