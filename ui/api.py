"""The OpenAI-compatible `/v1` HTTP API over one shared `Assistant`.

`add_api(app, assistant, slots)` installs the routes on a FastAPI app; `ui.server` adds the key
check, the error handlers (every error is OpenAI's JSON shape `{"error": {"message", "type",
"param", "code"}}`, never a traceback) and mounts the Gradio UI beside it.

- `GET /v1/models`: `newsrag` (extractive) and, when an LLM is configured, `newsrag-llm`.
- `POST /v1/chat/completions`: the last user message is the question, the turns before it the
  history; `content` is the answer text with `[n]` markers; top-level `citations`, `abstained`,
  `direct`, `notice`. `stream: true` sends chunks, the last one carrying those fields, then `[DONE]`.
  Extra body fields `sources` (list of source names), `since`, `until` (ISO dates) filter retrieval.
- `POST /v1/search`: retrieval only; `GET|POST /v1/documents`, `DELETE /v1/documents/{source}`.
- Followed topics: `GET /v1/topics`, `POST /v1/topics` `{"topic": ...}`, `DELETE /v1/topics/{topic}`
  (the topic URL-encoded), `GET /v1/digest[?topic=...]` (marks what it returns as seen).
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from rag.errors import InvalidRequest, NotFound
from rag.types import Answer
from ui.errors import api_error

if TYPE_CHECKING:
    from rag.evidence import RetrievedPassage
    from rag.facade import AssistantAPI

MODEL = "newsrag"
LLM_MODEL = "newsrag-llm"
PREFIX = "/v1"
CITATION_FIELDS = ("marker", "source", "title", "quote", "start", "end", "published", "url", "corroborated_by")
PRIVATE_DOC_FIELDS = ("path", "origin", "content_hash")  # server paths and internals stay on the server


# ------------------------------------------------------------------------------------ requests
class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Filters(_Body):
    sources: list[str] | None = Field(None, max_length=1000, description="Only these documents.")
    since: date | None = Field(None, description="Only articles published on or after this date.")
    until: date | None = Field(None, description="Only articles published on or before this date.")

    def keywords(self) -> dict[str, Any]:
        """The filters that were given, as the engine's keyword arguments (dates as ISO strings)."""
        given = {"sources": self.sources, "since": self.since, "until": self.until}
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in given.items() if v is not None}


class ChatMessage(_Body):
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # OpenAI content parts: keep the text ones
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(Filters):
    model: str = MODEL
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    temperature: float | None = None  # accepted and ignored: the default answerer is not sampled


class TopicRequest(_Body):
    topic: str = Field(..., description="The story to follow, e.g. 'Vale Line rail link'.")


class SearchRequest(Filters):
    query: str = Field(..., min_length=1)
    top_k: int | None = Field(None, ge=1, le=50)


def body_limit(settings: Any, method: str, path: str) -> int:
    """The most a request body may hold (413 beyond): uploads get more room than JSON requests."""
    if method == "POST" and path == PREFIX + "/documents":
        return settings.api_max_upload_bytes
    return settings.api_max_body_bytes


def conversation(messages: list[ChatMessage]) -> tuple[str, list[dict]]:
    """(question, history): the last user message and the user/assistant turns before it."""
    turns = [m for m in messages if m.role in ("user", "assistant")]  # system prompts do not steer retrieval
    if not turns or turns[-1].role != "user":
        raise InvalidRequest("the last message must be a 'user' message with the question")
    history = [{"role": m.role, "content": m.text()} for m in turns[:-1]]
    return turns[-1].text(), history


def with_filters(method: Callable, filters: dict[str, Any]) -> Callable:
    """The engine method, refusing filters it does not take (rather than failing deep inside)."""
    accepted = inspect.signature(method).parameters
    unsupported = [name for name in filters if name not in accepted]
    if unsupported:
        raise InvalidRequest(f"this server cannot filter by {', '.join(unsupported)} yet")
    return method


# ------------------------------------------------------------------------------------ responses
def answer_fields(answer: Answer) -> dict[str, Any]:
    return {
        "citations": [{k: v for k, v in c.to_dict().items() if k in CITATION_FIELDS} for c in answer.citations],
        "abstained": answer.abstained,
        "direct": answer.direct,
        "notice": answer.notice or None,
        # "briefing": an open question's dated stories, in the order the answer promises.
        "kind": answer.kind,
        "items": [item.to_dict() for item in answer.items],
        # A briefing's topic (to follow it: POST /v1/topics) and its stories per day or week.
        "topic": answer.topic,
        "coverage": answer.coverage.to_dict() if answer.coverage else None,
    }


def content_of(answer: Answer) -> str:
    """The message content: the direct answer first when there is one (an OpenAI client such as
    Open WebUI shows only `content`), then the cited text."""
    if answer.direct and not answer.abstained:
        return f"{answer.direct}\n\n{answer.text}"
    return answer.text


def article_link(source: str, url: str | None) -> str:
    """The article's URL, or a stable `newsrag://` link for a file that has none."""
    return url or f"newsrag://{source}"


