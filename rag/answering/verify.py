"""Checking an LLM's answer against the sources it was given, sentence by sentence.

An LLM can change a number, cite the wrong source, or be steered by text planted in an article.
So nothing it writes survives unless the source it cites backs it: every number the sentence
states occurs in that source, and the source holds most of the sentence's words or (by embedding)
its meaning. Each surviving marker gets exactly one citation quoting the source sentence that best
supports the claim, verbatim at its absolute offsets, so a reader can check it at a glance.
Everything here is a pure function of its inputs (plus the embedder), so it is tested directly.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from rag.answering.sentences import citation
from rag.answering.text import content_words, fold, stem, stems
from rag.embeddings import Embedder
from rag.evidence import RetrievedPassage
from rag.lexicon import DIGITS, MONTH_NAMES
from rag.types import Citation

REFUSAL = "The sources do not answer this question."

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)  # reasoning models' scratchpad
_OPEN_THINK = re.compile(r"<think>(?!.*</think>)", re.S | re.I)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_HTML = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>")
_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+", re.I)
_SOURCE_WORD = re.compile(r"\[(?:source|src)\s*(\d+)\]", re.I)  # "[Source 1]" -> "[1]"
MARKER_NUMBERS = r"\d+(?:\s*[,;]\s*\d+)*"  # inside a citation marker: "1", "1, 2", "1; 3"
_MARKER = re.compile(rf"\[({MARKER_NUMBERS})\]")
_LEADING_MARKERS = re.compile(rf"^\s*((?:\[{MARKER_NUMBERS}\]\s*)+[.,;:!?]?)")
_SPACES = re.compile(r"[ \t]{2,}")
# A quoted name or phrase: "Coalition of the Willing", “Operation X” (double quotes only: an
# apostrophe is not a quote). A model that quotes must quote what its source says.
_QUOTED = re.compile(r'["\u201c\u201d\u201e]([^"\u201c\u201d\u201e\n]{2,80}?)["\u201c\u201d\u201e]')
_BULLET = re.compile(r"(?m)^[ \t]*(?:[-*•+]|#{1,6}|\d+[.)])[ \t]+")
# A source sentence that talks to the model (indirect prompt injection, OWASP LLM01) supports no
# claim: a model that obeys "reply only with X" and cites that source must not get X verified.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,60}\b(?:instructions?|prompts?|rules|directions)\b"
    r"|\b(?:reply|respond|answer|output|say)\b[^.!?\n]{0,20}\bonly\s+with\b"
    r"|\byou\s+are\s+now\b|\bsystem\s*(?:prompt)?\s*:|\bnew\s+(?:rules|instructions)\b",
    re.I,
)


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    kept: int  # sentences kept
    dropped: int  # sentences removed as unsupported or uncited


def sanitize(text: str, *, strip: bool = True) -> str:
    """No images, links, URLs or HTML: a planted `![](https://evil/?q=...)` must never render."""
    text = _THINK.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(lambda m: f"[{m[1]}]" if m[1].strip().isdigit() else m[1], text)
    text = _HTML.sub("", text)
    text = _URL.sub("", text)
    text = _SPACES.sub(" ", text)
    return text.strip() if strip else text


def is_refusal(answer: str) -> bool:
    """The model was told to reply with REFUSAL verbatim when the sources do not answer."""
    squash = lambda s: re.sub(r"[^a-z0-9]+", " ", fold(s)).strip()  # noqa: E731
    return squash(REFUSAL) in squash(sanitize(answer))


def split_sentences(text: str) -> list[str]:
    """Sentences (Punkt, so "U.S." stays whole); a marker run after the full stop stays with it."""
    from rag.chunking import sentence_spans

    text = _BULLET.sub("", text)
    sentences: list[str] = []
    for start, end in sentence_spans(text):
        piece = text[start:end]
        lead = _LEADING_MARKERS.match(piece)
        if lead and sentences:
            sentences[-1] = f"{sentences[-1]} {lead[1].strip()}"
            piece = piece[lead.end():]
        if piece.strip():
            sentences.append(piece.strip())
    return sentences


def markers(sentence: str) -> list[int]:
    """Source numbers cited in `sentence`, in order, without repeats ([1, 2] counts as [1][2])."""
    found: list[int] = []
    for group in _MARKER.findall(sentence):
        for n in re.split(r"\s*[,;]\s*", group):
            if int(n) not in found:
                found.append(int(n))
    return found


def claim_text(sentence: str) -> str:
    return re.sub(r"\s+", " ", _MARKER.sub(" ", sentence)).strip()


def numbers(text: str) -> set[str]:
    """Numbers as written, thousands separators dropped; a percentage also counts as its bare number."""
    found: set[str] = set()
    for match in DIGITS.finditer(text):
        digits = re.match(r"\d+(?:[.,]\d+)*", match[0])[0]  # type: ignore[index]
        value = digits.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", digits) else digits
        found.add(value)
        if len(match[0]) > len(digits):  # "84%", "84 percent"
            found.add(value + "%")
    return found


def _without_own_date(claim: str, published: str | None) -> str:
    """The claim without its source's own publication date ("on 20 February 2025"): the article's
    date is a fact about the cited article, so a claim may state it though no sentence does."""
    if not published:
        return claim
    try:
        day = dt.date.fromisoformat(published)
    except ValueError:
        return claim
    month = MONTH_NAMES[day.month - 1]
    forms = (f"{day.day} {month} {day.year}", f"{month} {day.day}, {day.year}", f"{month} {day.day} {day.year}", published)
    return re.sub("|".join(re.escape(f) for f in forms), " ", claim)


def _without_own_dates(claim: str, published: list[str | None]) -> str:
    for day in published:
        claim = _without_own_date(claim, day)
    return claim


def quoted(text: str) -> set[str]:
    """The phrases `text` puts in double quotes, folded (case, accents, curly punctuation)."""
    return {" ".join(fold(m[1]).split()) for m in _QUOTED.finditer(text) if m[1].strip()}


def unheld(text: str, quotes: list[str]) -> list[str]:
    """The numbers and quoted phrases `text` states (citation markers aside) that none of `quotes`
    holds: what a reader who checks the citations could not find. Empty when all are held."""
    claim = claim_text(text)
    held_text = " ".join(quotes)
    held_numbers = numbers(held_text)
    folded = " ".join(fold(held_text).split())
    missing = sorted(numbers(claim) - held_numbers)
    missing += sorted(q for q in quoted(claim) if q not in folded)
    return missing


def lexical_support(claim: str, chunk: RetrievedPassage) -> float:
    words = content_words(claim)
    if not words:
        return 0.0
    held = stems(chunk.title + " " + _factual_text(chunk))
    return sum(stem(w) in held for w in words) / len(words)


def is_instruction(sentence: str) -> bool:
    """Text addressed to an AI model ("ignore previous instructions", "reply only with ...")."""
    return _INSTRUCTION.search(sentence) is not None


def _factual(chunk: RetrievedPassage) -> list[int]:
    """Indices of the chunk's sentences that may support a claim (not instructions to the model)."""
    text = chunk.text
    return [i for i, (s, e) in enumerate(chunk.spans) if not is_instruction(text[s:e])]


