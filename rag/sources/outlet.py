"""Which outlet published an article, read from its file when asked (nothing is stored for it).

An outlet is only taken where a page or its front matter names one: an HTML page's JSON-LD
`publisher`, its `og:site_name`, or the part of its `<title>` after ' | ' or ' - ' when the rest is
the headline; a Markdown file's `publisher`/`site_name`/`outlet` field. trafilatura's own site name
guess is not used: with none of these it falls back to the page title ('Vale Line rail link to cost
£1.8 billion' as the outlet of a Riverton Courier page). Plain text names no outlet.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path

from rag.sources.markdown import front_matter

_HEAD_BYTES = 16_384  # the <head> of a news page; the body is never needed
_JSON_LD = re.compile(r"<script[^>]*application/ld\+json[^>]*>(.*?)</script>", re.I | re.S)
_OG_SITE = re.compile(r"<meta[^>]+property=[\"']og:site_name[\"'][^>]*content=[\"']([^\"']+)", re.I)
_OG_SITE_REVERSED = re.compile(r"<meta[^>]+content=[\"']([^\"']+)[\"'][^>]*property=[\"']og:site_name", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ")
_FRONT_MATTER_KEYS = ("publisher", "outlet", "site_name", "sitename")


def outlet(path: str | Path, stamp: str = "") -> str | None:
    """The outlet `path` names, or None. `stamp` (the content hash) keys the cache, so an
    updated file is read again."""
    return _outlet(str(path), stamp)


@lru_cache(maxsize=4096)
def _outlet(path: str, stamp: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES).decode("utf-8", "replace")
    except OSError:
        return None
    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        return _html_outlet(head)
    if suffix in (".md", ".markdown"):
        meta = front_matter(head).metadata
        found = next((meta[k] for k in _FRONT_MATTER_KEYS if isinstance(meta.get(k), str) and meta[k].strip()), None)
        return _clean(found) if found else None
    return None


def _html_outlet(head: str) -> str | None:
    for block in _JSON_LD.findall(head):
        name = _publisher(block)
        if name:
            return name
    site = _OG_SITE.search(head) or _OG_SITE_REVERSED.search(head)
    if site:
        return _clean(site.group(1))
    title, h1 = _TITLE.search(head), _H1.search(head)
    if title is None:
        return None
    full, headline = _clean(title.group(1)), _clean(h1.group(1)) if h1 else ""
    for sep in _TITLE_SEPARATORS:
        lead, found, tail = full.rpartition(sep)
        # Only a suffix after the headline itself: 'Budget: the details - part 2' names no outlet.
        if found and tail and (not headline or lead.casefold() == headline.casefold()):
            return tail
    return None


def _publisher(block: str) -> str | None:
    try:
        data = json.loads(block)
    except ValueError:
        return None
    for node in data if isinstance(data, list) else [data]:
        publisher = node.get("publisher") if isinstance(node, dict) else None
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str) and publisher["name"].strip():
            return _clean(publisher["name"])
        if isinstance(publisher, str) and publisher.strip():
            return _clean(publisher)
    return None


def _clean(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
