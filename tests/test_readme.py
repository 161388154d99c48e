"""The README's examples run as written, on the seeds, and show what their comments promise (#34).

The examples are read from README.md itself, so the test follows the text:
- a `# … → text` comment promises that the command (or the `print`) on its line shows `text`;
- a ```console block promises each output line it shows, in order;
in both, the promise is a whole line of the output, `…` standing for words left out and a run of
spaces counting as one.

Commands run in document order in a scratch folder holding the repository's seeds and example
corpus, with their own data folder. `newsrag serve` runs in the background on a free port (the
`curl` lines are pointed at it); `make` targets are dry-run; commands that run until stopped
(`watch`, `mcp`) or for minutes (`evals`, `bench`) are only parsed, as every `newsrag` and `make`
line of `docs/*.md` is.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
BIN = Path(sys.prefix) / "bin"
MAX_README_LINES = 200
PARSED_ONLY = {"watch", "mcp", "evals", "bench"}  # run until stopped, or for minutes
COMMAND_TIMEOUT_S = 240
SERVE_READY_S = 180


@dataclass
class Example:
    command: str  # one shell line, continuations joined
    promises: list[str]  # what its output shows, in order


def code_blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"(?ms)^```(\w*)\n(.*?)^```", text)


def split_comment(line: str) -> tuple[str, str]:
    """(code, comment): the first `#` outside quotes that starts a word begins the comment."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def promise_of(comment: str) -> list[str]:
    return [comment.split("→", 1)[1].strip()] if "→" in comment else []


def shell_examples(body: str) -> list[Example]:
    examples, pending = [], ""
    for raw in body.splitlines():
        code, comment = split_comment(raw)
        if code.endswith("\\"):
            pending += code[:-1] + " "
            continue
        code, pending = (pending + code).strip(), ""
        if code:
            examples.append(Example(code, promise_of(comment)))
    return examples


def console_examples(body: str) -> list[Example]:
    examples: list[Example] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            examples.append(Example(line[2:].strip(), []))
        elif line.strip() and examples:
            examples[-1].promises.append(line)
    return examples


def examples_in(text: str) -> list[Example]:
    found: list[Example] = []
    for lang, body in code_blocks(text):
        if lang in ("bash", "sh"):
            found += shell_examples(body)
        elif lang in ("console", ""):
            found += console_examples(body)
    return found


def shows(promise: str, output: str) -> bool:
    """Some line of `output` is the promise, each `…` in it standing for any text."""
    pattern = re.compile(".*".join(re.escape(" ".join(piece.split())) for piece in promise.split("…")))
    return any(pattern.fullmatch(" ".join(line.split())) for line in output.splitlines())


def shows_in_order(promises: list[str], output: str) -> list[str]:
    """The promises not shown, each looked for after the line that showed the one before it."""
    lines, missing = output.splitlines(), []
    for promise in promises:
        hit = next((i for i, line in enumerate(lines) if shows(promise, line)), None)
        if hit is None:
            missing.append(promise)
        else:
            lines = lines[hit + 1:]
    return missing


def words(command: str) -> tuple[dict[str, str], list[str]]:
    """Leading VAR=value assignments, then the program and its arguments."""
    argv = shlex.split(command)
    env = {}
    while argv and re.match(r"^[A-Z_][A-Z0-9_]*=", argv[0]):
        key, value = argv.pop(0).split("=", 1)
        env[key] = value
    return env, argv


# --- the fast checks: size, links, every command of README and docs parses ---------------------


def test_the_readme_is_short_and_keeps_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_README_LINES
    commands = [e.command for e in examples_in(text)]
    assert "make run" in commands and "make test" in commands


def test_every_link_of_the_readme_and_docs_leads_to_a_file():
    for page in [README, *DOCS]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not re.match(r"^[a-z]+://", target):
                assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


def test_the_readme_leads_to_every_page_of_docs():
    text = README.read_text(encoding="utf-8")
    assert [d.name for d in DOCS if f"docs/{d.name}" not in text] == []


def parse_newsrag(args: list[str]) -> None:
    """Parse as `newsrag` does; `evals` and `bench --load` pass their options on to their own parsers."""
    from ui.cli import build_parser

    known, extra = build_parser().parse_known_args(args)
    rest = [*extra, *getattr(known, "rest", [])]
    if known.command == "evals":
        from evals.__main__ import parse_args

        parse_args(rest)
    elif known.command == "bench" and "--load" in rest:
        from evals.load import build_parser as load_parser

        load_parser().parse_args(rest)
    elif known.command != "bench":  # the benchmark's own options are parsed only when it runs
        assert not extra, f"unrecognized arguments: {extra}"


def is_newsrag(program: str) -> bool:
    return program == "newsrag" or program.endswith("/bin/newsrag")


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: p.name)
def test_every_newsrag_and_make_command_shown_parses(page: Path):
    targets = set(re.findall(r"(?m)^([a-z][\w-]*):", (ROOT / "Makefile").read_text(encoding="utf-8")))
    for example in examples_in(page.read_text(encoding="utf-8")):
        _, argv = words(example.command)
        if argv and is_newsrag(argv[0]):
            try:
                parse_newsrag(argv[1:])
            except SystemExit as exc:
                pytest.fail(f"{page.name}: `{example.command}` does not parse (exit {exc.code})")
        elif argv[:1] == ["make"]:
            assert set(argv[1:]) <= targets, f"{page.name}: `{example.command}` names no Makefile target"