def _factual_text(chunk: RetrievedPassage) -> str:
    spans, text = chunk.spans, chunk.text
    return " ".join(text[spans[i][0]:spans[i][1]] for i in _factual(chunk))


def _sentence_vectors(chunk: RetrievedPassage, embedder: Embedder) -> np.ndarray:
    spans = chunk.spans
    vectors = chunk.vectors
    if vectors is None or len(vectors) != len(spans):
        vectors = embedder.embed([chunk.text[s:e] for s, e in spans])
    return np.asarray(vectors, dtype=np.float32)


def best_sentence(claim: str, claim_vector: np.ndarray, chunk: RetrievedPassage, vectors: np.ndarray) -> tuple[int, float]:
    """The chunk sentence closest to the claim; one that states the claim's numbers is preferred."""
    cosines = vectors @ claim_vector
    wanted = numbers(claim)
    spans, text = chunk.spans, chunk.text
    factual = _factual(chunk)
    if not factual:
        return 0, 0.0
    candidates = [i for i in factual if wanted <= numbers(text[spans[i][0]:spans[i][1]])] if wanted else []
    pool = candidates or factual
    best = max(pool, key=lambda i: (float(cosines[i]), -i))
    return best, max(float(cosines[i]) for i in factual)


@dataclass(frozen=True)
class Support:
    """How much a cited source must back a claim: `min_lexical` of its content words, or a
    sentence within `min_cosine` of its meaning (Settings.verify_min_lexical / verify_min_cosine)."""

    min_lexical: float
    min_cosine: float


def supports(
    claim: str, claim_vector: np.ndarray, chunk: RetrievedPassage, vectors: np.ndarray, bar: Support
) -> tuple[bool, int, float]:
    """(supported, index of the quoting sentence, best cosine) for one claim and one cited chunk."""
    index, cosine = best_sentence(claim, claim_vector, chunk, vectors)
    factual = _factual_text(chunk)
    claim = _without_own_date(claim, chunk.published)
    if not _factual(chunk) or not numbers(claim) <= numbers(factual):
        return False, index, cosine
    if unheld(claim, [chunk.title, factual]):  # a quoted name the source never states
        return False, index, cosine
    return (lexical_support(claim, chunk) >= bar.min_lexical or cosine >= bar.min_cosine), index, cosine


