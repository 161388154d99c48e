"""The Gradio UI over one shared `Assistant`: ask (with filters), and manage the collection.

`build_app(assistant)` returns the `gr.Blocks`; `ui.server.serve` mounts it beside the /v1 API,
offline (no share link, no analytics, no run history, no external fonts). `launch_options()` is
the set of launch arguments for anyone launching the Blocks themselves (the tests do).

Named API endpoints (stable; call them with `gradio_client.Client(url).predict(..., api_name=...)`):

- `/ask` (question: str, history: list of {"role": "user"|"assistant", "content": str}, or that
  list as a JSON string, or null; sources: list of document names or null; since, until: ISO dates
  or null) -> dict. A generator: while the answer streams it yields
  `{"partial": true, "text": <answer so far>}`; the last value is `Answer.to_dict()` plus
  `"partial": false` (direct, text, time_range, citations with chunk_id/source/title/quote/start/
  end/published/also_in, abstained, related, a briefing's topic and coverage, ...). A bad request
  yields `{"error": <message>}`.
- `/open_citation` (citation_id: str) -> dict `{"chunk_id", "source", "title", "url", "text"}` for
  a citation id (the opaque `chunk_id` of a citation or related passage), or `{"error": ...}`.
  Ids are only ever looked up in the index manifest, never used as paths.
- `/corpus` () -> dict `{"status": {...}, "documents": [Assistant.documents() rows]}`.
- `/reindex` () -> str: re-indexes the corpus folder (incremental) and returns the report summary.
- `/upload` (files: list of `gradio_client.handle_file(...)`) -> the page's outputs; the first is
  the per-file report `{"headers": ["File", "Result", "Detail"], "data": [...]}`, the second the
  summary text. `/remove` (sources: list of document names) -> the same two first outputs.

Everything else the page uses is private to the page.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import gradio as gr

from rag.settings import Settings, force_offline
from ui import conversations, render
from ui.handlers import Handlers
from ui.web_corpus import CORPUS_HEADERS, EMPTY_INDEX, REPORT_HEADERS, Collection, example_messages

if TYPE_CHECKING:  # types only: ui imports no engine internals at run time
    from rag.facade import AssistantAPI

# Clicks on a card's "Open full article" button become an `open_source` event carrying the opaque id.
OPEN_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('[data-cid]');
  if (button && element.contains(button)) {
    event.preventDefault();
    trigger('open_source', {cid: button.getAttribute('data-cid')});
  }
});
"""
# Bring the first highlighted passage of an opened article into view.
ARTICLE_JS = """
watch('value', () => {
  const mark = element.querySelector('mark');
  if (mark) mark.scrollIntoView({block: 'center', behavior: 'smooth'});
});
"""
CHAT_HEIGHT = 420  # px: the question box under it stays in a 720 px-high window
PAGE_CSS = """
#nr-header h1 { margin-bottom: 0; }
#nr-chat { min-height: 420px; }
#nr-empty { padding: 0.5rem 0.8rem; border-left: 4px solid #d97706; background: rgba(217, 119, 6, 0.08); }
.nr-tl .nr-derived, .nr-tl .nr-file, .nr-tl .nr-event-label { font-weight: normal; font-size: 0.85em; opacity: 0.75; }
.nr-tl { list-style: none; margin: 0.4rem 0 0.2rem 0.3rem; padding: 0 0 0 1rem; border-left: 2px solid #93c5fd; }
.nr-tl-item { position: relative; margin: 0 0 0.7rem 0; }
.nr-tl-item::before { content: ""; position: absolute; left: -1.42rem; top: 0.35rem; width: 0.7rem; height: 0.7rem;
  border-radius: 50%; background: #2563eb; }
.nr-tl-item time { display: block; font-size: 0.85em; font-weight: 600; color: #1d4ed8; }
.nr-tl-also { font-size: 0.85em; opacity: 0.75; }
.nr-tl-body { margin-top: 0.15rem; }
"""


