"""Starting real servers on loopback for tests: a free port, and the Gradio app on an assistant."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(demo) -> str:
    """Launch a built Gradio app on a free loopback port; returns its URL."""
    from ui.app import launch_options

    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, **launch_options())
    return f"http://127.0.0.1:{port}/"


@contextmanager
def running_app(assistant) -> Iterator[str]:
    """The newsrag UI on `assistant`, served on loopback for the duration of the block."""
    from ui.app import build_app

    demo = build_app(assistant)
    url = launch(demo)
    try:
        yield url
    finally:
        demo.close()
