"""Sentence-aware chunks with character offsets into the article text and deterministic ids.

llama-index's SentenceSplitter does the packing; it is handed nltk's *trained* English Punkt model
(bundled with llama-index) because the untrained default breaks "U.K." and "Mr." apart.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from rag.sources import Article

_WORD_TOKENS = re.compile(r"\w+|[^\w\s]")
# Longer lines are cut (at a sentence end or whitespace, else hard) before the sentence splitter
# sees them: nltk runs Punkt's regexes under a 5 s wall-clock limit per call, which a megabyte-long
# line can exceed (TimeoutError), and one token without whitespace must not become one huge chunk.
MAX_LINE_CHARS = 10_000
_SOFT_CUT = re.compile(r"[.!?][\"'”’)\]]*\s+")


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    title: str
    text: str  # == article.text[start:end], always
    start: int
    end: int
    position: int
    sentences: tuple[tuple[int, int], ...]  # sentence offsets relative to `start`


def word_tokens(text: str) -> list[str]:
    """Word-level tokens: a cheap, deterministic stand-in for the model's word pieces."""
    return _WORD_TOKENS.findall(text)


@lru_cache(maxsize=1)
def _punkt():
    from llama_index.core.utils import globals_helper
    from nltk.tokenize import PunktTokenizer

    globals_helper.wait_for_nltk_check()  # puts llama-index's bundled nltk data on the path
    return PunktTokenizer("english")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets in `text`; a line break always ends a sentence."""
    spans: list[tuple[int, int]] = []
    for line_start, line in _nonblank_lines(text):
        for start, end in _punkt().span_tokenize(line):
            spans.append((line_start + start, line_start + end))
    return spans


def _nonblank_lines(text: str):
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            yield offset, line.rstrip("\r\n")
        offset += len(line)


def _split_sentences(text: str) -> list[str]:
    """Contiguous sentence pieces whose concatenation is `text` (the splitter's contract)."""
    from llama_index.core.node_parser.text.utils import split_by_sentence_tokenizer_internal

    return split_by_sentence_tokenizer_internal(text, _punkt())


def line_segments(text: str, limit: int = MAX_LINE_CHARS) -> list[tuple[int, int]]:
    """(start, end) ranges covering `text` in order; only lines longer than `limit` are cut.

    Text without an over-long line is one segment (chunking is then exactly as without the guard).
    An over-long line is cut after its last sentence end within `limit` characters, else at its
    last whitespace, else hard at `limit`. The ranges are contiguous: nothing is dropped or
    rewritten, so every offset stays verbatim.
    """
    if len(text) <= limit:
        return [(0, len(text))]
    segments: list[tuple[int, int]] = []
    seg_start = 0
    offset = 0
    for line in text.splitlines(keepends=True):
        line_end = offset + len(line)
        if len(line.rstrip("\r\n")) > limit:
            if offset > seg_start:
                segments.append((seg_start, offset))
            pos = offset
            while line_end - pos > limit:
                window = text[pos : pos + limit]
                cut = 0
                for match in _SOFT_CUT.finditer(window):
                    cut = match.end()
                if cut < limit // 2:
                    space = max(window.rfind(" "), window.rfind("\t"))
                    cut = space + 1 if space > 0 else limit
                segments.append((pos, pos + cut))
                pos += cut
            seg_start = pos
        offset = line_end
    if seg_start < len(text):
        segments.append((seg_start, len(text)))
    return segments


def chunk_id(source: str, start: int, text: str) -> str:
    digest = hashlib.sha256(f"{source}\x00{start}\x00{text}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:24]


class Chunker:
    def __init__(self, chunk_size: int, chunk_overlap: int) -> None:
        if chunk_overlap >= chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._splitter: Callable[[str], list[str]] | None = None

    @property
    def config(self) -> str:
        return f"sentence-splitter:v1:{self.chunk_size}:{self.chunk_overlap}"

    def _split_text(self, text: str) -> list[str]:
        if self._splitter is None:
            from llama_index.core.node_parser import SentenceSplitter

            splitter = SentenceSplitter(
                chunk_size=self.chunk_size,
                chunk_overlap=self.chunk_overlap,
                tokenizer=word_tokens,
                paragraph_separator="\n",  # news files put one paragraph on a line
                chunking_tokenizer_fn=_split_sentences,
            )
            self._splitter = splitter.split_text
        return self._splitter(text)

    def chunk(self, article: Article) -> list[Chunk]:
        chunks: list[Chunk] = []
        for whole_start, whole_end in article.blocks:
            for seg_start, seg_end in line_segments(article.text[whole_start:whole_end]):
                self._chunk_block(article, whole_start + seg_start, whole_start + seg_end, chunks)
        return chunks

    def _chunk_block(self, article: Article, block_start: int, block_end: int, chunks: list[Chunk]) -> None:
        block = article.text[block_start:block_end]
        if not block.strip():
            return
        cursor = 0
        for piece in self._split_text(block):
            found = block.find(piece, cursor)
            if found < 0:  # the splitter changed the text; never cite what isn't there
                raise AssertionError(f"chunk not found verbatim in {article.source}")
            start = block_start + found
            end = start + len(piece)
            cursor = found + 1
            chunks.append(
                Chunk(
                    id=chunk_id(article.source, start, piece),
                    source=article.source,
                    title=article.context_title,  # what the models read; the shown title is the manifest's
                    text=piece,
                    start=start,
                    end=end,
                    position=len(chunks),
                    sentences=tuple(sentence_spans(piece)),
                )
            )
