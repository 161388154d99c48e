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


@contextmanager
def serving(app, limit_s: float = 30) -> Iterator[str]:
    """An ASGI app under uvicorn on a free loopback port, in a thread of this process, for the
    duration of the block; yields its base URL."""
    import threading
    import time

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + limit_s
    while not server.started and time.monotonic() < end:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_healthy(process, url: str, limit_s: float = 180) -> None:
    """Until `url`/healthz answers 200; fails at once with the output if the process exits."""
    import time
    import urllib.request

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"server exited with {process.returncode}: {out}")
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("server never became ready")


def stop(process, timeout_s: float = 30) -> None:
    """Terminate a server process, killing it if it does not exit in time."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout_s)
