"""Which lines of an article are evidence: content blocks, headings, boilerplate.

Nothing is cut out of the text; lines are only classified, so every offset stays verbatim.
- boilerplate (excluded): repeated lines, 'Comment (0)', 'Login' and similar chrome,
  comment-policy footers, 'Source: <url>' lines (the URL goes into metadata);
- headings (excluded and listed): the headline, Markdown `#` headings, headings the HTML
  extractor reported, byline lines ('By Jane Doe', '(Reporting by ...)') and bare date lines;
- everything else is content, grouped into contiguous blocks.
Headings are not evidence: an answer never quotes a title as if it were a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.sources.dates import dateline
from rag.sources.markdown import heading_text

_SOURCE_LINE = re.compile(r"^\s*(?:source|nguồn)\s*:\s*(https?://\S+)\s*$", re.IGNORECASE)
_BOILERPLATE_LINE = re.compile(
    r"^\s*(?:comments?\s*\(\d+\)|log\s*in|login|sign\s*in|sign\s*up|register|share( this article)?"
    r"|advertisement|read more|print)\s*[|:]?\s*$",
    re.IGNORECASE,
)
_COMMENT_POLICY = re.compile(
    r"comments posted here|refrain from using derogatory|comment policy|comments are moderated",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^\(?\s*(?:by|written by|words by|story by|(?:additional\s+)?reporting by|editing by)\s+"
    r"(?P<who>[A-Z][^\n]*?)\s*\)?\s*$",
    re.IGNORECASE,
)
_NOT_A_HEADLINE_END = (".", ",", ";", ":")


@dataclass(frozen=True)
class Layout:
    blocks: tuple[tuple[int, int], ...]
    headings: tuple[tuple[int, int], ...]
    url: str | None
    headline: str | None  # the first line, when it is a real headline
    byline: str | None  # the name(s) of a byline line, when there is one


def key(line: str) -> str:
    return " ".join(line.split()).casefold()


def is_headline(line: str, has_body_after: bool, max_words: int, max_chars: int) -> bool:
    """A real headline: a short line (<= max_words words), not ending like a sentence or a lead-in,
    with body text after it. A document opening with a paragraph has no headline."""
    line = line.strip()
    words = line.split()
    return (
        has_body_after
        and 0 < len(words) <= max_words
        and len(line) <= max_chars
        and any(c.isalpha() for c in line)
        and (not line.endswith(_NOT_A_HEADLINE_END) or line.endswith(("...", "…")))
    )


def byline_names(line: str, max_words: int) -> str | None:
    """'By Jane Doe and John Roe' -> 'Jane Doe and John Roe'; None unless the line is only a byline."""
    line = line.strip()
    match = _BYLINE.match(line)
    if not match or len(line.split()) > max_words:
        return None
    if line.endswith(".") and not line.lower().lstrip("(").startswith(("reporting", "additional", "editing")):
        return None  # "By Monday, the council had voted." is a sentence, not a byline
    who = match.group("who").strip().rstrip(".)").strip()
    return who.split(";")[0].strip() or None


def is_date_line(line: str, max_words: int) -> bool:
    """A line that only dates the article: 'March 9, 2025', 'Published: 9 Mar 2025 10:00 GMT',
    'PARIS, March 9, 2025 —'. A long line opening with a dateline is body text and stays."""
    return len(line.split()) <= max_words // 2 and not line.rstrip().endswith(".") and dateline(line) is not None


def _lines(text: str, start: int) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line from `start` on, trimmed of surrounding whitespace."""
    spans, offset = [], start
    for raw in text[start:].splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            spans.append((offset + lead, offset + lead + len(stripped)))
        offset += len(raw)
    return spans


@dataclass
class _Lines:
    """Classifies an article's lines in order; what it learns on the way (the headline, the
    byline, the source URL, the lines seen) decides the lines after."""

    markdown: bool
    title_keys: set[str]
    heading_lines: frozenset[str]
    title_max_words: int
    title_max_chars: int
    titled: bool  # a headline is looked for only while there is no title yet
    url: str | None = None
    headline: str | None = None
    byline: str | None = None
    seen_content: bool = False
    seen: set[str] = field(default_factory=set)

    def classify(self, line: str, has_body_after: bool) -> str:
        """'heading', 'excluded' or 'content'."""
        k = key(line)
        source = _SOURCE_LINE.match(line)
        if source and self.url is None:
            self.url = source.group(1)
        if source or _BOILERPLATE_LINE.match(line) is not None or _COMMENT_POLICY.search(line) is not None:
            return "excluded"
        heading = self._heading(line, k, has_body_after)
        self.seen_content = self.seen_content or not heading
        if heading:
            return "heading"
        if k in self.seen:
            return "excluded"  # a repeated line (a title printed twice, a caption echoed)
        self.seen.add(k)
        return "content"

    def _heading(self, line: str, k: str, has_body_after: bool) -> bool:
        short = len(line) <= self.title_max_chars  # long lines are body text: skip the finer tests
        md_heading = heading_text(line) if self.markdown else None
        names = byline_names(line, self.title_max_words) if short else None
        if md_heading is not None or k in self.title_keys or k in self.heading_lines:
            if not self.titled and not self.seen_content:
                self.headline = md_heading if md_heading is not None else line
            self.titled = True
            self.title_keys.add(key(md_heading) if md_heading is not None else k)
        elif names is not None:
            self.byline = self.byline or names
        elif short and is_date_line(line, self.title_max_words):
            pass
        elif not self.titled and not self.seen_content and is_headline(
            line, has_body_after, self.title_max_words, self.title_max_chars
        ):
            self.titled, self.headline = True, line
            self.title_keys.add(k)
        else:
            return False
        return True


def layout(
    text: str,
    *,
    body_start: int = 0,
    markdown: bool = False,
    title_hint: str | None = None,
    heading_lines: frozenset[str] = frozenset(),
    title_max_words: int,
    title_max_chars: int,
) -> Layout:
    lines = _lines(text, body_start)
    reader = _Lines(markdown, {key(title_hint)} if title_hint else set(), heading_lines, title_max_words,
                    title_max_chars, titled=title_hint is not None)
    blocks: list[tuple[int, int]] = []
    headings: list[tuple[int, int]] = []
    current: list[int] | None = None
    for index, (start, end) in enumerate(lines):
        what = reader.classify(text[start:end], index + 1 < len(lines))
        if what == "heading":
            headings.append((start, end))
        if what != "content":
            if current is not None:
                blocks.append((current[0], current[1]))
                current = None
            continue
        if current is None:
            current = [start, end]
        else:
            current[1] = end
    if current is not None:
        blocks.append((current[0], current[1]))
    return Layout(tuple(blocks), tuple(headings), reader.url, reader.headline, reader.byline)
