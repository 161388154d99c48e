"""HTML fragments for the UI. Every piece of article, quote, title or answer text is escaped here.

Nothing in this module emits a live link or image built from corpus or answer text: URLs are shown
as plain text, and the only markup is our own (`<mark>`, cards, buttons carrying an opaque
citation id in a `data-cid` attribute).
"""

from __future__ import annotations

import html
import re
from typing import Any, Iterable

from rag.sources.article import DERIVED_MARK, is_derived_title
from rag.types import Answer, Citation, Coverage
from ui.web_dates import date_range, human_date, time_range_text

PARAGRAPH_MAX_CHARS = 900  # longer paragraphs are trimmed around the quote
RELATED_MAX_CHARS = 600


def _inert(escaped: str) -> str:
    """`](` as `&#93;(`: it displays the same, but no markdown renderer can read a link or image
    there (CommonMark never takes a character reference as structure), should a fragment ever
    reach one. Article text like `![x](https://evil/?d=...)` stays visible and stays inert."""
    return escaped.replace("](", "&#93;(")


def esc(text: Any) -> str:
    """Escape for HTML text and attribute contexts."""
    return _inert(html.escape("" if text is None else str(text), quote=True))


def title_html(title: str | None, source: str | None = None) -> str:
    """A title, escaped. One we made from a headline-less file's first words says so, set apart,
    with the file name beside it when `source` is given (a card shows the name on its own line)."""
    title = title or ""
    if not is_derived_title(title):
        return esc(title)
    named = f' <span class="nr-file">{esc(source)}</span>' if source else ""
    return (f'{esc(title[: -len(DERIVED_MARK)])} <span class="nr-derived" title="The file has no headline: '
            f'these are its first words, not a title it gives.">{esc(DERIVED_MARK.strip())}</span>{named}')


def chat_text(text: str) -> str:
    """A chat message as safe HTML: escaped (quotes kept readable), newlines as <br>."""
    return _inert(html.escape(text or "", quote=False)).replace("\n", "<br>")


# ------------------------------------------------------------------------------------------ answers
PENDING_REPLY = '<em class="nr-pending">Searching the articles…</em>'
MARKER = re.compile(r"\[(\d+)\]")


def card_id(turn: int, marker: int) -> str:
    """The id of a source card: per answer (turn), so an older answer's markers never point at a newer card."""
    return f"nr-src-{int(turn)}-{int(marker)}"


def linked_text(text: str, markers: Iterable[int], turn: int) -> str:
    """Escaped answer text whose [n] markers (for cited n only) are anchor links to their source card."""
    known = {int(m) for m in markers}

    def link(match: re.Match) -> str:
        n = int(match.group(1))
        if n not in known:
            return match.group(0)
        return f'<a href="#{card_id(turn, n)}" title="Show source {n}">[{n}]</a>'

    return MARKER.sub(link, chat_text(text))


def _bulleted(text: str) -> bool:
    """The extractive briefing's own text (its dated bullets), not an LLM's summary of it."""
    return any(line.startswith("- ") for line in text.split("\n"))


def briefing_timeline(answer: Answer, turn: int) -> str:
    """A briefing as a dated timeline: one entry per story, its date, title and cited sentences;
    each marker opens its source card like an answer's."""
    markers = [c.marker for c in answer.citations]
    lines = answer.text.split("\n") if _bulleted(answer.text) else []
    head, tail = lines[:1], [line for line in lines[1:] if not line.startswith("- ")]
    entries = []
    for item in answer.items:
        body = " ".join(linked_text(f"{s.text} [{s.marker}]", markers, turn) for s in item.sentences)
        if item.reported:  # how widely the story was reported (rag.answering.corroboration)
            body += f' <span class="nr-tl-also">{esc(item.reported)}</span>'
        entries.append(_entry(item.published, item.event_date, item.title, item.source, item.also_in, body))
    return (f'<div class="nr-timeline">{chat_text(head[0]) if head else ""}<ol class="nr-tl">{"".join(entries)}</ol>'
            + "".join(f"<em>{chat_text(line)}</em>" for line in tail) + "</div>")


def _entry(published: str | None, event_date: str | None, title: str, source: str, also_in: list[str], body: str) -> str:
    """One story of a timeline (a briefing's or a digest's): its date, title, other copies, then `body` (HTML)."""
    also = f' <span class="nr-tl-also">(also in {esc(", ".join(also_in))})</span>' if also_in else ""
    return (f'<li class="nr-tl-item">{_stamp(published, event_date)} <strong class="nr-tl-title">'
            f'{title_html(title, source)}</strong>{also}<div class="nr-tl-body">{body}</div></li>')