def offline_theme() -> gr.themes.Base:
    """The default look with system fonts only: nothing is fetched from a font service.

    Plain strings go into the CSS unquoted (a `gr.themes.Font("system-ui")` would be quoted and so
    name a font family called "system-ui" instead of the generic one); no GoogleFont, no LocalFont.
    """
    return gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def launch_options(settings: Settings | None = None) -> dict[str, Any]:
    max_upload = (settings or Settings()).max_file_bytes  # bigger uploads are refused before they land
    return {
        "share": False,
        "theme": offline_theme(),
        "css": PAGE_CSS,
        "ssr_mode": False,
        "run_history": False,  # its page can connect a Hugging Face bucket: not for an offline tool
        "footer_links": ["api", "settings"],
        "show_error": False,  # unexpected errors never reach the page with their details
        "enable_monitoring": False,
        "max_file_size": max_upload,
    }


def build_app(assistant: AssistantAPI) -> gr.Blocks:
    """The whole UI around one Assistant (created once by the caller and shared by every session).

    Its limits (answers at once, queue length, refresh period) are `assistant.settings`' `ui_*`."""
    force_offline()
    settings = assistant.settings
    h, col = Handlers(assistant), Collection(assistant)
    first = col.snapshot()
    with gr.Blocks(title="newsrag", analytics_enabled=False) as demo:
        page = SimpleNamespace(
            turns=gr.State([]),  # [{"role", "content" (raw, for the assistant), "shown" (escaped)}]
            spans=gr.State([]),  # what the last answer cited / related, for highlighting articles
            asked=gr.State(""),  # the question being answered (the box is emptied when it is sent)
            index=gr.State(first["signature"]),  # signature of the document list the page shows
            # Conversations live in this browser's storage (each browser its own), across reloads.
            store=gr.BrowserState(conversations.EMPTY, storage_key="newsrag-conversations",
                                  secret=f"newsrag:{settings.index.data_dir}"),
            conv_id=gr.State(None),  # the conversation on screen, once it has an answer
        )
        with gr.Row(elem_id="nr-header"):
            gr.Markdown("# newsrag\nAnswers from the indexed news articles, quoted verbatim with numbered sources.")
        page.status = gr.HTML(first["status"], elem_id="nr-status")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                _ask_tab(page, first)
            with gr.Tab("Corpus", id="corpus"):
                _corpus_tab(page, first)
        page.timer = gr.Timer(settings.ui_refresh_seconds)
        answered = _wire_chat(page, h)
        _wire_conversations(demo, page, h, answered)
        _wire_topics(demo, page, h)
        _wire_collection(demo, page, h, col)
    demo.queue(default_concurrency_limit=settings.ui_max_concurrent, max_size=settings.ui_max_queued)
    return demo


