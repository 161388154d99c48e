"""`newsrag bench --load`: concurrent `openai` clients against the API; throughput, latency, failures, 429s.

`newsrag bench --load CLIENTS --seconds S [--url URL]` drives a running `newsrag serve` with
CLIENTS concurrent clients of the official `openai` package for S seconds and reports throughput,
latency to the full answer (p50/p95), failures and 429s.

    newsrag bench --load 16 --seconds 30                      # starts `newsrag serve` on the seeds itself
    newsrag bench --load 1,4,16,64 --seconds 30 --json load.json
    newsrag bench --load 16 --url http://127.0.0.1:7860       # a server that is already running
    newsrag bench --load 16 --url http://127.0.0.1:7860/v1    # or its base URL, as OpenAI clients take it

Before a run on `--url`, one `GET /v1/models` checks that a newsrag server answers there with this
key: a wrong URL or key is one line and exit 2, not thousands of failures in the server's log.

Each client is its own `OpenAI` client (its own connection pool), asking the plain questions of the
seeds' dev gold set in turn; every other request is streamed (stream=True, read to its end), so half
of all requests stream at every client count. `max_retries=0`: the library would otherwise retry a
429 by itself and hide it; a client that gets a 429 waits its Retry-After (as a polite client does)
and asks again, so 429s are counted, never retried silently.

A failure is a 5xx, another unexpected status, a connection error (refused, reset, dropped), a
timeout, or a malformed stream (an error event, no `finish_reason: stop`, no content). A 429 is
not a failure when it carries Retry-After: that is the server shedding load as it should.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.bench import ROOT, _child_env, _pct, write_json

SEEDS = ROOT / "seeds"
QUESTIONS = ROOT / "evals" / "gold" / "dev" / "seeds.jsonl"
MODEL = "newsrag"
FAILURE_KINDS = ("server_error", "unexpected_status", "connection", "timeout", "malformed_stream")
PREFLIGHT_TIMEOUT_S = 10.0  # the one request that checks `--url` before a run


@dataclass(frozen=True)
class Outcome:
    """One request: `kind` is "ok", "rate_limited" or one of FAILURE_KINDS."""

    kind: str
    seconds: float
    streamed: bool
    retry_after: str | None = None
    detail: str = ""


# ------------------------------------------------------------------------------------ questions
def plain_questions(path: Path = QUESTIONS) -> list[str]:
    """The gold questions a client can send alone: no history, no filters."""
    from evals.scoring import load_gold

    return [item.question for item in load_gold(path) if not item.history and not item.filters]


# ------------------------------------------------------------------------------------ one request
def _read_stream(client: Any, question: str) -> str:
    """The streamed answer read to its end; "" when the stream is malformed."""
    pieces: list[str] = []
    finished = False
    with client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}],
                                        stream=True) as stream:
        for chunk in stream:
            choice = chunk.choices[0] if chunk.choices else None
            if choice is None:
                continue
            pieces.append(choice.delta.content or "")
            finished = finished or choice.finish_reason == "stop"
    return "".join(pieces) if finished else ""


def _answer(client: Any, question: str) -> str:
    reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}])
    return reply.choices[0].message.content or ""


def ask_once(client: Any, question: str, streamed: bool) -> Outcome:
    """One request, classified; the time is to the full answer (the stream's last chunk)."""
    import httpx
    import openai

    started = time.perf_counter()

    def outcome(kind: str, retry_after: str | None = None, detail: str = "") -> Outcome:
        return Outcome(kind, time.perf_counter() - started, streamed, retry_after, detail)

    try:
        content = _read_stream(client, question) if streamed else _answer(client, question)
    except openai.RateLimitError as exc:
        return outcome("rate_limited", exc.response.headers.get("retry-after"))
    except openai.APIStatusError as exc:
        kind = "server_error" if exc.status_code >= 500 else "unexpected_status"
        return outcome(kind, detail=f"{exc.status_code}: {exc.message}")
    except openai.APITimeoutError:  # before APIConnectionError: it is one
        return outcome("timeout")
    except openai.APIConnectionError as exc:
        return outcome("connection", detail=repr(exc.__cause__ or exc))
    except openai.APIError as exc:  # an error event inside a 200 stream
        return outcome("malformed_stream", detail=exc.message)
    # Once a stream has started, the library no longer wraps transport errors: a read that times
    # out or a connection dropped mid-answer reaches us as httpx's own, garbled events as JSON's.
    except httpx.TimeoutException:
        return outcome("timeout")
    except httpx.TransportError as exc:
        return outcome("connection", detail=repr(exc))
    except ValueError as exc:
        return outcome("malformed_stream", detail=repr(exc))
    if not content:
        return outcome("malformed_stream", detail="no content, or no finish_reason 'stop'")
    return outcome("ok")


def _retry_delay(retry_after: str | None) -> float:
    """Seconds to wait after a 429, as the server asked; a missing or odd header waits one second
    (the client must not hammer a server that is shedding load)."""
    try:
        return max(0.0, float(retry_after or 1))
    except ValueError:
        return 1.0


def client_loop(make_client: Any, questions: list[str], index: int, deadline: float) -> list[Outcome]:
    """One client until the deadline: its own connection, the questions in turn from its own offset,
    every other request streamed (client 0 starts plain, client 1 streamed, ...)."""
    client = make_client()
    outcomes: list[Outcome] = []
    try:
        turn = 0
        while time.monotonic() < deadline:
            result = ask_once(client, questions[(index + turn) % len(questions)], streamed=(index + turn) % 2 == 1)
            outcomes.append(result)
            turn += 1
            if result.kind == "rate_limited":
                time.sleep(min(_retry_delay(result.retry_after), max(0.0, deadline - time.monotonic())))
    finally:
        client.close()
    return outcomes


# ------------------------------------------------------------------------------------ one level
def summarize(outcomes: list[Outcome], clients: int, seconds: float, elapsed: float) -> dict[str, Any]:
    """The figures of one run; latency is of answered requests only."""
    kinds = Counter(o.kind for o in outcomes)
    answered = [o.seconds * 1000 for o in outcomes if o.kind == "ok"]
    limited = [o for o in outcomes if o.kind == "rate_limited"]
    failures = {kind: kinds[kind] for kind in FAILURE_KINDS if kinds[kind]}
    details = sorted({o.detail for o in outcomes if o.kind in FAILURE_KINDS and o.detail})
    return {
        "clients": clients, "seconds": seconds, "elapsed_s": round(elapsed, 2),
        "requests": len(outcomes), "completed": len(answered),
        "streamed": sum(1 for o in outcomes if o.streamed and o.kind == "ok"),
        "throughput_rps": round(len(answered) / elapsed, 2) if elapsed else 0.0,
        "p50_ms": round(_pct(answered, 0.5), 1), "p95_ms": round(_pct(answered, 0.95), 1),
        "failures": sum(failures.values()), "failure_kinds": failures, "failure_details": details[:10],
        "rate_limited": len(limited),
        "rate_limited_without_retry_after": sum(1 for o in limited if not o.retry_after),
    }


# ------------------------------------------------------------------------------------ the URL
class Unreachable(Exception):
    """`--url` names no newsrag server this key can use: the one line to say instead of a run."""


def server_root(url: str) -> str:
    """`http://HOST:PORT`, from it or from the base URL OpenAI clients take (`.../v1`, `.../v1/`)."""
    from urllib.parse import urlsplit

    root = url.strip().rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    parts = urlsplit(root)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Unreachable(f"--url must look like http://HOST:PORT or http://HOST:PORT/v1, not '{url}'")
    return root


def check_server(root: str, api_key: str, timeout: float) -> None:
    """One `GET /v1/models`: a newsrag server answers there and takes this key, or Unreachable."""
    import urllib.error

    models = root + "/v1/models"
    request = urllib.request.Request(models, headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            listed = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise Unreachable(f"{root} refused the key: pass --api-key or set NEWSRAG_API_KEY") from None
        raise Unreachable(f"{models} answered {exc.code}: is this a newsrag server (`newsrag serve`)?") from None
    except (OSError, ValueError) as exc:  # refused, unresolvable, timed out, not JSON
        reason = getattr(exc, "reason", None) or exc
        raise Unreachable(f"nothing usable answers at {root} ({reason}): start `newsrag serve` or check --url") from None
    if MODEL not in {m.get("id") for m in listed.get("data", []) if isinstance(m, dict)}:
        raise Unreachable(f"{models} does not list the model '{MODEL}': is this a newsrag server?")


def drive(url: str, api_key: str, clients: int, seconds: float, questions: list[str],
          timeout: float) -> dict[str, Any]:
    """`clients` clients at once for `seconds`; requests in flight at the deadline are waited for."""
    from openai import OpenAI

    def make_client() -> OpenAI:
        return OpenAI(base_url=url.rstrip("/") + "/v1", api_key=api_key, max_retries=0, timeout=timeout)

    load_before = os.getloadavg()
    started = time.monotonic()
    deadline = started + seconds
    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="load-client") as pool:
        runs = [pool.submit(client_loop, make_client, questions, i, deadline) for i in range(clients)]
        outcomes = [o for run in runs for o in run.result()]
    result = summarize(outcomes, clients, seconds, time.monotonic() - started)
    result["load_average"] = {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)}
    return result