def _stamp(published: str | None, event_date: str | None) -> str:
    """Its publication date; else the date its text gives, labelled an event date; else 'undated'."""
    if published:
        return f'<time datetime="{esc(published)}">{esc(human_date(published))}</time>'
    if event_date:
        return f'<time class="nr-event">{esc(event_date)} <span class="nr-event-label">(event date)</span></time>'
    return "<time>undated</time>"


def answer_message(answer: Answer, turn: int) -> str:
    """The chat bubble of a final answer: time range, the direct answer in bold, then the cited
    sentences (a briefing: its dated timeline)."""
    parts = []
    scope = time_range_text(answer.time_range)
    if scope:
        parts.append(f"<em>{esc(scope)}</em>")
    if answer.kind == "briefing" and answer.items and not answer.abstained:
        if not _bulleted(answer.text):  # an LLM's verified summary leads its timeline
            parts.append(linked_text(answer.text, [c.marker for c in answer.citations], turn))
        parts.append(briefing_timeline(answer, turn))
        if answer.notice:
            parts.append(f"<em>({chat_text(answer.notice)})</em>")
        return "<br>".join(parts)
    if answer.direct and not answer.abstained:
        parts.append(f"<strong>{chat_text(answer.direct)}</strong>")
    if answer.revision and not answer.abstained:
        parts.append(f"<em>{linked_text(answer.revision, [c.marker for c in answer.citations], turn)}</em>")
    parts.append(linked_text(answer.text, [c.marker for c in answer.citations], turn))
    if answer.abstained and answer.related:
        parts.append("<em>The closest passages are listed under “Related passages (not an answer)”.</em>")
    if answer.notice:
        parts.append(f"<em>({chat_text(answer.notice)})</em>")
    return "<br>".join(parts)


# ---------------------------------------------------------------------------------------- coverage
BARS = "▂▃▄▅▆▇█"  # a day or week with stories; "▁" is one with none, so no story is ever flat


