"""`newsrag` command line: ingest, list, remove, status, ask, chat, follow/following/unfollow/digest,
serve, evals, bench.

An interface like the web UI: it stands on `rag.Assistant`, built by the engine's factory (for a
cold `ask`, `rag.factory.preload` opens the models and the vector store on threads first).
Every error is one line on stderr (with `--json`: `{"error": "..."}` on stdout), worded by
`rag.errors.present`, and a non-zero exit; nothing here prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, NoReturn


@contextmanager
def _gc_paused():
    """Importing llama-index and chromadb builds hundreds of thousands of long-lived objects
    (pydantic schemas above all) and the cyclic collector kept re-scanning them: ~0.4 s of a
    2.5 s cold `ask`. None of it is garbage, so collection waits until the imports are done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _assistant(args: argparse.Namespace, *, answering: bool = False, writes: bool = False):
    """The Assistant for this command, built by the engine's factory. For commands that answer,
    `rag.factory.preload` starts the models and Chroma loading on threads before the engine
    imports llama-index: a cold `ask` overlaps them. `writes`: the command writes the index, so
    its folder must be one it can create and write."""
    with _gc_paused():
        from rag.settings import Settings

        overrides: dict[str, Any] = {}
        for name in ("data_dir", "corpus_dir", "retriever", "mode"):
            value = getattr(args, name, None)
            if value:
                overrides[name] = value
        settings = Settings(**overrides)
        _usable_data_dir(Path(settings.data_dir), writes)
        models = None
        if answering:
            from rag.factory import preload

            models = preload(settings)
            args._loading = models.loading
        from rag.assistant import Assistant

        return Assistant(settings, models=models)


def _usable_data_dir(folder: Path, writes: bool) -> None:
    """A data folder that is a file, or one a writing command cannot create or write, is the
    user's setting to fix, said in one line (it was an internal error deep in the index)."""
    from rag.errors import InvalidRequest

    fix = "choose another with --data-dir or NEWSRAG_DATA_DIR"
    if folder.exists() and not folder.is_dir():
        raise InvalidRequest(f"the data folder {folder} is a file, not a folder; {fix}")
    if not writes:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidRequest(f"cannot create the data folder {folder} ({exc.strerror}); {fix}") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidRequest(f"cannot write in the data folder {folder}; {fix}")


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def cmd_ingest(args: argparse.Namespace) -> int:
    assistant = _assistant(args, writes=True)
    report = assistant.ingest(args.paths or None, prune=not args.no_prune, rebuild=args.rebuild,
                              progress=not args.json)
    _print_json(report.to_dict()) if args.json else print(report.summary())
    return 0


def _table(rows: list[dict], key: str, header: Callable[[int], str], line: Callable[[dict, int], str]) -> None:
    """Rows under a header, the first column as wide as its longest `key` (at most 48)."""
    width = min(48, max(len(r[key]) for r in rows))
    print(header(width))
    for r in rows:
        print(line(r, width))


def cmd_list(args: argparse.Namespace) -> int:
    rows = _assistant(args).documents()
    if args.json:
        _print_json([{k: r[k] for k in ("source", "title", "published", "chunks", "origin", "url", "kind")} for r in rows])
        return 0
    if not rows:
        print("the index is empty: add articles with `newsrag ingest PATH`")
        return 0
    _table(rows, "source", lambda w: f"{'source':{w}}  {'published':10}  {'chunks':>6}  title  (from)",
           lambda r, w: f"{r['source']:{w}}  {r['published'] or '-':10}  {r['chunks']:>6}  {r['title'][:60]}  ({r['origin']})")
    print(f"{len(rows)} documents")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """A known name is removed and reported; an unknown one is the user's error (exit 2, one line),
    said after the known ones beside it are gone."""
    from rag.errors import NotFound

    report = _assistant(args, writes=True).remove(list(dict.fromkeys(args.sources)))
    unknown = [s.path for s in report.skipped]
    if unknown:
        removed = f"; removed the other {report.removed}" if report.removed else ""
        raise NotFound(f"not in the index: {', '.join(unknown)} (see `newsrag list` for the names){removed}")
    _print_json(report.to_dict()) if args.json else print(report.summary())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    status = _assistant(args).status()
    if args.json:
        _print_json(status)
    else:
        for key, value in status.items():
            print(f"{key:16} {value}")
    return 0