# ------------------------------------------------------------------------------------ the server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(process: subprocess.Popen, url: str, limit_s: float, log: Path) -> None:
    """Until /healthz says 200; at once with the server's log when the process exits instead."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        time.sleep(0.5)
    raise RuntimeError(f"the server was not ready within {limit_s:.0f} s: {log.read_text(errors='replace')[-2000:]}")


def _newsrag(data: Path, corpus: Path, *command: str) -> list[str]:
    return [sys.executable, "-m", "ui.cli", "--data-dir", str(data), "--corpus-dir", str(corpus), *command]


@contextlib.contextmanager
def started_server(work: Path, data_dir: Path | None = None, corpus: Path = SEEDS,
                   ready_timeout: float = 300.0) -> Iterator[str]:
    """`newsrag serve` in a child process on a free loopback port, until the block ends; without
    `data_dir`, `corpus` is first ingested into a fresh index under `work`. NEWSRAG_ settings in
    this environment (e.g. NEWSRAG_API_MAX_CONCURRENT) reach the server."""
    env = {**_child_env(), "GRADIO_ANALYTICS_ENABLED": "False"}
    data = data_dir or work / "data"
    if data_dir is None:
        ingest = subprocess.run(_newsrag(data, corpus, "ingest"), cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=ready_timeout)
        if ingest.returncode != 0:
            raise RuntimeError(f"`newsrag ingest {corpus}` failed ({ingest.returncode}): {ingest.stderr[-2000:]}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = work / "serve.log"
    # A file, not a pipe: the server writes a line per request, and a pipe nobody reads would fill
    # and stall it mid-run.
    with log.open("wb") as out:
        process = subprocess.Popen(_newsrag(data, corpus, "serve", "--host", "127.0.0.1", "--port", str(port)),
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(process, url, ready_timeout, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


def server_limits() -> dict[str, int]:
    """The API's slots as a server started from this environment sees them."""
    from rag.settings import Settings

    serve = Settings().serve
    return {"api_max_concurrent": serve.api_max_concurrent, "api_max_queued": serve.api_max_queued}


