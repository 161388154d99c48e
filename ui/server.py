"""`newsrag serve`: the Gradio UI and the `/v1` HTTP API on one host and port, with uvicorn.

`serve(assistant, host, port)` claims the port first (a busy port is one line, before any model
loads), loads the models, then serves and says it is ready. `create_app(assistant, blocks)` is the
FastAPI app alone, for tests and for anyone embedding newsrag in a larger server.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import inspect
import ipaddress
import logging
import socket
import sys
import time
from functools import partial
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.errors import InvalidRequest, NewsragError
from rag.settings import force_offline
from ui.api import PREFIX, add_api, body_limit
from ui.errors import api_error, error_body

if TYPE_CHECKING:  # types only: ui imports no engine internals at run time
    from rag.facade import AssistantAPI

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------ errors and guards
def error_response(status: int, message: str, code: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message, code), status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    first = exc.errors()[0]
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return f"{where}: {first.get('msg', 'invalid value')}"


def install_error_handlers(app: FastAPI) -> None:
    # Starlette's own HTTPException (an unknown route, a wrong method) as well as ours: under /v1
    # every error has OpenAI's shape, so an OpenAI client reads a 404 or 405 like any other error.
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if not isinstance(exc, HTTPException) and not under_prefix(request.url.path):
            return JSONResponse({"detail": message}, exc.status_code, headers=getattr(exc, "headers", None))
        if exc.status_code == 404 and not isinstance(exc, HTTPException):
            message = f"unknown route {request.method} {request.url.path}"
        elif exc.status_code == 405:
            allowed = (getattr(exc, "headers", None) or {}).get("Allow")
            message = f"{request.method} is not allowed on {request.url.path}" + (f"; use {allowed}" if allowed else "")
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, _validation_message(exc))

    @app.exception_handler(NewsragError)
    @app.exception_handler(Exception)
    async def _raised(_: Request, exc: Exception) -> JSONResponse:
        """The status says what happened (rag.errors.present: 400, 404, 409, 503; a bug is 500)."""
        status, body = api_error(exc, "API request")
        return JSONResponse(body, status)


class BodyTooLarge(HTTPException):
    """Raised while a body is read past its limit; an HTTPException, so FastAPI passes it to our handler."""

    def __init__(self) -> None:
        super().__init__(413, "the request body is too large")


class ApiGuard:
    """ASGI middleware in front of /v1: the key (when configured), then the body size.

    The key and a declared Content-Length are checked before the body is read, so an
    unauthenticated client learns nothing but 401 and an oversized body is refused at once; a body
    sent without a length is counted as it arrives.
    """

    def __init__(self, app: ASGIApp, key: str | None, body_limit: Callable[[str, str], int]) -> None:
        self.app = app
        self.key = key.encode() if key else None
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not under_prefix(scope["path"]):
            await self.app(scope, receive, send)
            return
        limit = self.body_limit(scope["method"], scope["path"])
        refusal = self._refusal(dict(scope["headers"]), limit)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, counted, send)

    def _refusal(self, headers: dict[bytes, bytes], limit: int) -> JSONResponse | None:
        if self.key:
            scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self.key):
                return error_response(
                    401, "missing or wrong API key: send 'Authorization: Bearer <NEWSRAG_API_KEY>'",
                    code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"},
                )
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            return error_response(413, "the request body is too large")
        return None


def under_prefix(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class Slots:
    """Like the UI's queue: `running` requests compute at once, `queued` more wait, the rest get 429."""

    def __init__(self, running: int, queued: int) -> None:
        self._running = asyncio.Semaphore(running)
        self._capacity = running + queued
        self._held = 0

    async def acquire(self) -> Callable[[], None]:
        """Wait for a slot; returns its release function (safe to call more than once)."""
        if self._held >= self._capacity:
            raise HTTPException(429, "the server is busy; retry shortly", headers={"Retry-After": "1"})
        self._held += 1
        try:
            await self._running.acquire()
        except BaseException:
            self._held -= 1
            raise
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._held -= 1
                self._running.release()

        return release