def cmd_follow(args: argparse.Namespace) -> int:
    followed = _assistant(args, writes=True).follow(args.topic)
    if args.json:
        _print_json(followed)
    else:
        print(f"following \"{followed['topic']}\" (since {followed['followed_at']}); "
              "`newsrag digest` lists the stories ingested from now on")
    return 0


def cmd_unfollow(args: argparse.Namespace) -> int:
    gone = _assistant(args, writes=True).unfollow(args.topic)
    _print_json(gone) if args.json else print(f"no longer following \"{gone['topic']}\"")
    return 0


def cmd_following(args: argparse.Namespace) -> int:
    rows = _assistant(args).following()
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print('no followed topics: follow one with `newsrag follow "TOPIC"`')
        return 0
    _table(rows, "topic", lambda w: f"{'topic':{w}}  {'new':>4}  {'followed':25}  last digest",
           lambda r, w: f"{r['topic']:{w}}  {r['new']:>4}  {r['followed_at']:25}  {r['last_digest'] or 'never'}")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    digest = _assistant(args, answering=True, writes=True).digest(args.topic)
    _print_json(digest) if args.json else print(format_digest(digest))
    return 0


def format_digest(digest: dict[str, Any]) -> str:
    """Per followed topic a heading, then its new stories as a briefing shows them (dated bullets
    quoting their sentences with markers, then the source of each marker)."""
    from rag.answering.timeq import format_date

    if not digest["topics"]:
        return 'no followed topics: follow one with `newsrag follow "TOPIC"`'
    lines: list[str] = []
    for topic in digest["topics"]:
        items = topic["items"]
        count = f"{len(items)} new {'story' if len(items) == 1 else 'stories'}" if items else "nothing new"
        lines.append(f"{topic['topic']}: {count}")
        for item in items:
            when = format_date(dt.date.fromisoformat(item["published"])) if item["published"] else "undated"
            body = " ".join(f"{s['text']} [{s['marker']}]" for s in item["sentences"])
            also = f" (also in {', '.join(item['also_in'])})" if item["also_in"] else ""
            lines.append(f"- {when} · {item['title']}{also}: {body}")
            lines += [f"  [{s['marker']}] {item['source']}" for s in item["sentences"]]
    return "\n".join(lines)


def format_answer(answer) -> str:
    lines = []
    from ui.web_dates import time_range_text

    scope = time_range_text(answer.time_range)  # "since 1 March 2025", never "... to None"
    if scope:
        lines.append(f"({scope})")
    if answer.direct:
        lines.append(f"Answer: {answer.direct}")
    if answer.revision:
        lines.append(f"Revised: {answer.revision}")
    lines.append(answer.text)
    if answer.notice:
        lines.append(f"({answer.notice})")
    if answer.kind == "briefing":  # the bullets quote every sentence already: sources only
        from ui.render import coverage_line

        lines += [coverage_line(answer.coverage)] if answer.coverage else []
        lines += [f"  [{c.marker}] {c.source} (chars {c.start}-{c.end})" for c in answer.citations]
        return "\n".join(lines)
    for c in answer.citations:
        dated = f", {c.published}" if c.published else ""
        also = f" (also in {', '.join(c.also_in)})" if c.also_in else ""
        lines.append(f"  [{c.marker}] {c.source}{dated} — {c.title}{also}\n      “{c.quote.strip()}” (chars {c.start}-{c.end})")
    if answer.abstained and answer.related:
        lines.append("  Related passages (not an answer):")
        lines += [f"    - {p.source}: {p.text.strip()[:160]}" for p in answer.related]
    return "\n".join(lines)


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {"sources": args.source or None, "since": args.since, "until": args.until}


def cmd_ask(args: argparse.Namespace) -> int:
    with _gc_paused():  # the first question still imports the BM25 retriever (and chromadb, for a new index)
        answer = _assistant(args, answering=True).ask(args.question, mode=args.mode, **_filters(args))
    _print_json(answer.to_dict()) if args.json else print(format_answer(answer))
    return 0


def _finish_loading(args: argparse.Namespace) -> None:
    """A process must not exit while onnxruntime or Chroma is still loading on a thread."""
    for thread in getattr(args, "_loading", []):
        thread.join()