# ------------------------------------------------------------------------------------ layout
def _ask_tab(page: SimpleNamespace, first: dict[str, Any]) -> None:
    """The chat (its examples inside while it is empty), the question box, the filters; the source panels beside them."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            page.empty_note = gr.Markdown(EMPTY_INDEX, elem_id="nr-empty", visible=not first["sources"])
            # No floating label: it sat over the chat's scrolled text (the chat needs no caption).
            page.chatbot = gr.Chatbot(
                elem_id="nr-chat", label="Conversation", show_label=False, height=CHAT_HEIGHT,
                render_markdown=False, sanitize_html=True, allow_tags=False, latex_delimiters=[],
                buttons=["copy"], feedback_options=None, allow_file_downloads=False,
                placeholder="Ask about the news articles in the index, or try a question below. Every answer "
                "quotes them verbatim; the numbers in brackets point to the sources.",
                # In the empty chat, where a newcomer looks first at any window size; a click asks.
                examples=example_messages(first["examples"]),
            )
            page.examples = page.chatbot  # what the collection's changes redraw (ui.web_corpus)
            with gr.Row():
                page.question = gr.Textbox(
                    elem_id="nr-question", show_label=False, scale=5, lines=1, max_lines=4,
                    placeholder="Ask about the articles…", autofocus=True,  # short: a phone shows it whole
                )
                page.send = gr.Button("Send", variant="primary", scale=1, elem_id="nr-send", min_width=80)
            _briefing_extras(page)
            _filters(page, first)
            with gr.Row():
                page.clear = gr.Button("Clear conversation", size="sm", elem_id="nr-clear")
            _conversation_panel(page)
        with gr.Column(scale=2):
            page.sources = gr.HTML(
                render.sources_panel(None), elem_id="nr-sources", css_template=render.PANEL_CSS, js_on_load=OPEN_JS,
            )
            page.related = gr.HTML("", elem_id="nr-related", css_template=render.PANEL_CSS, js_on_load=OPEN_JS)
            page.article = gr.HTML("", elem_id="nr-article", css_template=render.PANEL_CSS, js_on_load=ARTICLE_JS)


def _briefing_extras(page: SimpleNamespace) -> None:
    """Under a briefing: how many of its stories appeared per day or week, and Follow for its topic.
    Then What's new: its title counts the followed topics' new stories; opening it shows them."""
    page.topic = gr.State(None)  # the last briefing's topic, for Follow
    page.coverage = gr.BarPlot(
        value=None, x="when", y="stories", visible=False, elem_id="nr-coverage",
        y_title="stories", label="Coverage", show_label=True, tooltip=["when", "stories"],
    )
    page.follow = gr.Button("Follow", visible=False, size="sm", elem_id="nr-follow")
    with gr.Accordion(render.whats_new_label([]), open=False, elem_id="nr-whatsnew") as page.whatsnew:
        page.digest = gr.HTML("", elem_id="nr-digest")
        page.refresh_digest = gr.Button("Refresh", size="sm", elem_id="nr-refresh-digest")


def _conversation_panel(page: SimpleNamespace) -> None:
    """Past conversations of this browser: reopen, delete, export (with every citation)."""
    with gr.Accordion("Conversations", open=False, elem_id="nr-conversations"):
        page.past = gr.Dropdown(choices=[], value=None, label="Past conversations (this browser)", elem_id="nr-past")
        with gr.Row():
            page.open_past = gr.Button("Open", size="sm", elem_id="nr-open-past")
            page.delete_past = gr.Button("Delete", size="sm", variant="stop", elem_id="nr-delete-past")
            page.export_md = gr.Button("Export Markdown", size="sm", elem_id="nr-export-md")
            page.export_json = gr.Button("Export JSON", size="sm", elem_id="nr-export-json")
        page.export_file = gr.File(label="Export", interactive=False, elem_id="nr-export-file", height=90)


def _filters(page: SimpleNamespace, first: dict[str, Any]) -> None:
    with gr.Accordion("Filters: which articles to search", open=False, elem_id="nr-filters"):
        page.pick_sources = gr.Dropdown(
            choices=first["sources"], value=[], multiselect=True, elem_id="nr-filter-sources",
            label="Only these documents", info="Empty = all documents.",
        )
        with gr.Row():
            page.since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD", elem_id="nr-since")
            page.until = gr.Textbox(label="Published until", placeholder="YYYY-MM-DD", elem_id="nr-until")


def _corpus_tab(page: SimpleNamespace, first: dict[str, Any]) -> None:
    """Upload and remove, the last change per file, the document list, re-index."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            page.upload = gr.File(
                file_count="multiple", label="Add articles: drop .txt, .md, .html or .pdf files here",
                elem_id="nr-upload", height=140,
            )
        with gr.Column(scale=2):
            page.remove_pick = gr.Dropdown(
                choices=first["sources"], value=[], multiselect=True, elem_id="nr-remove-pick",
                label="Documents to remove", info="Pick here or click a row of the list below.",
            )
            page.remove = gr.Button("Remove selected", variant="stop", elem_id="nr-remove")
    page.changes = gr.Dataframe(
        headers=REPORT_HEADERS, value=None, label="Last change, per file", interactive=False,
        wrap=True, elem_id="nr-changes", column_count=len(REPORT_HEADERS),
        column_widths=["30%", "15%", "55%"],
    )
    page.report = gr.Textbox(label="Last change", lines=3, interactive=False, elem_id="nr-report")
    page.corpus = gr.Dataframe(
        first["rows"], headers=CORPUS_HEADERS, datatype=["str", "str", "str", "number", "str"],
        label="Indexed documents", interactive=False, wrap=True, elem_id="nr-corpus",
        column_count=len(CORPUS_HEADERS), show_search="search", max_height=600,
        column_widths=["22%", "36%", "12%", "8%", "22%"],
    )
    page.reindex = gr.Button("Re-index corpus folder", variant="secondary", elem_id="nr-reindex")