def annotations(answer: Answer, content: str) -> list[dict[str, Any]]:
    """OpenAI `url_citation` annotations: each `[n]` marker in `content`, with its citation's link."""
    by_marker = {c.marker: c for c in answer.citations}
    found = []
    for match in re.finditer(r"\[(\d+)\]", content):
        citation = by_marker.get(int(match.group(1)))
        if citation is not None:
            found.append({"type": "url_citation", "url_citation": {
                "start_index": match.start(), "end_index": match.end(),
                "url": article_link(citation.source, citation.url), "title": citation.title or citation.source}})
    return found


def completion(answer: Answer, model: str) -> dict[str, Any]:
    content = content_of(answer)
    message = {"role": "assistant", "content": content, "annotations": annotations(answer, content)}
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        **answer_fields(answer),
    }


def deltas(pieces: Iterable[str]) -> Iterator[str]:
    """The engine's pieces as word-sized deltas; trailing space is held back, so the deltas join to
    the answer text rather than to the text plus a stray space."""
    held = ""
    for piece in pieces:
        text = held + piece
        body = text.rstrip()
        held = text[len(body):]
        yield from re.findall(r"\s*\S+", body)


def sse(data: dict[str, Any] | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def events(first: str | Answer | None, rest: Iterator[str | Answer]) -> Iterator[str | Answer]:
    """The engine's stream (its first item already computed) as word deltas, then the Answer."""
    answer: Answer | None = None

    def texts() -> Iterator[str]:
        nonlocal answer
        for piece in itertools.chain([first], rest):
            if isinstance(piece, Answer):
                answer = piece
            elif piece:
                yield piece

    yield from deltas(texts())
    if answer is not None:
        yield answer


async def completion_stream(
    first: str | Answer | None, rest: Iterator[str | Answer], model: str, release: Callable[[], None]
) -> AsyncIterator[str]:
    """OpenAI chunk events: the role, the content in pieces, then the citations, then [DONE]."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}

    def chunk(delta: dict, finish: str | None = None, **extra: Any) -> str:
        return sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra})

    try:
        yield chunk({"role": "assistant", "content": ""})
        answer: Answer | None = None
        async for item in iterate_in_threadpool(events(first, rest)):
            if isinstance(item, Answer):
                answer = item
            else:
                yield chunk({"content": item})
        if answer is None:
            raise RuntimeError("the engine's stream ended without an Answer")
        # `text` is authoritative: an LLM answer can lose unverified sentences after they streamed.
        content = content_of(answer)
        yield chunk({"annotations": annotations(answer, content)}, "stop", text=answer.text, **answer_fields(answer))
        yield sse("[DONE]")
    except Exception as exc:  # noqa: BLE001 - the stream has started: the error is its last event
        yield sse(api_error(exc, "streamed answer")[1])
    finally:
        release()


# ------------------------------------------------------------------------------------ routes
def add_api(app: FastAPI, assistant: AssistantAPI, slots: Any) -> None:
    """The /v1 routes; `slots` (ui.server.Slots) bounds the work running at once."""
    router = APIRouter(prefix=PREFIX, strict_content_type=False)  # body limits: ui.server.ApiGuard
    _model_routes(router, assistant, slots)
    _search_route(router, assistant, slots)
    _document_routes(router, assistant, slots)
    _topic_routes(router, assistant, slots)
    app.include_router(router)
    _unrouted(app, router)


HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _unrouted(app: FastAPI, router: APIRouter) -> None:
    """Every /v1 path no route takes ends here, as a 404, or a 405 naming the methods it allows.

    Without it the page, mounted at `/` after these routes, takes them and answers in its own
    shape; this route comes first, and its HTTPException gets OpenAI's shape in ui.server."""

    async def unrouted(request: Request) -> None:
        allowed = allowed_methods(router.routes, request.scope)
        if allowed:
            raise StarletteHTTPException(405, headers={"Allow": ", ".join(allowed)})
        raise StarletteHTTPException(404)

    for path in (PREFIX, PREFIX + "/{rest:path}"):
        app.router.add_route(path, unrouted, methods=HTTP_METHODS, include_in_schema=False)


def allowed_methods(routes: Iterable[Any], scope: Scope) -> list[str]:
    """The methods these routes take on the scope's path (none: no route has that path)."""
    allowed: set[str] = set()
    for route in routes:
        if route.matches(scope)[0] is not Match.NONE:
            allowed |= set(getattr(route, "methods", None) or ())
    return sorted(allowed)


async def guarded(slots: Any, work: Callable[[], Any]) -> Any:
    """`work` on a thread once a slot is free (429 at once when the queue is full too)."""
    release = await slots.acquire()
    try:
        return await run_in_threadpool(work)
    finally:
        release()


def _model_routes(router: APIRouter, assistant: AssistantAPI, slots: Any) -> None:
    """GET /models and POST /chat/completions (whole or streamed)."""
    settings = assistant.settings
    created = int(time.time())

    def models() -> list[str]:
        return [MODEL, LLM_MODEL] if settings.llm_configured else [MODEL]

    def mode_of(model: str) -> Literal["extractive", "llm"]:
        if model not in models():
            raise NotFound(f"unknown model '{model}'; use one of: {', '.join(models())}")
        return "llm" if model == LLM_MODEL else "extractive"

    @router.get("/models")
    async def list_models() -> dict:
        return {"object": "list",
                "data": [{"id": m, "object": "model", "created": created, "owned_by": "newsrag"} for m in models()]}

    @router.post("/chat/completions", response_model=None)
    async def chat(body: ChatRequest) -> dict | StreamingResponse:
        mode = mode_of(body.model)
        question, history = conversation(body.messages)
        filters = body.keywords()
        if not body.stream:
            ask = with_filters(assistant.ask, filters)
            answer = await guarded(slots, lambda: ask(question, history, mode, **filters))
            return completion(answer, body.model)
        stream = with_filters(assistant.stream, filters)
        return await _streamed(slots, lambda: stream(question, history, mode, **filters), body.model, mode)


async def _streamed(slots: Any, start: Callable[[], Iterator[str | Answer]], model: str, mode: str) -> StreamingResponse:
    """The answer as server-sent events; its slot is held until the stream ends."""
    release = await slots.acquire()
    try:
        pieces = start()
        # The first piece is computed before the response starts, so a bad question is a 400.
        first = await run_in_threadpool(next, pieces, None)
        if mode == "extractive":
            # An extractive answer is whole once its first piece exists: stream its content with
            # the direct answer leading, exactly as the non-streamed message reads.
            rest = await run_in_threadpool(list, pieces)
            answer = next((item for item in rest if isinstance(item, Answer)), None)
            if answer is not None:
                first, pieces = content_of(answer), iter([answer])
            else:
                pieces = iter(rest)
    except BaseException:
        release()
        raise
    return SlotStream(
        completion_stream(first, pieces, model, release), release, media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


class SlotStream(StreamingResponse):
    """A streamed answer that gives its slot back however the response ends. The stream's own
    `finally` is not enough: when sending the headers fails or is cancelled (the client gone while
    its connection was still draining), the body generator never starts, its `finally` never runs,
    and the slot would be lost for good: after enough of those every request is a 429."""

    def __init__(self, content: AsyncIterator[str], release: Callable[[], None], **options: Any) -> None:
        super().__init__(content, **options)
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


def search_row(rank: int, hit: "RetrievedPassage") -> dict[str, Any]:
    """One /v1/search result: a retrieved passage as the API shows it."""
    return {"rank": rank, "score": hit.score, "chunk_id": hit.chunk_id, "source": hit.source,
            "title": hit.title, "published": hit.published, "url": hit.url,
            "text": hit.text, "start": hit.start, "end": hit.end}


def _search_route(router: APIRouter, assistant: AssistantAPI, slots: Any) -> None:
    @router.post("/search")
    async def search(body: SearchRequest) -> dict:
        filters = body.keywords()
        retrieve = with_filters(assistant.retrieve, filters)
        hits = await guarded(slots, lambda: retrieve(body.query, top_k=body.top_k, **filters))
        return {"object": "list", "query": body.query, "data": [search_row(i + 1, hit) for i, hit in enumerate(hits)]}


def _document_routes(router: APIRouter, assistant: AssistantAPI, slots: Any) -> None:
    """GET and POST /documents, DELETE /documents/{source}."""

    @router.get("/documents")
    async def documents() -> dict:
        rows = await run_in_threadpool(assistant.documents)
        return {"object": "list", "data": [{k: v for k, v in row.items() if k not in PRIVATE_DOC_FIELDS} for row in rows]}

    @router.post("/documents")
    async def upload(request: Request) -> dict:
        form = await request.form()
        try:
            files = [(f.filename or "", await f.read()) for _, f in form.multi_items() if hasattr(f, "read")]
        finally:
            await form.close()
        if not files:
            raise InvalidRequest("send the files as multipart/form-data fields named 'files'")
        report = await guarded(slots, lambda: assistant.upload(files))
        return {**report.to_dict(), "summary": report.summary()}

    @router.delete("/documents/{source:path}")
    async def remove(source: str) -> dict:
        report = await guarded(slots, lambda: assistant.remove([source]))
        if not report.removed:
            reason = report.skipped[0].reason if report.skipped else "not in the index"
            raise NotFound(f"{source}: {reason}")
        return {**report.to_dict(), "summary": report.summary()}


def _topic_routes(router: APIRouter, assistant: AssistantAPI, slots: Any) -> None:
    """GET and POST /topics, DELETE /topics/{topic}, GET /digest. Counting and matching new
    stories runs the models, so those take a slot; unfollowing does not."""

    @router.get("/topics")
    async def following() -> dict:
        return {"object": "list", "data": await guarded(slots, assistant.following)}

    @router.post("/topics")
    async def follow(body: TopicRequest) -> dict:
        return await guarded(slots, lambda: assistant.follow(body.topic))

    @router.delete("/topics/{topic:path}")
    async def unfollow(topic: str) -> dict:
        return await run_in_threadpool(assistant.unfollow, topic)

    @router.get("/digest")
    async def digest(topic: str | None = None) -> dict:
        return await guarded(slots, lambda: assistant.digest(topic))