def cmd_chat(args: argparse.Namespace) -> int:
    from rag.errors import NewsragError, present

    assistant = _assistant(args, answering=True)
    history: list[dict] = []
    print("Ask about the articles; an empty line or Ctrl-D quits.")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = assistant.ask(question, history, mode=args.mode, **_filters(args))
        except NewsragError as exc:
            print(f"error: {present(exc).message}")
            continue
        print("newsrag> " + format_answer(answer))
        history += [{"role": "user", "content": question},
                    {"role": "assistant", "content": answer.text, "sources": [c.source for c in answer.citations]}]


def cmd_serve(args: argparse.Namespace) -> int:
    import threading

    from rag.settings import Settings
    from ui.server import claim_port, serve

    serving = Settings().serve  # a busy port is said at once, before the engine is built (~3 s)
    host, port = args.host or serving.host, args.port or serving.port
    sock = claim_port(host, port)
    try:
        assistant = _assistant(args, writes=True)
    except BaseException:
        sock.close()
        raise
    stop = threading.Event()
    if args.watch:  # the index follows these folders while the server answers from it
        from ui.watch import watch

        _existing(args.watch)
        threading.Thread(target=watch, args=(assistant, args.watch), kwargs={"stop": stop},
                         name="newsrag-watch", daemon=True).start()
    try:
        serve(assistant, host=host, port=port, sock=sock)
    finally:
        stop.set()
    return 0


def _existing(paths: list[str]) -> None:
    from rag.errors import NotFound

    missing = [p for p in paths if not Path(p).expanduser().exists()]
    if missing:
        raise NotFound(f"no such file or folder: {', '.join(missing)}")


def cmd_watch(args: argparse.Namespace) -> int:
    """Keeps the index in step with folders until Ctrl-C: one line per change."""
    from ui.watch import watch

    _existing(args.paths)
    watch(_assistant(args, writes=True), args.paths)
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    """The MCP server over stdio (search, fetch, ask) for desktop assistants and IDEs."""
    from ui.mcp_server import run_stdio

    run_stdio(_assistant(args))
    return 0


def cmd_evals(args: argparse.Namespace) -> int:
    from evals.__main__ import main as evals_main

    return evals_main(args.rest)


def cmd_bench(args: argparse.Namespace) -> int:
    from evals.bench import main as bench_main

    return bench_main(args.rest)


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", action="append", metavar="NAME", help="only this document (repeatable; see `newsrag list`)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only articles published on or after this date")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="only articles published on or before this date")