# ------------------------------------------------------------------------------------ the command
def format_table(runs: list[dict[str, Any]]) -> str:
    header = ("clients", "requests", "ok", "req/s", "p50 ms", "p95 ms", "failures", "429s", "429 w/o Retry-After", "load avg")
    rows = [header] + [(
        str(r["clients"]), str(r["requests"]), str(r["completed"]), f"{r['throughput_rps']:.2f}",
        f"{r['p50_ms']:.0f}", f"{r['p95_ms']:.0f}", str(r["failures"]), str(r["rate_limited"]),
        str(r["rate_limited_without_retry_after"]), f"{r['load_average']['before']:.2f}->{r['load_average']['after']:.2f}",
    ) for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows]
    for r in runs:
        if r["failures"]:
            lines.append(f"{r['clients']} clients: failures {r['failure_kinds']}: {'; '.join(r['failure_details'])}")
    return "\n".join(lines)


def client_counts(text: str) -> list[int]:
    """`16` or a curve `1,4,16,64`."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of clients or a list like 1,4,16,64, not '{text}'") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("client counts must be at least 1")
    return counts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsrag bench", description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=client_counts, required=True, metavar="CLIENTS",
                        help="concurrent clients, or a curve: 1,4,16,64 (one run per count, in order)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each run holds its clients")
    parser.add_argument("--url", help="a running server, http://127.0.0.1:7860 or http://127.0.0.1:7860/v1 "
                                      "(default: start one on --corpus)")
    parser.add_argument("--api-key", default=os.environ.get("NEWSRAG_API_KEY") or "unused",
                        help="the server's key (default NEWSRAG_API_KEY)")
    parser.add_argument("--data-dir", type=Path, help="serve this existing index (default: ingest --corpus into a temp dir)")
    parser.add_argument("--corpus", type=Path, default=SEEDS, help="articles to ingest when starting a server (default seeds/)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one request may take before it is a failure")
    parser.add_argument("--json", type=Path, help="write the results here")
    return parser


def run_levels(url: str, api_key: str, levels: list[int], seconds: float, timeout: float) -> list[dict[str, Any]]:
    questions = plain_questions()
    return [drive(url, api_key, clients, seconds, questions, timeout) for clients in levels]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.seconds <= 0 or args.timeout <= 0:
        print("bench: --seconds and --timeout must be positive", file=sys.stderr)
        return 2
    if args.url is None and args.data_dir is None and not args.corpus.is_dir():
        print(f"bench: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    result: dict[str, Any] = {"url": args.url, "cores": os.cpu_count()}
    if args.url:
        try:
            root = server_root(args.url)
            check_server(root, args.api_key, min(args.timeout, PREFLIGHT_TIMEOUT_S))
        except Unreachable as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        result["runs"] = run_levels(root, args.api_key, args.load, args.seconds, args.timeout)
    else:
        result["server_limits"] = server_limits()
        with tempfile.TemporaryDirectory(prefix="newsrag-load-") as work, \
                started_server(Path(work), args.data_dir, args.corpus.resolve()) as url:
            result["runs"] = run_levels(url, args.api_key, args.load, args.seconds, args.timeout)
    print(format_table(result["runs"]))
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
