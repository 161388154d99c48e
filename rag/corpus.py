"""Reading articles: finding files, decoding, HTML main text, boilerplate, metadata, skip reasons.

The decoded text of an article is kept whole: citations quote it verbatim at character offsets.
Boilerplate is never cut out of that text; it is marked as excluded, so every offset the chunker
produces points into the text a user can open.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index.core import Document
from llama_index.core.readers.base import BaseReader

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
HTML_SUFFIXES = {".html", ".htm"}
TITLE_MAX_CHARS = 160

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
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class SkipFile(Exception):
    """A file that cannot be ingested; the message is the one-line reason shown to the user."""


@dataclass(frozen=True)
class Article:
    source: str  # path relative to the corpus root, '/'-separated: what citations name
    text: str  # decoded text; offsets point here
    blocks: tuple[tuple[int, int], ...]  # content ranges of `text`, boilerplate excluded
    title: str
    url: str | None
    content_hash: str
    encoding: str
    metadata: dict[str, Any] = field(default_factory=dict)


def decode(raw: bytes) -> tuple[str, str]:
    """Decode bytes sensibly: BOMs, then strict UTF-8, then cp1252, then latin-1 (never fails)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def looks_binary(raw: bytes) -> bool:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    sample = raw[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls > len(sample) * 0.05


def html_main_text(markup: str) -> tuple[str, str | None]:
    """Main text of an HTML page (article/main if present, no scripts or navigation) and its title."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title_tag = soup.find("h1") or soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else None
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg"]):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    lines = [line.strip() for line in root.get_text("\n").splitlines()]
    text = "\n".join(line for line in lines if line)
    return text, title


def _lines_with_offsets(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((start, start + len(line.rstrip("\r\n"))))
        start += len(line)
    return spans


def content_blocks(text: str) -> tuple[tuple[tuple[int, int], ...], str | None]:
    """Content ranges of `text` with boilerplate lines excluded, and a source URL if one is named.

    Excluded: repeated lines (a title printed twice), 'Comment (0)', 'Login' and similar chrome,
    comment-policy footers, and 'Source: <url>' lines (the URL goes into metadata instead).
    """
    url = None
    seen: set[str] = set()
    blocks: list[tuple[int, int]] = []
    block_start: int | None = None
    block_end = 0
    for start, end in _lines_with_offsets(text):
        line = text[start:end].strip()
        if not line:
            continue
        key = re.sub(r"\s+", " ", line).casefold()
        source_match = _SOURCE_LINE.match(line)
        boilerplate = (
            bool(source_match)
            or key in seen
            or _BOILERPLATE_LINE.match(line) is not None
            or _COMMENT_POLICY.search(line) is not None
        )
        if source_match and url is None:
            url = source_match.group(1)
        if boilerplate:
            if block_start is not None:
                blocks.append((block_start, block_end))
                block_start = None
            continue
        seen.add(key)
        lead = len(text[start:end]) - len(text[start:end].lstrip())
        if block_start is None:
            block_start = start + lead
        block_end = start + len(text[start:end].rstrip())
    if block_start is not None:
        blocks.append((block_start, block_end))
    return tuple(blocks), url


def make_title(text: str, blocks: tuple[tuple[int, int], ...]) -> str:
    if not blocks:
        return ""
    first = text[blocks[0][0]: blocks[0][1]].splitlines()[0].strip().rstrip("|").strip()
    first = _CONTROL.sub("", first)
    if len(first) > TITLE_MAX_CHARS:  # a lede, not a headline: its first sentence will do
        first = re.split(r"(?<=[.!?])\s+(?=[A-Z“\"])", first, maxsplit=1)[0]
    if len(first) <= TITLE_MAX_CHARS:
        return first
    cut = first[:TITLE_MAX_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def read_article(path: Path, root: Path, max_bytes: int) -> Article:
    """Read one file into an Article, or raise SkipFile with the reason."""
    source = relative_name(path, Path(root).resolve())
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise SkipFile(f"unsupported file type '{path.suffix or '(none)'}'")
    try:
        size = path.stat().st_size
        if size > max_bytes:
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
    if len(raw) > max_bytes:
        raise SkipFile(f"file is {len(raw):,} bytes, over the {max_bytes:,}-byte cap")
    if not raw.strip():
        raise SkipFile("file is empty or whitespace only")
    if looks_binary(raw):
        raise SkipFile("file looks binary (NUL or control bytes), not text")
    text, encoding = decode(raw)
    html_title = None
    if path.suffix.lower() in HTML_SUFFIXES:
        text, html_title = html_main_text(text)
    blocks, url = content_blocks(text)
    if not blocks:
        raise SkipFile("no article text left after removing boilerplate")
    title = html_title or make_title(text, blocks) or source
    return Article(
        source=source,
        text=text,
        blocks=blocks,
        title=title,
        url=url,
        content_hash=hashlib.sha256(raw).hexdigest(),
        encoding=encoding,
    )


def discover(paths: list[Path], root: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Supported files under `paths` (all inside `root`), sorted; plus (path, reason) for skips.

    Hidden files are ignored; symlinks are never followed out of the corpus root.
    """
    root = root.resolve()
    found: set[Path] = set()
    skipped: list[tuple[str, str]] = []

    def consider(candidate: Path) -> None:
        rel = relative_name(candidate, root)
        if candidate.is_symlink():
            target = candidate.resolve()
            if not target.is_relative_to(root):
                skipped.append((rel, "symlink points outside the corpus folder; not followed"))
                return
        if candidate.is_dir() or candidate.suffix.lower() not in SUPPORTED_SUFFIXES:
            return  # a symlinked folder inside the corpus is not walked twice
        if candidate.is_file():
            found.add(candidate)

    for path in paths:
        path = path if path.is_absolute() else Path.cwd() / path
        if not path.exists() and not path.is_symlink():
            skipped.append((str(path), "no such file or folder"))
            continue
        if path.is_dir() and not path.is_symlink():
            for candidate in sorted(path.rglob("*")):
                parts = candidate.relative_to(path).parts
                if any(p.startswith(".") for p in parts):
                    continue
                if candidate.is_dir() and not candidate.is_symlink():
                    continue  # its files come separately; a symlinked folder goes to consider()
                consider(candidate)
        else:
            consider(path)
    return sorted(found, key=lambda p: relative_name(p, root)), skipped


def relative_name(path: Path, root: Path) -> str:
    absolute = Path(path).absolute()
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class NewsArticleReader(BaseReader):
    """llama-index reader for news files: robust decoding, HTML main text, boilerplate metadata."""

    def __init__(self, root: Path, max_bytes: int = 5_000_000) -> None:
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        article = read_article(Path(file).absolute(), self.root, self.max_bytes)
        metadata = {
            "source": article.source,
            "title": article.title,
            "url": article.url or "",
            "content_hash": article.content_hash,
            **(extra_info or {}),
        }
        return [Document(text=article.text, metadata=metadata, id_=article.source)]
