"""`newsrag` command line: ingest, status, ask, chat, serve, evals, bench.

User errors print one line and exit 2; nothing here prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _assistant(args: argparse.Namespace):
    from rag.assistant import Assistant
    from rag.settings import Settings

    overrides: dict[str, Any] = {}
    for name in ("data_dir", "corpus_dir", "retriever", "mode"):
        value = getattr(args, name, None)
        if value:
            overrides[name] = value
    settings = Settings(**overrides)
    return Assistant(settings)


def cmd_ingest(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    report = assistant.ingest(args.paths or None, prune=not args.no_prune, rebuild=args.rebuild)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.summary())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    status = _assistant(args).status()
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        for key, value in status.items():
            print(f"{key:16} {value}")
    return 0


def format_answer(answer) -> str:
    lines = [answer.text]
    if answer.notice:
        lines.append(f"({answer.notice})")
    for c in answer.citations:
        lines.append(f"  [{c.marker}] {c.source} — {c.title}\n      “{c.quote.strip()}” (chars {c.start}-{c.end})")
    if answer.abstained and answer.related:
        lines.append("  Related passages (not an answer):")
        lines += [f"    - {p.source}: {p.text.strip()[:160]}" for p in answer.related]
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    answer = assistant.ask(args.question, mode=args.mode)
    print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json else format_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from rag.types import Answer, NewsragError

    assistant = _assistant(args)
    history: list[dict] = []
    print("Ask about the corpus; an empty line or Ctrl-D quits.")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = None
            for piece in assistant.stream(question, history, mode=args.mode):
                if isinstance(piece, Answer):
                    answer = piece
            assert answer is not None
        except NewsragError as exc:
            print(f"error: {exc}")
            continue
        print("newsrag> " + format_answer(answer))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.server import serve

    serve(_assistant(args), host=args.host, port=args.port)
    return 0


def cmd_evals(args: argparse.Namespace) -> int:
    from evals.__main__ import main as evals_main

    return evals_main(args.rest)


def cmd_bench(args: argparse.Namespace) -> int:
    from evals.bench import main as bench_main

    return bench_main(args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsrag", description="Question answering over a news corpus.")
    parser.add_argument("--data-dir", help="index folder (default NEWSRAG_DATA_DIR or ./data)")
    parser.add_argument("--corpus-dir", help="corpus folder (default NEWSRAG_CORPUS_DIR or ./seeds)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index the corpus (incremental; deleted files are purged)")
    p.add_argument("paths", nargs="*", help="files or folders inside the corpus folder (default: all of it)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-prune", action="store_true", help="keep indexed articles whose files are gone")
    p.add_argument("--rebuild", action="store_true", help="wipe the index and build it again")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("status", help="what is indexed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print Answer.to_dict()")
    p.add_argument("--mode", choices=["extractive", "llm"])
    p.add_argument("--retriever", choices=["hybrid", "dense", "bm25"])
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal")
    p.add_argument("--mode", choices=["extractive", "llm"])
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("serve", help="the chat UI and the OpenAI-compatible HTTP API (/v1)")
    p.add_argument("--host", help="default NEWSRAG_HOST or 127.0.0.1")
    p.add_argument("--port", type=int, help="default NEWSRAG_PORT or 7860")
    p.set_defaults(func=cmd_serve)

    for name, func, text in (("evals", cmd_evals, "run the evaluation harness"), ("bench", cmd_bench, "run the benchmark")):
        p = sub.add_parser(name, help=text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command in ("evals", "bench"):  # their own options pass through untouched
        args.rest = [*extra, *args.rest]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from pydantic import ValidationError

    from rag.types import NewsragError

    try:
        return args.func(args)
    except NewsragError as exc:
        print(f"newsrag: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"newsrag: invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newsrag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