class _Parser(argparse.ArgumentParser):
    """A wrong command line is one line and exit 2, like every other user error (argparse's usage
    block above it buried the line that says what is wrong)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USER_ERROR_EXIT, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _add_topic_commands(sub: Any) -> None:
    """follow, following, unfollow and digest: the followed topics (rag.topics)."""
    p = sub.add_parser("follow", help="follow a story: `digest` then lists what is ingested about it from now on")
    p.add_argument("topic", metavar="TOPIC", help='e.g. "Vale Line rail link" (case and spacing do not matter)')
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_follow)

    p = sub.add_parser("following", help="the followed topics, each with how many new stories it has")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_following)

    p = sub.add_parser("unfollow", help="stop following a topic")
    p.add_argument("topic", metavar="TOPIC")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_unfollow)

    p = sub.add_parser("digest", help="what is new on each followed topic since its last digest (then marked seen)")
    p.add_argument("topic", nargs="?", metavar="TOPIC", help="only this followed topic")
    p.add_argument("--json", action="store_true", help='print {"topics": [{"topic", "items"}]}')
    p.set_defaults(func=cmd_digest)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="newsrag", description="Question answering over your news articles.")
    parser.add_argument("--data-dir", help="index folder (default NEWSRAG_DATA_DIR or ./data)")
    parser.add_argument("--corpus-dir", help="what `ingest` reads when no path is given (default NEWSRAG_CORPUS_DIR or ./seeds)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add or update files and folders (from anywhere) in the index")
    p.add_argument("paths", nargs="*", help="files or folders (default: the corpus folder)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-prune", action="store_true", help="keep documents of these folders whose files are gone")
    p.add_argument("--rebuild", action="store_true",
                   help="re-read every document the index holds (and PATHs) into a fresh index, switched in when complete")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("list", help="the documents in the index")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("remove", help="drop documents from the index (their files are left alone)")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="a source name as `newsrag list` shows it, or a file path")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("status", help="what is indexed, and with which model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    _add_topic_commands(sub)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print Answer.to_dict()")
    p.add_argument("--mode", choices=["extractive", "llm"])
    p.add_argument("--retriever", choices=["hybrid", "dense", "bm25"])
    _add_filters(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal")
    p.add_argument("--mode", choices=["extractive", "llm"])
    _add_filters(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("serve", help="the chat UI and the /v1 HTTP API")
    p.add_argument("--host", help="interface to listen on (default NEWSRAG_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default NEWSRAG_PORT or 7860)")
    p.add_argument("--watch", nargs="+", metavar="PATH", help="also keep the index in step with these folders")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("watch", help="keep the index in step with folders (new, changed, deleted, renamed files)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("mcp", help="an MCP server over stdio: search, fetch and ask for assistants and IDEs")
    p.set_defaults(func=cmd_mcp)

    for name, func, text in (("evals", cmd_evals, "run the evaluation harness"), ("bench", cmd_bench, "run the benchmark")):
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=func)
    return parser


# Every user error exits 2, whatever its kind: scripts and tests rely on it (a bug exits 1).
USER_ERROR_EXIT = 2


def _fail(message: str, as_json: bool, code: int = USER_ERROR_EXIT) -> int:
    if as_json:
        print(json.dumps({"error": message}, ensure_ascii=False))
    else:
        print(f"newsrag: {message}", file=sys.stderr)
    return code


# Commands that only read the index. Once their output is flushed they leave with os._exit: the
# interpreter's teardown (finalising llama-index, chromadb and onnxruntime objects and modules) was
# 0.4-0.6 s of a 3 s cold `ask`, spent after the answer was already on screen.
_FAST_EXIT = frozenset({"ask"})


def main(argv: list[str] | None = None, *, fast_exit: bool = False) -> int:
    """`fast_exit` is for the console entry point only: it ends the process, so tests leave it off."""
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # a bare `newsrag`: what it can do
        parser.print_help(sys.stderr)
        return USER_ERROR_EXIT
    args, extra = parser.parse_known_args(argv)
    as_json = bool(getattr(args, "json", False))
    if args.command in ("evals", "bench"):  # their own options pass through untouched
        args.rest = [*extra, *args.rest]
    elif extra:
        return _fail(f"unrecognized arguments: {' '.join(extra)} (see `newsrag {args.command} --help`)", as_json)
    try:
        code = _dispatch(args, as_json)
    finally:
        _finish_loading(args)
    if fast_exit and args.command in _FAST_EXIT:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe: nothing more can be said anyway
                pass
        os._exit(code)
    return code


def _dispatch(args: argparse.Namespace, as_json: bool) -> int:
    from pydantic import ValidationError

    from rag.errors import NewsragError, present

    try:
        return args.func(args)
    except BrokenPipeError:
        return _reader_left()
    except NewsragError as exc:
        shown = present(exc)
        return _fail(shown.message, as_json, shown.exit_code)
    except ValidationError as exc:
        return _fail(_setting_error(exc), as_json)
    except KeyboardInterrupt:
        return _fail("interrupted", as_json, 130)
    except Exception as exc:  # noqa: BLE001 - a bug must still be one line; NEWSRAG_DEBUG=1 shows it whole
        if os.environ.get("NEWSRAG_DEBUG"):
            raise
        return _fail(f"internal error ({type(exc).__name__}: {exc}); rerun with NEWSRAG_DEBUG=1 for details", as_json, 1)


def _reader_left() -> int:
    """`newsrag ask ... | head -2`: the reader closed the pipe, which is not an error. Further
    output (and the interpreter's final flush) goes nowhere instead of raising again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0


def _setting_error(exc: Any) -> str:
    """The setting by the name users set it with: `NEWSRAG_TOP_K`, not `retrieval.top_k`."""
    from rag.settings import GROUP_OF

    first = exc.errors()[0]
    name = str(first["loc"][-1]) if first["loc"] else "value"
    shown = f"NEWSRAG_{name.upper()}" if name in GROUP_OF else ".".join(map(str, first["loc"])) or "value"
    return f"invalid setting {shown}: {first['msg']}"


def run() -> int:
    """The `newsrag` console script."""
    return main(fast_exit=True)


if __name__ == "__main__":
    sys.exit(run())
