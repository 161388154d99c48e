"""LLM mode with a real local model (#24): SmolLM2-135M-Instruct, served by llama-cpp-python's
OpenAI-compatible server, answers the seeds test split through the same harness as `python -m evals`.

What matters: streaming works and nothing crashes against a real server; no answer shows a number
or a quoted name that its cited quotes do not hold; LLM mode is never worse than the offline
answerer (correctness >= extractive's - 0.02 on the same questions). How often the model's own
text survives verification is reported, not gated: a 135M model is expected to fail often, and
the fallback to the extractive answer is what keeps it safe.

The server and the model are built by `make llm` (which `make test` runs first, once): this test
fails, never skips, when they are missing, so CI cannot pass without running it.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import free_port, stop

from evals.__main__ import evaluate
from evals.metrics import Record, summarize
from evals.scoring import load_gold
from rag.answering.llm import DECLINED, UNVERIFIED, fell_back
from rag.answering.verify import unheld
from rag.types import Answer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LLM_PYTHON = ROOT / ".venv-llm" / "bin" / "python"
GGUF = ROOT / ".models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
GOLD = ROOT / "evals" / "gold" / "test" / "seeds.jsonl"
ALIAS = "smollm2"
# Five 160-word sources, the rules and the question come to ~1,500 tokens; the answer is capped at 512.
N_CTX = 4096
SERVER_START_S = 120
# One thread: OpenMP threads spin-wait for each other, so on 2 shared cores (the test client, other
# jobs) two threads ran a 1,100-token prompt 2-6x slower than one (10 s vs 20-74 s, load ~8).
THREADS = 1
# The rules ask for one to three short sentences; unbounded, the 135M model rambles for 200+ tokens
# that verification drops anyway, at ~60 ms a token.
MAX_TOKENS = 160
MAX_DROP = 0.02  # LLM-mode correctness may trail extractive's by at most this much


@pytest.fixture(scope="module")
def llm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free loopback port, until the module's tests are done."""
    missing = [str(p.relative_to(ROOT)) for p in (LLM_PYTHON, GGUF) if not p.exists()]
    if missing:
        pytest.fail(f"the local model server is not built ({', '.join(missing)} missing): run `make llm` "
                    "(`make test` runs it once before pytest; it builds llama-cpp-python from source, ~6 min)")
    port = free_port()
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    command = [str(LLM_PYTHON), "-m", "llama_cpp.server", "--model", str(GGUF), "--model_alias", ALIAS,
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX), "--n_threads", str(THREADS),
               "--n_threads_batch", str(THREADS), "--seed", "7"]
    # A file, not a pipe: the server logs every request and would block on a full pipe nobody reads.
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
    try:
        wait_for_models(process, f"http://127.0.0.1:{port}/v1", log)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(process)


def wait_for_models(process: subprocess.Popen, base_url: str, log: Path) -> None:
    """Until /v1/models lists the alias; fails at once with the server's log if it exits."""
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"llama_cpp.server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(base_url + "/models", timeout=5) as response:
                if ALIAS in {m["id"] for m in json.load(response)["data"]}:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"llama_cpp.server not ready in {SERVER_START_S}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def seeds_assistant(llm_url: str, tmp_path_factory: pytest.TempPathFactory):
    """The seeds ingested with the default (evals) settings into a fresh folder, LLM mode pointed at the server."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    home = tmp_path_factory.mktemp("seeds-llm")
    corpus = home / "corpus"
    shutil.copytree(ROOT / "seeds", corpus)
    settings = Settings(data_dir=home / "data", corpus_dir=corpus, model_cache_dir=home / "models",
                        llm_base_url=llm_url, llm_model=ALIAS, llm_timeout_s=120, llm_max_tokens=MAX_TOKENS)
    assistant = Assistant(settings)
    assistant.ingest(progress=False)
    return assistant


def shown_unheld(answer: dict[str, Any]) -> list[str]:
    """What the answer shows (text, bold direct answer, revision line) but its citations do not hold.
    A revision line dates each figure by its article, so the citations' dates count as held; the
    corroboration line (`reported`) counts articles in the index, which is no claim of the answer's."""
    if answer["abstained"]:
        return []
    text = answer["text"].replace(answer.get("reported") or "\0", "")
    if answer.get("kind") == "briefing" and any(line.startswith("- ") for line in text.split("\n")):
        # The extractive briefing: its bullets' dates, titles and counts are the index's metadata,
        # not claims; what it states is its items' sentences (an LLM summary is checked whole).
        text = " ".join(s["text"] for item in answer["items"] for s in item["sentences"])
    shown = " ".join(part for part in (text, answer.get("direct"), answer.get("revision")) if part)
    held = [c["quote"] for c in answer["citations"]] + [c["published"] for c in answer["citations"] if c.get("published")]
    return unheld(shown, held)