# ------------------------------------------------------------------------------------ events
def _wire_chat(page: SimpleNamespace, h: Handlers) -> list[Any]:
    """The public API, then the chat: the question (typed, or an example clicked) shows at once
    with a pending reply, then the answer streams in. Returns the events that end with an answer."""
    gr.api(h.ask, api_name="ask", concurrency_id="answer")  # public API (the module docstring)
    gr.api(h.open_citation, api_name="open_citation", queue=False)
    gr.api(h.corpus, api_name="corpus", queue=False)

    chat_outputs = _chat_outputs(page)

    def answer(started: Any) -> Any:
        return started.then(
            h.respond, [page.asked, page.turns, page.pick_sources, page.since, page.until], chat_outputs,
            api_visibility="private", show_progress="hidden", concurrency_id="answer",
        )

    asked = gr.on([page.question.submit, page.send.click], h.start, [page.question, page.turns],
                  chat_outputs + [page.asked], api_visibility="private", queue=False)
    # An example asks at once: it goes to the box, then on as if it had been typed and sent.
    picked = page.chatbot.example_select(
        h.example_question, None, page.question, api_visibility="private", queue=False,
    ).then(h.start, [page.question, page.turns], chat_outputs + [page.asked], api_visibility="private", queue=False)
    page.clear.click(h.clear, None, chat_outputs, api_visibility="private", queue=False)
    page.chatbot.clear(h.clear, None, chat_outputs, api_visibility="private", queue=False)  # its trash icon
    for panel in (page.sources, page.related):
        panel.open_source(h.open_in_page, [page.spans], page.article, api_visibility="private", queue=False)
    return [answer(asked), answer(picked)]


def _chat_outputs(page: SimpleNamespace) -> list[Any]:
    return [page.chatbot, page.question, page.sources, page.related, page.article, page.turns, page.spans]


def _wire_conversations(demo: gr.Blocks, page: SimpleNamespace, h: Handlers, answered: list[Any]) -> None:
    """Each answer saves its conversation in the browser; a reload reopens the newest one."""
    chat = _chat_outputs(page)
    private = {"api_visibility": "private", "queue": False}

    def remember(store, conv_id, turns):
        store, conv_id = conversations.save(store, conv_id, turns)
        return store, conv_id, gr.update(choices=conversations.choices(store), value=conv_id)

    def restore(store, turns):
        """On load: the newest conversation back in the chat, unless the user has already begun one
        (the load can finish after a first question was sent); the question box is left alone."""
        newest = (conversations.conversations(store) or [None])[0]
        picker = gr.update(choices=conversations.choices(store), value=newest and newest["id"])
        if turns or newest is None:
            return picker, gr.skip(), gr.skip(), gr.skip()
        shown, _, _, _, _, kept, _ = h.reopen(newest["turns"])
        return picker, newest["id"], shown, kept

    def open_past(store, picked):
        found = conversations.find(store, picked)
        return (picked if found else None, *h.reopen(found["turns"] if found else []))

    def delete_past(store, picked, conv_id):
        store = conversations.delete(store, picked)
        return store, gr.update(choices=conversations.choices(store), value=None), None if picked == conv_id else conv_id

    def export(kind):
        def write(conv_id, turns):
            return _export_file({"id": conv_id, "title": conversations.title_of(turns or []), "turns": turns or []}, kind)
        return write

    for event in answered:
        event.then(remember, [page.store, page.conv_id, page.turns], [page.store, page.conv_id, page.past], **private)
    demo.load(restore, [page.store, page.turns], [page.past, page.conv_id, page.chatbot, page.turns], show_progress="hidden",
              **private)
    page.open_past.click(open_past, [page.store, page.past], [page.conv_id, *chat], **private)
    page.delete_past.click(delete_past, [page.store, page.past, page.conv_id], [page.store, page.past, page.conv_id], **private)
    page.clear.click(lambda: None, None, page.conv_id, **private)  # the next answer starts a new conversation
    page.export_md.click(export("md"), [page.conv_id, page.turns], page.export_file, **private)
    page.export_json.click(export("json"), [page.conv_id, page.turns], page.export_file, **private)