def verify_answer(answer: str, sources: list[RetrievedPassage], embedder: Embedder, bar: Support) -> Verified:
    """Keep only supported sentences; markers renumbered 1..m, one verbatim citation per marker."""
    cleaned = _SOURCE_WORD.sub(r"[\1]", sanitize(answer))
    sentences = [s for s in split_sentences(cleaned) if claim_text(s)]
    claims = [claim_text(s) for s in sentences]
    claim_vectors = embedder.embed(claims) if claims else np.zeros((0, 1), dtype=np.float32)
    vector_cache: dict[int, np.ndarray] = {}
    # (sentence, {source number: (cosine, quoting sentence index)}) of each supported sentence
    kept: list[tuple[str, dict[int, tuple[float, int]]]] = []
    for sentence, claim, vector in zip(sentences, claims, claim_vectors):
        good: dict[int, tuple[float, int]] = {}
        for n in markers(sentence):
            if not 1 <= n <= len(sources):
                continue  # a source the model was never given
            chunk = sources[n - 1]
            if n not in vector_cache:
                vector_cache[n] = _sentence_vectors(chunk, embedder)
            ok, index, cosine = supports(claim, vector, chunk, vector_cache[n], bar)
            if ok:
                good[n] = (cosine, index)
        if good:
            kept.append((sentence, good))
    kept, best = _held_by_quotes(kept, sources)
    order: dict[int, int] = {}
    for _, good in kept:
        for n in good:
            order.setdefault(n, len(order) + 1)
    text = " ".join(_renumber(sentence, set(good), order) for sentence, good in kept)
    citations = [_citation(order[n], sources[n - 1], best[n][1], best[n][0]) for n in order]
    return Verified(text, citations, len(kept), len(sentences) - len(kept))


def _best_quotes(kept: list[tuple[str, dict[int, tuple[float, int]]]]) -> dict[int, tuple[float, int]]:
    """Each source is quoted once: the sentence that best supports its closest claim."""
    best: dict[int, tuple[float, int]] = {}
    for _, good in kept:
        for n, (cosine, index) in good.items():
            if n not in best or cosine > best[n][0]:
                best[n] = (cosine, index)
    return best


def _held_by_quotes(
    kept: list[tuple[str, dict[int, tuple[float, int]]]], sources: list[RetrievedPassage]
) -> tuple[list[tuple[str, dict[int, tuple[float, int]]]], dict[int, tuple[float, int]]]:
    """Drops sentences whose numbers or quoted names the shown quotes do not hold.

    A source is quoted by one sentence, so a claim can pass against the whole chunk yet state a
    figure the reader never sees quoted. Dropping a sentence can change which sentence quotes a
    source, so this repeats until nothing changes (each round drops at least one sentence)."""
    while True:
        best = _best_quotes(kept)

        def quote(n: int) -> str:
            start, end = sources[n - 1].spans[best[n][1]]
            return sources[n - 1].text[start:end]

        held = [(s, good) for s, good in kept
                if not unheld(_without_own_dates(s, [sources[n - 1].published for n in good]), [quote(n) for n in good])]
        if len(held) == len(kept):
            return kept, best
        kept = held


def _renumber(sentence: str, good: set[int], order: dict[int, int]) -> str:
    """Unsupported markers vanish; supported ones take their new numbers, each once per sentence."""
    written: set[int] = set()

    def replace(match: re.Match[str]) -> str:
        out = []
        for n in markers(match[0]):
            if n in good and n not in written:
                written.add(n)
                out.append(f"[{order[n]}]")
        return "".join(out)

    text = _MARKER.sub(replace, sentence)
    text = _SPACES.sub(" ", text)
    return re.sub(r"\s+([.,;:!?])", r"\1", text).strip()


def _citation(marker: int, chunk: RetrievedPassage, index: int, cosine: float) -> Citation:
    return citation(marker, chunk, chunk.spans[index], cosine)


class PreviewBuffer:
    """Streams the LLM's text as it arrives, but only in pieces that cannot hide a link or image.

    A piece is released at a whitespace where no `[`, `(` or `<` is open, so a markdown image or
    URL is always whole when `sanitize` sees it and never reaches a renderer. The preview is not
    verified; the final answer that follows it is.
    """

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, delta: str) -> str:
        self._pending += delta
        thinking = _OPEN_THINK.search(self._pending)  # hold a reasoning block until it closes
        depth, cut = 0, 0
        for i, ch in enumerate(self._pending[: thinking.start() if thinking else None]):
            if ch in "[(<":
                depth += 1
            elif ch in "])>" and depth:
                depth -= 1
            elif ch.isspace() and depth == 0:
                cut = i + 1
        if not cut:
            return ""
        piece, self._pending = self._pending[:cut], self._pending[cut:]
        return sanitize(piece, strip=False)

    def flush(self) -> str:
        piece, self._pending = self._pending, ""
        return sanitize(piece, strip=False)
