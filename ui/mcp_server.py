"""MCP server over the Assistant: search / fetch / ask tools (ChatGPT-connector contract) and whats_new.

The tools never write the index. `whats_new` is the digest of the followed topics (`newsrag
digest`): like every digest it marks the stories it returns as seen, so the next call says only
what landed after it; that seen mark (topics.json in the data folder) is the one thing it writes.

Wiring (done by the CLI / server, not here):
  * `newsrag mcp`: `run_stdio(Assistant(Settings()))`.
  * `/mcp` in FastAPI: `app.mount("/mcp", mcp_http_app(assistant, api_key))`. A mounted Starlette app's
    lifespan is NOT run by the host, and the streamable-HTTP session manager refuses requests until it is
    running, so the host lifespan must enter `mcp_session_manager(mcp_app).run()` (see `mcp_lifespan`).
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from rag.errors import NewsragError, present
from ui.api import article_link

if TYPE_CHECKING:
    from rag.evidence import RetrievedPassage

ASGIApp = Callable[[dict[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]]
SNIPPET_CHARS = 300


def hit_fields(hit: "RetrievedPassage") -> dict[str, Any]:
    """The fields of a retrieved passage the tools show."""
    return {"source": hit.source, "title": hit.title, "text": hit.text, "score": hit.score,
            "url": hit.url, "published": hit.published}


def link(source: str, url: Any) -> str:
    # A stable pseudo-URL lets connectors that require a link still cite uploaded files.
    return article_link(source, str(url) if url else None)


def _tool_error(exc: Exception) -> ToolError:
    return ToolError(present(exc).message)


def _search(assistant: Any, query: str, since: str | None, until: str | None,
            sources: list[str] | None, limit: int) -> dict[str, Any]:
    limit = max(1, min(int(limit), 50))
    hits = assistant.retrieve(query, top_k=limit * 4, sources=sources, since=since, until=until)
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    # Hits arrive best first; keep the best passage of each article so the list is per article.
    for hit in hits:
        f = hit_fields(hit)
        if not f["source"] or f["source"] in seen:
            continue
        seen.add(f["source"])
        results.append({"id": f["source"], "title": f["title"] or f["source"], "url": link(f["source"], f["url"]),
                        "published": f["published"], "source": f["source"],
                        "snippet": " ".join(str(f["text"]).split())[:SNIPPET_CHARS]})
        if len(results) >= limit:
            break
    return {"results": results}


def _fetch(assistant: Any, id: str) -> dict[str, Any]:
    art = assistant.article(id)
    return {"id": art["source"], "title": art.get("title") or art["source"], "text": art.get("text", ""),
            "url": link(art["source"], art.get("url")),
            "metadata": {"source": art["source"], "published": art.get("published")}}


def _ask(assistant: Any, question: str, since: str | None, until: str | None,
         sources: list[str] | None) -> dict[str, Any]:
    ans = assistant.ask(question, sources=sources, since=since, until=until).to_dict()
    keep = ("marker", "source", "title", "quote", "start", "end", "published", "url", "corroborated_by")
    cites = [{k: c.get(k) for k in keep} for c in ans.get("citations", [])]
    for c in cites:
        c["url"] = link(str(c["source"]), c.get("url"))
    return {"text": ans.get("text", ""), "direct": ans.get("direct"), "citations": cites,
            "abstained": bool(ans.get("abstained")), "kind": ans.get("kind", "fact"), "items": ans.get("items", []),
            "topic": ans.get("topic"), "coverage": ans.get("coverage")}


def _whats_new(assistant: Any, topic: str | None) -> dict[str, Any]:
    digest = assistant.digest(topic)
    for followed in digest["topics"]:
        for item in followed["items"]:
            item["url"] = link(item["source"], item.get("url"))
    return digest


def build_mcp(assistant: Any) -> MCPServer:
    """An MCPServer whose tools never write the index (whats_new moves the followed topics' seen marks)."""
    server = MCPServer(name="newsrag", instructions="Search, read and ask about the indexed news articles.")

    def guarded(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        try:
            return fn(assistant, *args)
        except NewsragError as exc:
            raise _tool_error(exc) from exc

    @server.tool(description="Search the news articles; one result per article, best first. "
                 "since/until are ISO dates (YYYY-MM-DD); sources limits to those article ids.")
    def search(query: str, since: str | None = None, until: str | None = None,
               sources: list[str] | None = None, limit: int = 10) -> dict[str, Any]:
        return guarded(_search, query, since, until, sources, limit)

    @server.tool(description="Fetch the full text of one article by its id (from search).")
    def fetch(id: str) -> dict[str, Any]:
        return guarded(_fetch, id)

    @server.tool(description="Answer a question from the articles, with [n] citation markers and quotes.")
    def ask(question: str, since: str | None = None, until: str | None = None,
            sources: list[str] | None = None) -> dict[str, Any]:
        return guarded(_ask, question, since, until, sources)

    @server.tool(description="What is new on the followed topics (or on one, by name) since their last digest: "
                 "per topic, the stories ingested since, each dated with verbatim cited sentences. "
                 "Marks them seen: the next call lists only what arrives after it.")
    def whats_new(topic: str | None = None) -> dict[str, Any]:
        return guarded(_whats_new, topic)

    return server


def run_stdio(assistant: Any) -> None:
    """Serve MCP on stdin/stdout until the client hangs up (for `newsrag mcp`)."""
    build_mcp(assistant).run("stdio")


class BearerAuth:
    """Rejects requests without `Authorization: Bearer <key>`; lifespan events pass through."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app, self.key = app, api_key.encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            got = headers.get(b"authorization", b"")
            # Constant-time compare so the key cannot be guessed byte by byte.
            if not hmac.compare_digest(got, b"Bearer " + self.key):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": b'{"error":"missing or wrong API key"}'})
                return
        await self.app(scope, receive, send)


def mcp_http_app(assistant: Any, api_key: str | None) -> Any:
    """Streamable-HTTP ASGI app to mount at /mcp; `.mcp_server` holds the MCPServer for the lifespan."""
    server = build_mcp(assistant)
    # Path "/" because the host mounts us at /mcp; stateless so any worker/request stands alone.
    inner = server.streamable_http_app(streamable_http_path="/", stateless_http=True, json_response=True)
    app: Any = BearerAuth(inner, api_key) if api_key else inner
    app.mcp_server = server  # for mcp_lifespan; Starlette apps and BearerAuth both take attributes
    return app


@contextlib.asynccontextmanager
async def mcp_lifespan(mcp_app: Any) -> AsyncIterator[None]:
    """Enter inside the host FastAPI lifespan: runs the session manager the mounted app needs."""
    async with mcp_app.mcp_server.session_manager.run():
        yield
