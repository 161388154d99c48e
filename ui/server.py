"""`newsrag serve`: the Gradio UI and the `/v1` HTTP API on one host and port, with uvicorn.

`serve(assistant, host, port)` claims the port first (a busy port is one line, before any model
loads), loads the models, then serves and says it is ready. `create_app(assistant, blocks)` is the
FastAPI app alone, for tests and for anyone embedding newsrag in a larger server.
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import ipaddress
import socket
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from rag.settings import force_offline
from rag.types import NewsragError
from ui.api import add_api

# uvicorn waits this long for open streams to finish on Ctrl-C before it closes them.
SHUTDOWN_GRACE_S = 5


def create_app(assistant: Any, blocks: Any = None, on_ready: Callable[[], None] | None = None) -> FastAPI:
    """The API (and, given `blocks`, the Gradio UI at `/`) on one FastAPI app.

    `/healthz` answers 503 until the app has started (models loaded, Gradio's queue running).
    """
    force_offline()
    # The interactive docs pages fetch scripts from a CDN; the schema alone stays, behind the key.
    app = FastAPI(title="newsrag", docs_url=None, redoc_url=None, openapi_url="/v1/openapi.json")
    app.state.ready = False
    add_api(app, assistant)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            status = await run_in_threadpool(assistant.status)
        except Exception:  # an unreadable index is "not ready", not a traceback
            return JSONResponse({"status": "error", "ready": False, "documents": None}, 503)
        ready = bool(app.state.ready)
        body = {"status": "ready" if ready else "starting", "ready": ready,
                "documents": status.get("documents"), "chunks": status.get("chunks")}
        return JSONResponse(body, 200 if ready else 503)

    if blocks is not None:
        import gradio as gr

        gr.mount_gradio_app(app, blocks, path="/", **mount_options())

    inner = app.router.lifespan_context  # Gradio's startup (its queue) runs inside this

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            app.state.ready = True
            if on_ready is not None:
                on_ready()
            yield state
        app.state.ready = False

    app.router.lifespan_context = lifespan
    return app


def mount_options() -> dict[str, Any]:
    """The UI's offline launch options that also apply to a mounted app (a mount never shares)."""
    from ui.app import launch_options

    accepted = inspect.signature(__import__("gradio").mount_gradio_app).parameters
    return {k: v for k, v in launch_options().items() if k in accepted}


def claim_port(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or one actionable line saying why not."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise NewsragError(f"cannot serve on host '{host}' ({exc.strerror}); choose another with --host or NEWSRAG_HOST") from exc
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a just-stopped server's port is reusable
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise NewsragError(f"port {port} is in use; choose another with --port N or NEWSRAG_PORT") from exc
        if exc.errno == errno.EACCES:
            raise NewsragError(f"no permission to serve on port {port}; choose one above 1023 with --port N or NEWSRAG_PORT") from exc
        raise NewsragError(f"cannot serve on {host}:{port} ({exc.strerror}); choose another with --host/--port") from exc
    sock.set_inheritable(True)
    return sock


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(assistant: Any, host: str | None = None, port: int | None = None) -> None:
    """Serve the UI at `/` and the API at `/v1` until interrupted. Blocks."""
    import uvicorn

    from ui.app import build_app

    settings = assistant.settings
    host = host or settings.host
    port = port or settings.port
    sock = claim_port(host, port)  # before the models load, so a busy port fails at once
    try:
        if not is_loopback(host) and not settings.api_key:
            print(f"newsrag: warning: serving on {host} without NEWSRAG_API_KEY: anyone who can reach "
                  f"port {port} can use the API and the UI", file=sys.stderr)
        warm_up = getattr(assistant, "warm_up", None)
        if callable(warm_up):
            warm_up()  # so the first answer is as fast as the others
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}"

        def announce() -> None:
            print(f"newsrag: ready: the UI on {url}/ and the OpenAI-compatible API on {url}/v1", flush=True)

        app = create_app(assistant, build_app(assistant), on_ready=announce)
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
            server_header=False,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
