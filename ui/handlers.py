"""What the UI's events and API endpoints do, over one shared Assistant. No Gradio layout here.

Errors are shown as `rag.errors.present` words them (through `ui.errors.page_message`); anything else is
logged and replaced by a generic message, so no traceback reaches a page or an API client.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import gradio as gr

from rag.errors import InvalidRequest, NewsragError
from rag.topics import TOPICS_FILE, topic_key
from rag.types import Answer
from ui import render
from ui.errors import page_message

if TYPE_CHECKING:  # types only: ui imports no engine internals at run time
    from rag.facade import AssistantAPI

MAX_CITATION_ID_CHARS = 128
INTERNAL_ERROR = "Something went wrong while answering; please try again."
NO_CITATION = "no such citation in the index"
PUBLIC_STATUS = ("documents", "chunks", "embedding_model", "indexed_with", "retriever", "mode")


def parse_history(history: Any) -> list[dict]:
    """History as given to /ask: a list, a JSON string of a list, or nothing."""
    if history in (None, ""):
        return []
    if isinstance(history, str):
        try:
            history = json.loads(history)
        except ValueError as exc:
            raise InvalidRequest("history must be a JSON list of {'role', 'content'} objects") from exc
    if history is None:
        return []
    if not isinstance(history, list):
        raise InvalidRequest("history must be a list of {'role', 'content'} objects")
    return history  # items are checked by Assistant.stream


def filters(sources: Any = None, since: Any = None, until: Any = None) -> dict[str, Any]:
    """The keyword filters for Assistant.stream, only those set: sources (names), since/until (ISO dates)."""
    out: dict[str, Any] = {}
    if isinstance(sources, str):
        sources = [sources]
    if sources:
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise InvalidRequest("sources must be a list of document names")
        out["sources"] = [s for s in sources if s.strip()]
    for name, value in (("since", since), ("until", until)):
        value = (value or "").strip() if isinstance(value, str) else value
        if not value:
            continue
        try:
            out[name] = date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise InvalidRequest(f"{name} must be a date like 2025-02-01 (got {str(value)[:40]!r})") from exc
    if out.get("since") and out.get("until") and out["since"] > out["until"]:
        raise InvalidRequest("since is after until: no article can match")
    return out


def clean_citation_id(citation_id: Any) -> str | None:
    """An id worth looking up, or None. The lookup itself is only a manifest membership test."""
    if not isinstance(citation_id, str):
        return None
    citation_id = citation_id.strip()
    if not citation_id or len(citation_id) > MAX_CITATION_ID_CHARS or any(ch in citation_id for ch in "/\\%\0"):
        return None
    return citation_id


def _chat_outputs(shown, box="", sources="", related="", article="", turns=None, spans=None) -> tuple:
    """The values of (chatbot, question box, sources, related, article, turns state, spans state)."""
    return shown, box, sources, related, article, turns or [], spans or []


class Handlers:
    def __init__(self, assistant: AssistantAPI) -> None:
        self.assistant = assistant
        self._counted: tuple[Any, str] = (None, "")  # (index signature, topics file's mtime) -> What's new title

    # ------------------------------------------------------------------------------ public API
    def ask(
        self, question: str, history: list[dict] | str | None = None, sources: list[str] | None = None,
        since: str | None = None, until: str | None = None,
    ) -> Iterator[dict]:
        """Answer a question over the corpus, streaming; history is the prior turns; sources, since and
        until (ISO dates) restrict the articles searched."""
        try:
            turns = parse_history(history)
            text = ""
            for piece in self.assistant.stream(question, turns, **filters(sources, since, until)):
                if isinstance(piece, Answer):
                    yield {**piece.to_dict(), "partial": False}
                else:
                    text += piece
                    yield {"partial": True, "text": text}
        except Exception as exc:  # noqa: BLE001 - the API client gets one line, never a traceback
            yield {"error": page_message(exc, "ask", INTERNAL_ERROR)}

    def open_citation(self, citation_id: str) -> dict:
        """The whole article a citation id (a citation's or related passage's chunk_id) points into."""
        cid = clean_citation_id(citation_id)
        if cid is None:
            return {"error": NO_CITATION}
        try:
            article = self.assistant.article_for_chunk(cid)
        except NewsragError:
            return {"error": NO_CITATION}
        return {"chunk_id": cid, **article}

    def corpus(self) -> dict:
        """What is indexed (no file paths: a document's `path` stays on the server)."""
        status = self.assistant.status()
        documents = [{k: v for k, v in d.items() if k not in ("path", "content_hash")} for d in self.assistant.documents()]
        return {"status": {k: status.get(k) for k in PUBLIC_STATUS}, "documents": documents}

    def reindex(self, progress=gr.Progress()) -> str:
        """Re-index the corpus folder (incremental: new, changed and deleted files)."""
        progress(0, desc="Re-indexing the corpus…")
        try:
            report = self.assistant.ingest(progress=False)
        except Exception as exc:  # noqa: BLE001 - the page gets one line, never a traceback
            message = page_message(exc, "re-indexing", None)
            return f"Re-indexing failed: {message}" if message else "Re-indexing failed; see the server log."
        progress(1, desc="Done")
        return report.summary()

    # ------------------------------------------------------------------------------ the page
    @staticmethod
    def _shown(turns: list[dict], question: str) -> list[dict]:
        shown = [{"role": t["role"], "content": t["shown"]} for t in turns or []]
        return shown + [{"role": "user", "content": render.chat_text(question)}]

    def start(self, message: str, turns: list[dict]) -> tuple:
        """At once, before the queue: the question in the chat with a pending reply; the box emptied."""
        shown = self._shown(turns, message or "") + [{"role": "assistant", "content": render.PENDING_REPLY}]
        pending = render.sources_panel(None, pending=True)
        return (*_chat_outputs(shown, sources=pending, turns=turns), message or "")

    def respond(self, message: str, turns: list[dict], sources=None, since=None, until=None):
        """Stream one answer into the chat (replacing the pending reply), then show its sources."""
        turns = list(turns or [])  # [{"role", "content" (raw, for the assistant), "shown" (escaped HTML)}]
        history = [{"role": t["role"], "content": t["content"]} for t in turns]
        question = message or ""
        shown = self._shown(turns, question)
        pending = render.sources_panel(None, pending=True)
        turn = len(turns) // 2 + 1  # numbers this answer's source cards (see render.card_id)
        answer, text = None, ""
        try:
            for piece in self.assistant.stream(question, history, **filters(sources, since, until)):
                if isinstance(piece, Answer):
                    answer = piece
                    break
                text += piece
                partial = shown + [{"role": "assistant", "content": render.chat_text(text)}]
                # The box was emptied when the question was sent; what is typed there meanwhile stays.
                yield _chat_outputs(partial, gr.skip(), sources=pending, turns=turns)
        except Exception as exc:  # noqa: BLE001 - the chat shows one line, never a traceback
            message = page_message(exc, "answering", INTERNAL_ERROR)
            note = shown + [{"role": "assistant", "content": render.chat_text(f"⚠️ {message}")}]
            # The question stays in the box to be corrected; the failed turn is not remembered.
            yield _chat_outputs(note, question, render.sources_panel(None, failed=True), turns=turns)
            return
        assert answer is not None
        reply = render.answer_message(answer, turn)
        cited = [{"marker": c.marker, "source": c.source, "title": c.title, "quote": c.quote, "published": c.published}
                 for c in answer.citations]  # kept with the turn, so an exported conversation keeps them
        turns += [
            {"role": "user", "content": answer.question, "shown": shown[-1]["content"]},
            {"role": "assistant", "content": answer.text, "shown": reply, "direct": answer.direct, "citations": cited,
             # a briefing's, for its coverage plot and Follow button (see briefing_extras)
             "topic": answer.topic, "coverage": answer.coverage.to_dict() if answer.coverage else None},
        ]
        spans = [
            {"source": c.source, "start": c.start, "end": c.end, "quote": c.quote} for c in answer.citations
        ] + [{"source": p.source, "quote": p.text} for p in answer.related]
        yield _chat_outputs(
            shown + [{"role": "assistant", "content": reply}], gr.skip(),
            sources=render.sources_panel(answer, self.assistant.article_for_chunk, turn=turn),
            related=render.related_panel(answer),
            turns=turns,
            spans=spans,
        )

    def open_in_page(self, spans: list[dict], evt: gr.EventData) -> str:
        """A card's "Open full article": the article, with what the last answer quoted from it marked."""
        data = getattr(evt, "_data", None)
        found = self.open_citation(data.get("cid") if isinstance(data, dict) else None)
        if "error" in found:
            return render.article_view(None, error="That source is not in the index any more; re-index or ask again.")
        text = found.get("text") or ""
        marks = []
        for s in spans or []:
            if s.get("source") == found["source"]:
                span = render.locate(text, s.get("quote") or "", int(s.get("start", -1)), int(s.get("end", -1)))
                if span:
                    marks.append(span)
        return render.article_view(found, marks)

    @staticmethod
    def example_question(evt: gr.SelectData) -> str:
        """The example question clicked in the empty chat."""
        value = evt.value
        return str(value.get("text") or "") if isinstance(value, dict) else str(value or "")

    # ------------------------------------------------------------------------------ followed topics
    def briefing_extras(self, turns: list[dict]) -> tuple:
        """Under the last answer, when it is a briefing: its coverage plot, and a Follow button for
        its topic (a period alone, "what happened in March", has none); both hidden otherwise."""
        last = (turns or [{}])[-1]
        coverage, topic = last.get("coverage"), last.get("topic") or None
        frame = render.coverage_frame(coverage)
        if frame is None:
            plot = gr.update(value=None, visible=False)
        else:  # x in the bins' order (a bar plot would sort the labels alphabetically)
            top = max(int(frame["stories"].max()), render.COVERAGE_MIN_AXIS)  # whole-number ticks
            label, caption = render.coverage_caption(coverage)
            plot = gr.update(value=frame, visible=True, label=label, caption=caption, sort=list(frame["when"]),
                             x_title="week (from its Monday)" if coverage.get("unit") == "week" else "day",
                             y_lim=[0, top], x_label_angle=render.coverage_label_angle(len(frame)))
        if topic is None:
            return plot, gr.update(visible=False), None
        followed = topic_key(topic) in {topic_key(f["topic"]) for f in self._following()}
        return plot, self._follow_button(topic, followed), topic

    @staticmethod
    def _follow_button(topic: str, followed: bool) -> dict:
        label = f"Following “{topic}” ✓" if followed else f"Follow “{topic}”"
        return gr.update(value=label, visible=True, interactive=not followed)

    def _following(self) -> list[dict]:
        try:
            return self.assistant.following()
        except Exception as exc:  # noqa: BLE001 - the panel says nothing rather than break the page
            page_message(exc, "listing followed topics", None)
            return []

    def follow(self, topic: str | None) -> tuple:
        """The Follow button: follow the last briefing's topic; the What's new count starts from now."""
        if not topic:
            return gr.update(visible=False), gr.update()
        try:
            self.assistant.follow(topic)
        except Exception as exc:  # noqa: BLE001 - a one-line warning, never a traceback
            gr.Warning(page_message(exc, "following", INTERNAL_ERROR) or INTERNAL_ERROR)
            return gr.update(), gr.update()
        return self._follow_button(topic, True), self.whats_new_count()

    def whats_new_count(self, signature: str | None = None) -> dict:
        """The What's new panel's title with the count of new stories on the followed topics. The
        page's timer asks every few seconds; counting may run the cross-encoder over every new
        article, so it is counted again only when the index (`signature`, the document list the page
        shows) or the topics file (a follow or digest anywhere, the CLI too) has changed."""
        key = None
        if signature is not None:
            topics = Path(self.assistant.settings.index.data_dir) / TOPICS_FILE
            key = (signature, topics.stat().st_mtime_ns if topics.exists() else None)
            if key == self._counted[0]:
                return gr.update(label=self._counted[1])
        self._counted = (key, render.whats_new_label(self._following()))
        return gr.update(label=self._counted[1])

    def whats_new(self) -> tuple:
        """Opening (or refreshing) What's new: the digest of every followed topic, now seen."""
        try:
            digest = self.assistant.digest()
        except Exception as exc:  # noqa: BLE001 - a one-line message in the panel, never a traceback
            message = page_message(exc, "the digest", INTERNAL_ERROR) or INTERNAL_ERROR
            return f'<p class="nr-error">{render.esc(message)}</p>', self.whats_new_count()
        return render.digest_panel(digest, self._following()), self.whats_new_count()

    def clear(self) -> tuple:
        return _chat_outputs([], sources=render.sources_panel(None))

    def reopen(self, turns: list[dict]) -> tuple:
        """A saved conversation back in the chat (its answers as they were shown), ready to go on."""
        turns = list(turns or [])
        shown = [{"role": t["role"], "content": t["shown"]} for t in turns]
        return _chat_outputs(shown, sources=render.sources_panel(None), turns=turns)
