"""HTML pages: trafilatura's main text (no navigation, scripts, comments) and its metadata.

The article text of an HTML page is trafilatura's plain-text extraction; citations offset into it.
Headings inside the article (`<h1>`-`<h6>`, which trafilatura keeps as lines) are reported so the
layout step can exclude them from the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.sources.dates import html_date


@dataclass(frozen=True)
class HtmlPage:
    text: str
    title: str | None
    author: str | None
    site_name: str | None
    url: str | None
    published: str | None
    heading_lines: frozenset[str]  # whitespace-normalised, casefolded heading texts


def _key(line: str) -> str:
    return " ".join(line.split()).casefold()


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def read_html(markup: str) -> HtmlPage:
    """Main text and metadata; falls back to a recall-oriented pass, then to trafilatura's baseline."""
    import trafilatura
    from trafilatura import bare_extraction

    doc = None
    for favor_recall in (False, True):
        try:
            doc = bare_extraction(markup, with_metadata=True, include_comments=False, favor_recall=favor_recall)
        except Exception:  # noqa: BLE001 - a page trafilatura chokes on gets the baseline below
            doc = None
        if doc is not None and (doc.text or "").strip():
            break
    text = (doc.text or "") if doc is not None else ""
    headings: frozenset[str] = frozenset()
    if doc is not None and doc.body is not None:
        headings = frozenset(_key("".join(h.itertext())) for h in doc.body.iter("head"))
    if not text.strip():
        try:
            text = trafilatura.baseline(markup)[1] or ""
        except Exception:  # noqa: BLE001
            text = ""
    return HtmlPage(
        text=text,
        title=_clean(getattr(doc, "title", None)),
        author=_clean(getattr(doc, "author", None)),
        site_name=_clean(getattr(doc, "sitename", None)),
        url=_clean(getattr(doc, "url", None)),
        published=html_date(markup),
        heading_lines=headings - {""},
    )