def _wire_topics(demo: gr.Blocks, page: SimpleNamespace, h: Handlers) -> None:
    """Whatever puts an answer in the chat (asked, reopened, cleared) redraws what sits under it;
    What's new keeps its count current (the index may grow elsewhere: an upload, `serve --watch`)."""
    private = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}
    page.turns.change(h.briefing_extras, page.turns, [page.coverage, page.follow, page.topic], **private)
    page.follow.click(h.follow, page.topic, [page.follow, page.whatsnew], **private)
    for opened in (page.whatsnew.expand, page.refresh_digest.click):
        opened(h.whats_new, None, [page.digest, page.whatsnew], api_visibility="private", show_progress="minimal")
    page.timer.tick(h.whats_new_count, page.index, page.whatsnew, **private)
    demo.load(h.whats_new_count, None, page.whatsnew, **private)


def _export_file(conv: dict[str, Any], kind: str) -> str | None:
    """The conversation written to a temporary file the page offers for download."""
    import tempfile

    if not conv["turns"]:
        return None
    text = conversations.to_markdown(conv) if kind == "md" else conversations.to_json(conv)
    folder = tempfile.mkdtemp(prefix="newsrag-export-")
    path = f"{folder}/newsrag-conversation.{kind}"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def _wire_collection(demo: gr.Blocks, page: SimpleNamespace, h: Handlers, col: Collection) -> None:
    """The collection: every change redraws whatever follows the document list."""
    page_outputs = [page.index, page.status, page.corpus, page.remove_pick, page.pick_sources, page.examples,
                    page.empty_note]
    page.upload.upload(
        col.upload, [page.upload, page.remove_pick, page.pick_sources], [page.changes, page.report, page.upload] + page_outputs,
        api_name="upload", concurrency_limit=1, concurrency_id="ingest", show_progress="full",
    )
    page.remove.click(
        col.remove, [page.remove_pick, page.pick_sources], [page.changes, page.report] + page_outputs,
        api_name="remove", concurrency_limit=1, concurrency_id="ingest", show_progress="full",
    )
    page.corpus.select(col.pick_row, [page.remove_pick], page.remove_pick, api_visibility="private", queue=False)
    page.reindex.click(
        h.reindex, None, page.report, api_name="reindex", concurrency_limit=1, concurrency_id="ingest",
    ).then(col.page, [page.remove_pick, page.pick_sources], page_outputs, api_visibility="private", show_progress="hidden")
    page.timer.tick(
        col.refresh_if_changed, [page.index, page.remove_pick, page.pick_sources], page_outputs,
        api_visibility="private", queue=False, show_progress="hidden",
    )
    # No "Loading…" over the chat (its examples are among the outputs) while the page opens.
    demo.load(col.page, None, page_outputs, api_visibility="private", queue=False, show_progress="hidden")
