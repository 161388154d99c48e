"""One file into one `Article`: the text citations quote, its evidence blocks, title and metadata.

The article text (what every chunk and quote offsets into):
- .txt: the decoded file;
- .md/.markdown: the decoded file *including* its YAML front matter, which lies outside every
  block (so offsets match the file a user opens); the front matter's fields become metadata;
- .html/.htm: trafilatura's extracted main text;
- .pdf: pypdf's extracted text, pages separated by a blank line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.settings import Settings
from rag.sources.dates import normalize_date, text_date
from rag.sources.decode import decode, looks_binary
from rag.sources.discover import KINDS, unsupported_reason
from rag.sources.errors import SkipFile
from rag.sources.html import read_html
from rag.sources.layout import Layout, layout
from rag.sources.markdown import front_matter
from rag.sources.pdf import read_pdf

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _default(name: str) -> Any:
    return Settings.default_of(name)


@dataclass(frozen=True)
class ReadOptions:
    """The Settings fields the readers use; `ReadOptions.from_settings(settings)` in production."""

    title_max_words: int = field(default_factory=lambda: _default("title_max_words"))
    title_max_chars: int = field(default_factory=lambda: _default("title_max_chars"))
    date_window_chars: int = field(default_factory=lambda: _default("date_window_chars"))
    date_window_lines: int = field(default_factory=lambda: _default("date_window_lines"))
    derived_title_chars: int = field(default_factory=lambda: _default("derived_title_chars"))

    @classmethod
    def from_settings(cls, settings: Settings) -> "ReadOptions":
        return cls(settings.title_max_words, settings.title_max_chars,
                   settings.date_window_chars, settings.date_window_lines, settings.derived_title_chars)


@dataclass(frozen=True)
class Article:
    source: str  # what citations name (the caller decides; ingest uses the corpus-relative path)
    text: str  # offsets point here
    blocks: tuple[tuple[int, int], ...]  # evidence ranges of `text`: no boilerplate, no headings
    title: str
    url: str | None
    content_hash: str  # sha256 of the file's bytes
    encoding: str  # how the bytes were decoded ("binary" for PDF)
    metadata: dict[str, Any] = field(default_factory=dict)
    published: str | None = None  # ISO YYYY-MM-DD, from explicit evidence only
    author: str | None = None
    site_name: str | None = None
    kind: str = "txt"  # "txt" | "md" | "html" | "pdf"
    headings: tuple[tuple[int, int], ...] = ()  # title, heading, byline and date lines (not evidence)

    @property
    def context_title(self) -> str:
        """The title the models read before each chunk: the shown one, except a title made from the
        lead (it would repeat the lead as if it were a headline), for which they read the file
        name's words, as they always have."""
        return readable_stem(Path(self.source)) if is_derived_title(self.title) else self.title


# Ends a title we made from the lead's first words: the file had none, and these words are no headline.
DERIVED_MARK = " (first words)"


def readable_stem(path: Path) -> str:
    """'2025-03_council_vote.txt' -> '2025-03 council vote': the title of a headline-less file."""
    words = re.split(r"[_\s]+|(?<!\d)-+|-+(?!\d)", path.stem)
    return " ".join(w for w in words if w) or path.name


def reads_as_words(stem: str) -> bool:
    """Whether a file name says something: most of its letters and digits are in words of letters
    ('2025-03 council vote', 'note 7'), not in hashes or counters ('001 b3a78f4a513db0c2', 'IMG 0001')."""
    tokens = re.findall(r"[^\W_]+", stem)
    in_words = sum(len(t) for t in tokens if t.isalpha())
    return in_words * 2 >= sum(len(t) for t in tokens) > 0


def derived_title(lead: str, max_chars: int) -> str:
    """A title for a file with neither headline nor readable name: its lead's first words, cut at a
    word within `max_chars`, then DERIVED_MARK. Only ever shown: never evidence, never quoted."""
    line = " ".join(_CONTROL.sub("", lead.split("\n", 1)[0]).split())
    if len(line) > max_chars:
        line = line[: max_chars + 1].rsplit(" ", 1)[0].rstrip(" ,;:—–-") + "…"
    return f"{line.rstrip(' .,;:')}{DERIVED_MARK}"