def survival(records: list[Record]) -> dict[str, Any]:
    """How often the model was asked, and how often its own text was what the user saw (a refusal
    where the extractive answerer abstains too is counted apart: nothing was written to verify)."""
    asked = [r for r in records if "llm_s" in r.answer["timings"]]
    kept = [r for r in asked if not fell_back(r.answer["notice"]) and not r.answer["abstained"]]
    model_s = sorted(r.answer["timings"]["llm_s"] for r in asked)
    return {
        "questions": len(records),
        "model_asked": len(asked),
        "model_text_survived": len(kept),
        "survival_rate": round(len(kept) / len(asked), 3) if asked else None,
        "trimmed": sum(r.answer["notice"].startswith("Removed") for r in kept),
        "declined": sum(r.answer["notice"] == DECLINED for r in asked),
        "declined_and_abstained": sum(r.answer["abstained"] and not fell_back(r.answer["notice"]) for r in asked),
        "unverified": sum(r.answer["notice"] == UNVERIFIED for r in asked),
        "model_s_p50": round(statistics.median(model_s), 2) if model_s else None,
        "model_s_max": round(model_s[-1], 2) if model_s else None,
    }


def test_streaming_through_the_facade(seeds_assistant) -> None:
    """Pieces arrive before the final Answer, and the Answer is an LLM-mode one with verified citations."""
    question = "How many nations pledged to deploy troops to Ukraine?"
    pieces: list[str] = []
    final: Answer | None = None
    for item in seeds_assistant.stream(question, mode="llm"):
        if isinstance(item, Answer):
            final = item
        else:
            assert final is None, "text after the final Answer"
            pieces.append(item)
    assert final is not None and final.mode == "llm"
    assert "llm_s" in final.timings, "the model was never asked"
    assert pieces and "".join(pieces).strip()
    assert not final.notice.startswith("The LLM request failed"), final.notice
    assert not final.abstained and final.citations
    assert shown_unheld(final.to_dict()) == []


@pytest.mark.timeout(1800)
def test_seeds_test_split_llm_never_worse_than_extractive(seeds_assistant, capsys: pytest.CaptureFixture) -> None:
    items = load_gold(GOLD)
    started = time.perf_counter()
    extractive = evaluate(seeds_assistant, items, "extractive")
    middle = time.perf_counter()
    llm = evaluate(seeds_assistant, items, "llm")
    finished = time.perf_counter()

    failed = [(r.item.id, r.answer["notice"]) for r in llm if r.answer["notice"].startswith("The LLM request failed")]
    assert not failed, f"requests to the local server failed: {failed}"
    assert all(r.answer["mode"] == "llm" for r in llm)
    unsupported = {r.item.id: bad for r in llm if (bad := shown_unheld(r.answer))}
    assert unsupported == {}, f"answers show numbers or quoted names their quotes do not hold: {unsupported}"
    assert all(r.quotes_valid for r in llm), [r.item.id for r in llm if not r.quotes_valid]

    ext, mod = summarize(extractive)["answers"], summarize(llm)["answers"]
    report = {
        "correctness": {"extractive": ext["correctness"], "llm": mod["correctness"]},
        "overall_accuracy": {"extractive": ext["overall_accuracy"], "llm": mod["overall_accuracy"]},
        **survival(llm),
        "seconds_per_answer": {"extractive": round((middle - started) / len(items), 2),
                               "llm": round((finished - middle) / len(items), 2)},
        "worse_than_extractive": [r.item.id for r, e in zip(llm, extractive)
                                  if e.verdicts["correct"] and not r.verdicts["correct"]],
    }
    with capsys.disabled():
        print("\nreal model (SmolLM2-135M-Instruct Q4_1, seeds test split):", json.dumps(report, indent=1))
    assert mod["correctness"] >= ext["correctness"] - MAX_DROP, report