def create_app(assistant: AssistantAPI, blocks: Any = None, on_ready: Callable[[], None] | None = None) -> FastAPI:
    """The API (and, given `blocks`, the Gradio UI at `/`) on one FastAPI app.

    `/healthz` answers 503 until the app has started (models loaded, Gradio's queue running).
    """
    force_offline()
    # The interactive docs pages fetch scripts from a CDN; the schema alone stays, behind the key.
    app = FastAPI(title="newsrag", docs_url=None, redoc_url=None, openapi_url="/v1/openapi.json")
    app.state.ready = False
    settings = assistant.settings
    install_error_handlers(app)
    app.add_middleware(ApiGuard, key=settings.api_key, body_limit=partial(body_limit, settings))
    add_api(app, assistant, Slots(settings.api_max_concurrent, settings.api_max_queued))
    app.add_middleware(AccessLog)
    mcp_app = _mount_mcp(app, assistant, settings.api_key)

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
        async with inner(app_) as state, _mcp_running(mcp_app):
            app.state.ready = True
            if on_ready is not None:
                on_ready()
            yield state
        app.state.ready = False

    app.router.lifespan_context = lifespan
    return app


def _mount_mcp(app: FastAPI, assistant: AssistantAPI, api_key: str | None) -> Any:
    """The MCP server over streamable HTTP at /mcp (guarded by the API key when one is set), or
    None when the `mcp` package is missing: the rest of the server works without it."""
    try:
        from ui.mcp_server import mcp_http_app
    except ImportError:
        log.warning("MCP at /mcp is off: the `mcp` package is not installed")
        return None
    mcp_app = mcp_http_app(assistant, api_key)
    app.mount("/mcp", mcp_app)
    return mcp_app


@contextlib.asynccontextmanager
async def _mcp_running(mcp_app: Any) -> AsyncIterator[None]:
    """A mounted app's lifespan is not run by FastAPI: the MCP session manager is started here."""
    if mcp_app is None:
        yield
        return
    from ui.mcp_server import mcp_lifespan

    async with mcp_lifespan(mcp_app):
        yield


class AccessLog:
    """One line per API request on stderr: method, path, status, milliseconds (the page's own
    polling is left out: it would drown the lines that matter)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (under_prefix(path) or path.startswith("/mcp")):
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [0]

        async def sent(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            ms = (time.perf_counter() - started) * 1000
            print(f"{scope.get('method', '-')} {path} {status[0] or 500} {ms:.0f} ms", file=sys.stderr, flush=True)


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
        raise InvalidRequest(f"cannot serve on host '{host}' ({exc.strerror}); choose another with --host or NEWSRAG_HOST") from exc
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a just-stopped server's port is reusable
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InvalidRequest(f"port {port} is in use; choose another with --port N or NEWSRAG_PORT") from exc
        if exc.errno == errno.EACCES:
            raise InvalidRequest(f"no permission to serve on port {port}; choose one above 1023 with --port N or NEWSRAG_PORT") from exc
        raise InvalidRequest(f"cannot serve on {host}:{port} ({exc.strerror}); choose another with --host/--port") from exc
    sock.set_inheritable(True)
    return sock


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(assistant: AssistantAPI, host: str | None = None, port: int | None = None,
          sock: socket.socket | None = None) -> None:
    """Serve the UI at `/` and the API at `/v1` until interrupted. Blocks. `sock`: the port,
    already claimed (the CLI claims it before it even builds the engine)."""
    import uvicorn

    from ui.app import build_app

    settings = assistant.settings
    host = host if host is not None else settings.host
    port = port if port is not None else settings.port
    sock = sock or claim_port(host, port)  # before the models load, so a busy port fails at once
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
            app, log_level="warning", access_log=False, timeout_graceful_shutdown=settings.shutdown_grace_seconds,
            server_header=False,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