def is_derived_title(title: str) -> bool:
    return title.endswith(DERIVED_MARK)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:  # checked before reading: a huge file is never loaded
            raise SkipFile(f"file is {size:,} bytes, over the {max_bytes:,}-byte cap")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SkipFile("file disappeared while reading") from None
    except PermissionError:
        raise SkipFile("file is not readable (permission denied)") from None
    except IsADirectoryError:
        raise SkipFile("is a directory") from None
    except OSError as exc:
        raise SkipFile(f"file could not be read: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:  # it grew between stat and read
        raise SkipFile(f"file is {len(raw):,} bytes, over the {max_bytes:,}-byte cap")
    if not raw.strip():
        raise SkipFile("file is empty or whitespace only")
    return raw


@dataclass
class _Found:
    """What the file's format says before layout: the article text and the metadata it carries."""

    text: str
    encoding: str
    meta: dict[str, Any] = field(default_factory=dict)
    title_hint: str | None = None  # a title the format states (HTML metadata, front matter)
    meta_title: str | None = None  # a PDF's document title: used only when the text has no headline
    author: str | None = None
    site_name: str | None = None
    url: str | None = None
    published: str | None = None
    heading_lines: frozenset[str] = frozenset()
    body_start: int = 0


def _decoded(kind: str, raw: bytes) -> _Found:
    if kind == "pdf":
        if not raw.lstrip().startswith(b"%PDF"):
            raise SkipFile("not a PDF file (no %PDF header)")
        pdf = read_pdf(raw)
        return _Found(pdf.text, "binary", meta_title=pdf.title, author=pdf.author)
    if looks_binary(raw):
        raise SkipFile("file looks binary (NUL or control bytes), not text")
    text, encoding = decode(raw)
    return _Found(text, encoding)


def _formatted(kind: str, found: _Found) -> _Found:
    """HTML: trafilatura's main text and metadata; Markdown: the front matter's fields."""
    if kind == "html":
        page = read_html(found.text)
        found.text, found.heading_lines = page.text, page.heading_lines
        found.title_hint, found.author, found.site_name = page.title, page.author, page.site_name
        found.url, found.published = page.url, page.published
    elif kind == "md":
        fm = front_matter(found.text)
        found.body_start, found.meta = fm.body_start, {k: v for k, v in fm.metadata.items() if isinstance(k, str)}
        found.title_hint, found.author = fm.text("title"), fm.text("author")
        found.url = fm.text("url") or fm.text("source")
        found.site_name = fm.text("site_name") or fm.text("sitename") or fm.text("site")
        found.published = normalize_date(fm.metadata.get("date"))
    return found


def _title(found: _Found, lay: Layout, path: Path, text: str, options: ReadOptions) -> str:
    """The title the file states; else its name when that reads as words; else its lead's first words."""
    title = found.title_hint or (lay.headline and _title_text(lay.headline)) or found.meta_title
    if not title:
        title = readable_stem(path)
        if not reads_as_words(title):
            return derived_title(text[lay.blocks[0][0]:lay.blocks[0][1]], options.derived_title_chars)
    if len(title) > options.title_max_chars:  # e.g. a Markdown heading that is a whole paragraph
        title = title[:options.title_max_chars].rsplit(" ", 1)[0] + "…"
    return title


def read_article(path: Path, source: str, max_bytes: int, options: ReadOptions | None = None) -> Article:
    """Read one file into an Article, or raise SkipFile with a one-line reason."""
    options = options or ReadOptions()
    path = Path(path)
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise SkipFile(unsupported_reason(path.suffix))
    raw = _read_bytes(path, max_bytes)
    found = _formatted(kind, _decoded(kind, raw))
    text = found.text
    if not text.strip():
        raise SkipFile("no text found in the file")
    lay = layout(
        text, body_start=found.body_start, markdown=kind == "md", title_hint=found.title_hint,
        heading_lines=found.heading_lines, title_max_words=options.title_max_words,
        title_max_chars=options.title_max_chars,
    )
    if not lay.blocks:
        raise SkipFile("no article text left after removing boilerplate and headings")
    published = found.published or text_date(text, found.body_start, options.date_window_chars, options.date_window_lines)
    return Article(
        source=source,
        text=text,
        blocks=lay.blocks,
        title=_title(found, lay, path, text, options),
        url=found.url or lay.url,
        content_hash=hashlib.sha256(raw).hexdigest(),
        encoding=found.encoding,
        metadata=_plain(found.meta),
        published=published,
        author=found.author or lay.byline,
        site_name=found.site_name,
        kind=kind,
        headings=lay.headings,
    )


def _title_text(line: str) -> str:
    from rag.sources.markdown import heading_text

    line = heading_text(line) or line
    return _CONTROL.sub("", line).strip().rstrip("|").strip()


def _plain(meta: dict[str, Any]) -> dict[str, Any]:
    """Front-matter values as JSON-friendly scalars (YAML dates become ISO strings)."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = [v if isinstance(v, (str, int, float, bool)) else str(v) for v in value]
        else:
            out[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return out