def coverage_bars(coverage: Coverage) -> str:
    """One character per day or week, its height the share of the busiest one."""
    top = max((b.count for b in coverage.bins), default=0)
    return "".join(BARS[max(0, -(-b.count * len(BARS) // top) - 1)] if b.count else "▁" for b in coverage.bins)


def coverage_line(coverage: Coverage | None) -> str:
    """'coverage (per day, 3–12 February 2025): ▁▃█▁▅  9 stories' (and how many are undated); ""
    without a coverage."""
    if coverage is None:
        return ""
    count = f"{coverage.stories} {'story' if coverage.stories == 1 else 'stories'}"
    undated = f", {coverage.undated} undated" if coverage.undated else ""
    if not coverage.bins:
        return f"coverage: {count}, none with a publication date"
    return f"coverage (per {coverage.unit}, {coverage.span}): {coverage_bars(coverage)}  {count}{undated}"


COVERAGE_FLAT_LABELS = 6  # bars whose labels fit side by side in a phone's 390 px
COVERAGE_MIN_AXIS = 6  # the plot's y axis reaches at least this: below it, vega's ticks fall between whole stories


def coverage_frame(coverage: dict[str, Any] | None) -> Any:
    """The plot's data from `Coverage.to_dict()`: one row per day or week, or None to hide the plot.
    x is the bin's label ('3 Feb'), or its ISO date when a label repeats (weeks over more than a year)."""
    import pandas as pd

    bins = (coverage or {}).get("bins") or []
    if not bins:
        return None
    labels = [b["label"] for b in bins]
    when = labels if len(set(labels)) == len(labels) else [b["start"] for b in bins]
    return pd.DataFrame({"when": when, "stories": [int(b["count"]) for b in bins]})


def coverage_label_angle(bins: int) -> float:
    """Its labels ('24 Feb') slant when there are more than a phone's width holds side by side."""
    return 0 if bins <= COVERAGE_FLAT_LABELS else -45


def coverage_caption(coverage: dict[str, Any]) -> tuple[str, str]:
    """The plot's label and the caption under it: ('Stories per week', '3–27 February 2025 · 5 stories,
    1 undated'). A short label: two lines of it (on a phone) would push the axis out of the plot."""
    stories = int(coverage.get("stories") or 0)
    undated = int(coverage.get("undated") or 0)
    count = f"{stories} {'story' if stories == 1 else 'stories'}" + (f", {undated} undated" if undated else "")
    return f"Stories per {coverage.get('unit')}", f"{coverage.get('span')} · {count}"


# ---------------------------------------------------------------------------------- followed topics
def whats_new_label(following: list[dict[str, Any]]) -> str:
    """The What's new panel's title, its count always in view: 'What's new · 2 new stories'."""
    if not following:
        return "What's new · follow a briefing's topic to see its new stories here"
    new = sum(int(f.get("new") or 0) for f in following)
    if not new:
        return f"What's new · following {len(following)} topic{'' if len(following) == 1 else 's'}, up to date"
    return f"What's new · {new} new stor{'y' if new == 1 else 'ies'}"


def digest_panel(digest: dict[str, Any] | None, following: list[dict[str, Any]]) -> str:
    """Each followed topic's stories new since its last digest, dated like a briefing's (they are
    now seen: the next digest lists only what arrives after)."""
    if not following:
        return ('<div class="nr-panel nr-digest"><p class="nr-muted">No topics followed yet: ask about a story '
                "(“What is happening with …?”) and press Follow under the answer.</p></div>")
    parts = []
    for topic in (digest or {}).get("topics") or []:
        items = topic.get("items") or []
        head = f'<h4 class="nr-digest-topic">{esc(topic.get("topic"))}</h4>'
        if not items:
            parts.append(head + '<p class="nr-muted">Nothing new since you last looked.</p>')
            continue
        entries = [_entry(i.get("published"), i.get("event_date"), i.get("title") or i.get("source") or "",
                          i.get("source") or "", i.get("also_in") or [],
                          esc(" ".join(s.get("text", "") for s in i.get("sentences") or []))
                          + f' <span class="nr-file">{esc(i.get("source"))}</span>') for i in items]
        parts.append(head + f'<ol class="nr-tl">{"".join(entries)}</ol>')
    return '<div class="nr-panel nr-digest">' + "".join(parts) + "</div>"


# ---------------------------------------------------------------------------------------- passages
def paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The paragraph(s) of `text` holding [start, end): from the newline before to the one after."""
    para_start = text.rfind("\n", 0, start) + 1
    para_end = text.find("\n", end)
    return para_start, (len(text) if para_end == -1 else para_end)


def locate(text: str, quote: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the quote sits in the article: the given offsets if they match, else its first occurrence."""
    if 0 <= start < end <= len(text) and text[start:end] == quote:
        return start, end
    needle = (quote or "").strip()
    if needle:
        found = text.find(needle)
        if found != -1:
            return found, found + len(needle)
    return None


def quote_in_paragraph(text: str, quote: str, start: int, end: int, max_chars: int = PARAGRAPH_MAX_CHARS) -> str:
    """The quote highlighted with <mark> inside its (possibly trimmed) surrounding paragraph."""
    span = locate(text, quote, start, end)
    if span is None:
        return f"<mark>{esc(quote)}</mark>"
    return marked_paragraph(text, [(span[0], span[1], "<mark>")], max_chars)


def marked_paragraph(text: str, marks: list[tuple[int, int, str]], max_chars: int = PARAGRAPH_MAX_CHARS) -> str:
    """The paragraph holding these (start, end, opening <mark> tag) spans of one paragraph, each
    highlighted, trimmed to about `max_chars` around them without cutting words."""
    marks = sorted(marks)
    start, end = marks[0][0], max(e for _, e, _ in marks)
    p_start, p_end = paragraph_bounds(text, start, end)
    room = max(0, max_chars - (end - start)) // 2
    left = max(p_start, start - room)
    right = min(p_end, end + room)
    # Do not cut words in half at the trimmed edges.
    if left > p_start:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < p_end:
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    out, pos = ["… " if left > p_start else "", esc(text[left:start].lstrip())], start
    for m_start, m_end, tag in marks:
        if m_start < pos:  # overlapping quotes: the earlier one's mark covers it
            continue
        out += [esc(text[pos:m_start]), tag, esc(text[m_start:m_end]), "</mark>"]
        pos = m_end
    out += [esc(text[pos:right].rstrip()), " …" if right < p_end else ""]
    return "".join(out)


def shorten(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ------------------------------------------------------------------------------------------- panels
def also_in_line(also_in: list[str]) -> str:
    if not also_in:
        return ""
    n = len(also_in)
    names = ", ".join(esc(s) for s in also_in)
    return f'<div class="nr-also">Also in {n} other article{"s" if n != 1 else ""}: <span class="nr-file">{names}</span></div>'


def _quotes(cited: list[Citation], text: str | None, turn: int) -> list[str]:
    """One block per paragraph the answer quotes from this article, every quote marked; each
    <mark> carries its marker's anchor. A quote not found (the index changed) is shown alone."""
    numbered = len(cited) > 1
    paragraphs: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    blocks: list[tuple[int, str]] = []
    for c in cited:
        tag = f'<mark id="{card_id(turn, c.marker)}" data-marker="{int(c.marker)}">'
        if numbered:
            tag = f'<sup class="nr-quote-marker">[{int(c.marker)}]</sup>{tag}'
        span = locate(text, c.quote, c.start, c.end) if text is not None else None
        if span is None:
            blocks.append((len(blocks) - 10**9, f"{tag}{esc(c.quote)}</mark>"))
        else:
            paragraphs.setdefault(paragraph_bounds(text, *span), []).append((span[0], span[1], tag))  # type: ignore[arg-type]
    blocks += [(bounds[0], marked_paragraph(text, marks)) for bounds, marks in paragraphs.items()]  # type: ignore[arg-type]
    return [f'<blockquote class="nr-para">{html_}</blockquote>' for _, html_ in sorted(blocks, key=lambda b: b[0])]


def source_card(cited: list[Citation], text: str | None, turn: int) -> str:
    """One card per article: its title and file, then what the answer quotes from it, each quote
    in its paragraph (two quotes of one paragraph in one block) under its marker."""
    c = cited[0]
    published = f' · published {esc(human_date(c.published))}' if c.published else ""
    markers = " ".join(f'<span class="nr-marker">[{int(x.marker)}]</span>' for x in cited)
    return (
        f'<div class="nr-card" data-source="{esc(c.source)}">'
        f'<div class="nr-card-head">{markers} <span class="nr-title">{title_html(c.title)}</span></div>'
        f'<div class="nr-meta"><span class="nr-file">{esc(c.source)}</span>{published}</div>'
        f'{"".join(_quotes(cited, text, turn))}{also_in_line(c.also_in)}'
        f'<button type="button" class="nr-open" data-cid="{esc(c.chunk_id)}">Open full article</button>'
        "</div>"
    )


def _article_text(c: Citation, article_for_chunk) -> str | None:
    try:
        return article_for_chunk(c.chunk_id)["text"]
    except Exception:  # noqa: BLE001 - the index changed under us: the card still shows the verbatim quotes
        return None


def sources_panel(
    answer: Answer | None, article_for_chunk=None, *, pending: bool = False, failed: bool = False, turn: int = 0
) -> str:
    """Cards for the sources cited by the last answer (and only those): one per article, however
    many of its sentences are cited."""
    head = '<div class="nr-panel nr-sources"><h3 class="nr-h">Sources</h3>'
    if pending:
        return head + '<p class="nr-muted nr-pending">Searching the articles…</p></div>'
    if failed:
        return head + '<p class="nr-muted">No sources: the question was not answered.</p></div>'
    if answer is None:
        return head + (
            '<p class="nr-muted">Ask a question: the passages cited in the answer appear here, '
            "each highlighted in its paragraph.</p></div>"
        )
    if not answer.citations:
        return head + '<p class="nr-muted">This answer cites no source.</p></div>'
    by_article: dict[str, list[Citation]] = {}
    for c in answer.citations:
        by_article.setdefault(c.source, []).append(c)
    cards = [source_card(cited, _article_text(cited[0], article_for_chunk), turn) for cited in by_article.values()]
    return head + "".join(cards) + "</div>"


def related_panel(answer: Answer | None) -> str:
    """For an abstention only: the closest passages, clearly not presented as an answer."""
    if answer is None or not answer.abstained or not answer.related:
        return ""
    cards = [
        f'<div class="nr-card nr-card-related">'
        f'<div class="nr-card-head"><span class="nr-title">{title_html(p.title)}</span></div>'
        f'<div class="nr-file">{esc(p.source)}</div>'
        f'<blockquote class="nr-para">{esc(shorten(p.text, RELATED_MAX_CHARS))}</blockquote>'
        f'<button type="button" class="nr-open" data-cid="{esc(p.chunk_id)}">Open full article</button>'
        "</div>"
        for p in answer.related
    ]
    return (
        '<div class="nr-panel nr-related"><h3 class="nr-h">Related passages (not an answer)</h3>'
        '<p class="nr-note">The corpus does not answer this question. These are the closest passages '
        "found; they are shown for context only and do not support any answer.</p>"
        + "".join(cards)
        + "</div>"
    )


def highlighted(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The whole text escaped, with non-overlapping spans wrapped in <mark>."""
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos or end <= start or end > len(text):
            continue
        out += [esc(text[pos:start]), "<mark>", esc(text[start:end]), "</mark>"]
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def article_view(article: dict[str, Any] | None, spans: Iterable[tuple[int, int]] = (), *, error: str = "") -> str:
    if error:
        return f'<div class="nr-panel nr-article"><p class="nr-error">{esc(error)}</p></div>'
    if article is None:
        return ""
    url = article.get("url")
    origin = f' · original: <span class="nr-url">{esc(url)}</span>' if url else ""
    return (
        '<div class="nr-panel nr-article"><div class="nr-kicker">Full article</div>'
        f'<h3 class="nr-h">{title_html(article.get("title"))}</h3>'
        f'<div class="nr-file">{esc(article.get("source"))}{origin}</div>'
        # A blank line between the article's lines makes its paragraphs readable (pre-wrap keeps them).
        f'<div class="nr-article-text">{highlighted(article.get("text") or "", spans).replace(chr(10), chr(10) * 2)}</div>'
        "</div>"
    )


MODES = {"extractive": "answers quote the articles, no generative model",
         "llm": "an LLM writes the answers, every claim checked against the articles"}


def status_line(status: dict[str, Any], documents: list[dict[str, Any]] | None = None) -> str:
    """What a reader cares about: how many articles, the dates they span, how answers are made."""
    count = int(status.get("documents") or 0)
    days = sorted(str(d["published"])[:10] for d in documents or [] if d.get("published"))
    undated = count - len(days) if documents is not None else 0
    if count and not days and documents is not None:
        span = ", none with a publication date"
    elif days:
        span = f", {date_range(days[0], days[-1])}" + (f" ({undated} undated)" if undated > 0 else "")
    else:
        span = ""
    mode = str(status.get("mode") or "")
    return (
        '<div class="nr-status">'
        f'<b>{count} article{"" if count == 1 else "s"}</b>{esc(span)} · '
        f'Mode: <b class="nr-mode">{esc(mode)}</b>{esc(f" ({MODES[mode]})" if mode in MODES else "")}'
        "</div>"
    )


PANEL_CSS = """
.nr-panel { font-size: 0.95rem; line-height: 1.45; }
.nr-h { margin: 0.2rem 0 0.6rem; font-size: 1.05rem; font-weight: 600; }
.nr-muted { color: var(--body-text-color-subdued); margin: 0.3rem 0; }
.nr-note { margin: 0 0 0.6rem; padding: 0.5rem 0.7rem; border-left: 4px solid #d97706;
  background: rgba(217, 119, 6, 0.08); }
.nr-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6rem 0.75rem;
  margin: 0 0 0.6rem; background: var(--background-fill-secondary); }
.nr-card-related { border-style: dashed; }
.nr-card-head { font-weight: 600; }
.nr-marker { color: var(--color-accent); margin-right: 0.25rem; }
.nr-file { font-family: monospace; font-size: 0.8rem; color: var(--body-text-color-subdued);
  word-break: break-all; margin: 0.15rem 0 0.35rem; }
.nr-meta { font-size: 0.8rem; color: var(--body-text-color-subdued); margin: 0.15rem 0 0.35rem; }
.nr-meta .nr-file { margin: 0; }
.nr-also { font-size: 0.85rem; margin: 0 0 0.4rem; }
mark:target { outline: 2px solid var(--color-accent); }
.nr-quote-marker { color: var(--color-accent); font-weight: 600; margin-right: 1px; }
.nr-derived, .nr-event-label { font-weight: normal; font-size: 0.8em; color: var(--body-text-color-subdued); }
.nr-para { margin: 0.3rem 0 0.5rem; padding: 0 0 0 0.6rem; border-left: 3px solid var(--border-color-primary);
  white-space: pre-wrap; }
mark { background: #fde68a; color: #111; padding: 0 1px; border-radius: 2px; }
.nr-open { cursor: pointer; font-size: 0.85rem; padding: 0.2rem 0.6rem; border-radius: 6px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
  color: var(--body-text-color); }
.nr-open:hover { border-color: var(--color-accent); }
.nr-article-text { white-space: pre-wrap; max-height: 32rem; overflow-y: auto; padding: 0.5rem 0.6rem;
  border: 1px solid var(--border-color-primary); border-radius: 8px; }
.nr-error { color: #b91c1c; }
.nr-kicker { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.05em;
  color: var(--body-text-color-subdued); margin-top: 0.8rem; }
.nr-url { font-family: monospace; }
.nr-status { font-size: 0.9rem; color: var(--body-text-color-subdued); }
.nr-mode { color: var(--body-text-color); }
"""
