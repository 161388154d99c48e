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
  end/published/also_in, abstained, related, ...). A bad request yields `{"error": <message>}`.
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

from typing import Any

import gradio as gr

from rag.settings import Settings, force_offline
from ui import render
from ui.handlers import Handlers
from ui.web_corpus import CORPUS_HEADERS, EMPTY_INDEX, REPORT_HEADERS, Collection

CONCURRENCY_LIMIT = 4  # answers computed at once; the rest wait in the queue
QUEUE_MAX_SIZE = 64  # waiting requests beyond this are refused with "queue full"
REFRESH_SECONDS = 5  # how often an open page checks whether the index changed elsewhere

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
PAGE_CSS = """
#nr-header h1 { margin-bottom: 0; }
#nr-chat { min-height: 420px; }
#nr-empty { padding: 0.5rem 0.8rem; border-left: 4px solid #d97706; background: rgba(217, 119, 6, 0.08); }
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


def build_app(assistant) -> gr.Blocks:
    """The whole UI around one Assistant (created once by the caller and shared by every session)."""
    force_offline()
    h, col = Handlers(assistant), Collection(assistant)
    first = col.snapshot()

    # ------------------------------------------------------------------------------ layout
    with gr.Blocks(title="newsrag", analytics_enabled=False) as demo:
        turns_state = gr.State([])  # [{"role", "content" (raw, for the assistant), "shown" (escaped)}]
        spans_state = gr.State([])  # what the last answer cited / related, for highlighting articles
        asked_state = gr.State("")  # the question being answered (the box is emptied when it is sent)
        index_state = gr.State(first["signature"])  # signature of the document list the page shows
        with gr.Row(elem_id="nr-header"):
            gr.Markdown("# newsrag\nAnswers from the indexed news articles, quoted verbatim with numbered sources.")
        status_html = gr.HTML(first["status"], elem_id="nr-status")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        empty_note = gr.Markdown(EMPTY_INDEX, elem_id="nr-empty", visible=not first["sources"])
                        chatbot = gr.Chatbot(
                            elem_id="nr-chat", label="Conversation", height=460,
                            render_markdown=False, sanitize_html=True, allow_tags=False, latex_delimiters=[],
                            buttons=["copy"], feedback_options=None, allow_file_downloads=False,
                            placeholder="Ask about the news articles in the index. Every answer quotes them "
                            "verbatim; the numbers in brackets point to the sources.",
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                elem_id="nr-question", show_label=False, scale=5, lines=1, max_lines=4,
                                placeholder="Ask a question about the articles…", autofocus=True,
                            )
                            send = gr.Button("Send", variant="primary", scale=1, elem_id="nr-send", min_width=80)
                        with gr.Accordion("Filters: which articles to search", open=False, elem_id="nr-filters"):
                            pick_sources = gr.Dropdown(
                                choices=first["sources"], value=[], multiselect=True, elem_id="nr-filter-sources",
                                label="Only these documents", info="Empty = all documents.",
                            )
                            with gr.Row():
                                since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD", elem_id="nr-since")
                                until = gr.Textbox(label="Published until", placeholder="YYYY-MM-DD", elem_id="nr-until")
                        with gr.Row():
                            clear_btn = gr.Button("Clear conversation", size="sm", elem_id="nr-clear")
                        examples = gr.Dataset(
                            components=[question], samples=first["examples"], label="Example questions",
                            elem_id="nr-examples", visible=bool(first["examples"]),
                        )
                    with gr.Column(scale=2):
                        sources_html = gr.HTML(
                            render.sources_panel(None), elem_id="nr-sources",
                            css_template=render.PANEL_CSS, js_on_load=OPEN_JS,
                        )
                        related_html = gr.HTML(
                            "", elem_id="nr-related", css_template=render.PANEL_CSS, js_on_load=OPEN_JS,
                        )
                        article_html = gr.HTML(
                            "", elem_id="nr-article", css_template=render.PANEL_CSS, js_on_load=ARTICLE_JS,
                        )
            with gr.Tab("Corpus", id="corpus"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        upload_box = gr.File(
                            file_count="multiple", label="Add articles: drop .txt, .md, .html or .pdf files here",
                            elem_id="nr-upload", height=140,
                        )
                    with gr.Column(scale=2):
                        remove_pick = gr.Dropdown(
                            choices=first["sources"], value=[], multiselect=True, elem_id="nr-remove-pick",
                            label="Documents to remove", info="Pick here or click a row of the list below.",
                        )
                        remove_btn = gr.Button("Remove selected", variant="stop", elem_id="nr-remove")
                changes = gr.Dataframe(
                    headers=REPORT_HEADERS, value=None, label="Last change, per file", interactive=False,
                    wrap=True, elem_id="nr-changes", column_count=len(REPORT_HEADERS),
                    column_widths=["30%", "15%", "55%"],
                )
                report_box = gr.Textbox(label="Last change", lines=3, interactive=False, elem_id="nr-report")
                corpus_df = gr.Dataframe(
                    first["rows"], headers=CORPUS_HEADERS, datatype=["str", "str", "str", "number", "str"],
                    label="Indexed documents", interactive=False, wrap=True, elem_id="nr-corpus",
                    column_count=len(CORPUS_HEADERS), show_search="search", max_height=600,
                    column_widths=["22%", "36%", "12%", "8%", "22%"],
                )
                reindex_btn = gr.Button("Re-index corpus folder", variant="secondary", elem_id="nr-reindex")
        timer = gr.Timer(REFRESH_SECONDS)

        # Public API (documented in the module docstring).
        gr.api(h.ask, api_name="ask", concurrency_id="answer")
        gr.api(h.open_citation, api_name="open_citation", queue=False)
        gr.api(h.corpus, api_name="corpus", queue=False)

        # The chat: the question shows at once with a pending reply, then the answer streams in.
        chat_outputs = [chatbot, question, sources_html, related_html, article_html, turns_state, spans_state]
        gr.on(
            [question.submit, send.click], h.start, [question, turns_state], chat_outputs + [asked_state],
            api_visibility="private", queue=False,
        ).then(
            h.respond, [asked_state, turns_state, pick_sources, since, until], chat_outputs,
            api_visibility="private", show_progress="hidden", concurrency_id="answer",
        )
        clear_btn.click(h.clear, None, chat_outputs, api_visibility="private", queue=False)
        chatbot.clear(h.clear, None, chat_outputs, api_visibility="private", queue=False)  # its trash icon
        for panel in (sources_html, related_html):
            panel.open_source(h.open_in_page, [spans_state], article_html, api_visibility="private", queue=False)
        examples.click(lambda sample: sample[0] if isinstance(sample, list) else sample, examples, question,
                       api_visibility="private", queue=False)

        # The collection: every change redraws whatever follows the document list.
        page_outputs = [index_state, status_html, corpus_df, remove_pick, pick_sources, examples, empty_note]
        upload_box.upload(
            col.upload, [upload_box, remove_pick, pick_sources], [changes, report_box, upload_box] + page_outputs,
            api_name="upload", concurrency_limit=1, concurrency_id="ingest", show_progress="full",
        )
        remove_btn.click(
            col.remove, [remove_pick, pick_sources], [changes, report_box] + page_outputs,
            api_name="remove", concurrency_limit=1, concurrency_id="ingest", show_progress="full",
        )
        corpus_df.select(col.pick_row, [remove_pick], remove_pick, api_visibility="private", queue=False)
        reindex_btn.click(
            h.reindex, None, report_box, api_name="reindex", concurrency_limit=1, concurrency_id="ingest",
        ).then(col.page, [remove_pick, pick_sources], page_outputs, api_visibility="private", show_progress="hidden")
        timer.tick(
            col.refresh_if_changed, [index_state, remove_pick, pick_sources], page_outputs,
            api_visibility="private", queue=False, show_progress="hidden",
        )
        demo.load(col.page, None, page_outputs, api_visibility="private", queue=False)

    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_MAX_SIZE)
    return demo