# --- the slow one: run them on the seeds --------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder laid out like the repository for the README's relative paths; nothing written in it."""
    work = tmp_path / "work"
    # Copies, not links: a linked folder given to `ingest` is skipped as pointing outside itself.
    shutil.copytree(ROOT / "seeds", work / "seeds")
    shutil.copytree(ROOT / "evals" / "corpora" / "dated", work / "evals" / "corpora" / "dated")
    for name in ("scripts", "Makefile", "pyproject.toml"):  # for `make -n`
        (work / name).symlink_to(ROOT / name)
    (work / ".venv").symlink_to(Path(sys.prefix))
    return work


def run_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    env.update(NEWSRAG_DATA_DIR=str(tmp_path / "data"), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
               NEWSRAG_MODEL_CACHE_DIR=os.environ.get("NEWSRAG_MODEL_CACHE_DIR", str(tmp_path / "models")))
    return env  # no NEWSRAG_CORPUS_DIR: `newsrag ingest` reads ./seeds, as the README says


class Runner:
    """Runs the README's lines one by one, keeping the `newsrag serve` it starts until the end."""

    def __init__(self, workdir: Path, env: dict[str, str], log: Path):
        self.workdir, self.env, self.log = workdir, env, log
        self.server: subprocess.Popen | None = None
        self.port = free_port()

    def run(self, example: Example) -> str:
        extra, argv = words(example.command)
        env = {**self.env, **extra}
        program, args = argv[0], argv[1:]
        if program == "export":  # a scratch data folder: the test has its own already
            assert example.command == "export NEWSRAG_DATA_DIR=$(mktemp -d)", f"the test does not know `{example.command}`"
            return ""
        if program == "source":
            assert argv[1:] == [".venv/bin/activate"] and (BIN / "activate").exists()
            return ""
        if program == "make":
            return self.check(["make", "-n", *args], env)
        if program == "curl":
            assert self.server is not None, "a curl line comes before `newsrag serve`"
            return self.check(["curl", "--max-time", "120", *[a.replace(":7860", f":{self.port}") for a in args]], env)
        assert is_newsrag(program), f"the test does not know how to run `{example.command}`"
        if args[:1] == ["serve"]:
            self.serve([str(BIN / "newsrag"), *args, "--port", str(self.port)], env)
            return ""
        if args[:1] == ["chat"]:
            return self.check([str(BIN / "newsrag"), *args], env, stdin="")
        return self.check([str(BIN / "newsrag"), *args], env)

    def check(self, argv: list[str], env: dict[str, str], stdin: str | None = None) -> str:
        done = subprocess.run(argv, cwd=self.workdir, env=env, input=stdin or "", capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT_S)
        assert done.returncode == 0, f"`{shlex.join(argv)}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout + done.stderr

    def serve(self, argv: list[str], env: dict[str, str]) -> None:
        self.server = subprocess.Popen(argv, cwd=self.workdir, env=env, stdout=self.log.open("w"),
                                       stderr=subprocess.STDOUT, text=True)
        end = time.monotonic() + SERVE_READY_S
        while "ready" not in self.log.read_text(encoding="utf-8", errors="replace"):
            assert self.server.poll() is None, f"`newsrag serve` exited:\n{self.log.read_text()}"
            assert time.monotonic() < end, f"`newsrag serve` not ready in {SERVE_READY_S}s:\n{self.log.read_text()}"
            time.sleep(0.5)

    def close(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=60)


RUN_ON = [README, ROOT / "docs" / "news.md"]  # the others need a file of yours, a second server or minutes


@pytest.mark.slow
@pytest.mark.parametrize("page", RUN_ON, ids=lambda p: p.name)
def test_the_examples_run_and_show_what_they_promise(page: Path, tmp_path: Path, workdir: Path):
    env = run_env(tmp_path)
    runner = Runner(workdir, env, tmp_path / "serve.log")
    broken: list[str] = []
    try:
        for lang, body in code_blocks(page.read_text(encoding="utf-8")):
            if lang == "python":
                broken += run_python(body, workdir, env, tmp_path)
                continue
            examples = shell_examples(body) if lang in ("bash", "sh") else console_examples(body) if lang in ("console", "") else []
            for example in examples:
                if words(example.command)[1][:2] in [["newsrag", c] for c in PARSED_ONLY]:
                    continue
                output = runner.run(example)
                broken += [f"`{example.command}`: {p!r} not in:\n{output}" for p in shows_in_order(example.promises, output)]
    finally:
        runner.close()
    assert broken == [], "\n\n".join(broken)


def run_python(code: str, workdir: Path, env: dict[str, str], tmp_path: Path) -> list[str]:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT_S)
    assert done.returncode == 0, f"the Python example failed:\n{done.stderr}"
    promises = [p for line in code.splitlines() for p in promise_of(split_comment(line)[1])]
    return [f"python: {p!r} not in:\n{done.stdout}" for p in shows_in_order(promises, done.stdout)]
