"""Read, don't match: the reader finds the answer span in the best passages, in context.

Each of the top passages is read with its article's headline in front (the subject a sentence
leaves out is often only there), in one batched reader call; headlines are read, never quoted.
Every passage gives its best span; the cited sentence is the passage sentence that holds it. A
span is trusted on three signals together, because the reader alone tells "about something else"
well and "a plausible wrong answer" poorly: its no-answer margin (how much surer it is of the span
than of "no answer"), the cross-encoder's relevance of the cited sentence under its headline, and
whether the span is the kind of thing asked for (`span_fits`: a number for "how many", a name for
"which"; `role_agrees`: the title in front of a name is the role asked about), and whether the
names and figures the question uses are in the sentence's surroundings (headline, chunk, paragraph): 300
passengers "on a weekday" in the ferry story does not answer how many the Vale Line will carry.
`confidence = -margin + relevance_weight * relevance - type_mismatch_penalty - missing_name_penalty`
(each penalty only when its check fails); below `min_confidence` nothing answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from rag.answering.answerability import Kind, asked_share_instead, counted_agrees, names_covered, role_agrees, span_fits
from rag.answering.direct import duration_answer, when_answer
from rag.answering.question import Question
from rag.evidence import EvidenceSentence, RetrievedPassage
from rag.models.reader import Span


class SpanReader(Protocol):
    def read(self, question: str, passages: Sequence[str], evidence_from: Sequence[int] | None = None) -> list[Span | None]: ...


class Relevance(Protocol):
    def score(self, query: str, passages: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ReadingPolicy:
    passages: int  # top passages the reader reads
    relevance_weight: float  # weight of the cross-encoder logit beside the reader's margin
    min_confidence: float  # below it the passages do not answer the question
    direct_max_margin: float  # the span is shown as the direct answer only below this margin
    direct_max_words: int  # ... and only when it is this short (a long span is a clause, not an answer)
    direct_min_relevance: float  # ... and only when the cross-encoder does not find its sentence off the point
    type_mismatch_penalty: float  # confidence taken from a span that is not the kind asked for
    missing_name_penalty: float  # ... from a span whose surroundings lack a name the question uses


@dataclass(frozen=True)
class Reading:
    """The answer the reader found: its span (absolute offsets in the article) and cited sentence."""

    sentence: EvidenceSentence
    start: int
    end: int
    span: str
    margin: float
    relevance: float
    confidence: float


def _context(passage: RetrievedPassage) -> tuple[str, int]:
    """The passage as read: headline in front when there is one; (text, where evidence starts)."""
    if not passage.title:
        return passage.text, 0
    head = f"{passage.title.rstrip('. ')}. "
    return head + passage.text, len(head)


def _sentence_of(passage: RetrievedPassage, at: int, known: dict[tuple[str, int, int], EvidenceSentence]) -> EvidenceSentence | None:
    """The passage sentence holding relative offset `at` (the scored one when answering has it)."""
    for index, (s, e) in enumerate(passage.spans):
        if s <= at < e:
            key = (passage.source, passage.start + s, passage.start + e)
            if key in known:
                return known[key]
            vector = passage.vectors[index] if passage.vectors is not None and len(passage.vectors) > index else np.zeros(1)
            return EvidenceSentence.cut(passage, (s, e), vector)
    return None


def _fits(question: Question, span: str, sentence: EvidenceSentence, start: int) -> bool:
    """The span (at article offset `start`) is the kind of thing asked for, and the title in front
    of it is the role asked about ('Finance Minister X' does not answer "Who is the foreign minister?")."""
    before = sentence.text[: max(0, start - sentence.start)]
    after = sentence.text[max(0, start - sentence.start) + len(span):]
    return (span_fits(question.kind, span, question, dated=sentence.published_on is not None)
            and role_agrees(question, before) and counted_agrees(question, after, sentence.text))


def _to_asked_share(question: Question, sentence: EvidenceSentence, start: int, span: str) -> tuple[int, str] | None:
    """(start, text) of the asked population's share when the reader took another's from a
    sentence comparing them ('35%' of "35% of women ..., compared to only 18% of men" for
    "What percentage of men ..."); None when the span is right or the sentence names no other."""
    at = start - sentence.start
    found = asked_share_instead(question, sentence.text[at + len(span):], sentence.text)
    return None if found is None else (sentence.start + found[0], sentence.text[found[0]:found[1]])


# The paragraph of its article that holds a sentence; a chunk can start after the paragraph's
# subject ('Arsenal go into the game ... Striker Thierry Henry ... scored against Fulham').
Paragraph = Callable[[EvidenceSentence], str]


def _no_paragraph(sentence: EvidenceSentence) -> str:
    return ""


class PassageReader:
    """`run(question, passages, sentences)` → the best `Reading`, or None when none is confident."""

    def __init__(self, reader: SpanReader, relevance: Relevance, policy: ReadingPolicy) -> None:
        self.reader, self.relevance, self.policy = reader, relevance, policy

    def candidates(self, question: Question, passages: list[RetrievedPassage], sentences: list[EvidenceSentence],
                   paragraph: Paragraph = _no_paragraph) -> list[Reading]:
        """One reading per passage that yields a span outside its headline, best first."""
        top = passages[: self.policy.passages]
        if not top:
            return []
        contexts = [_context(p) for p in top]
        spans = self.reader.read(question.read_as, [t for t, _ in contexts], [offset for _, offset in contexts])
        known = {s.key: s for s in sentences}
        found: list[tuple[Span, RetrievedPassage, EvidenceSentence, int]] = []
        for span, passage, (_, offset) in zip(spans, top, contexts):
            sentence = None if span is None else _sentence_of(passage, span.start - offset, known)
            if span is not None and sentence is not None:
                found.append((span, passage, sentence, offset))
        if not found:
            return []
        logits = self.relevance.score(question.query, [f"{p.title}. {s.text}" if p.title else s.text for _, p, s, _ in found])
        readings = [self._reading(question, span, passage, sentence, offset, float(logit), paragraph)
                    for (span, passage, sentence, offset), logit in zip(found, logits)]
        return sorted(readings, key=lambda r: -r.confidence)

    def _reading(self, question: Question, span: Span, passage: RetrievedPassage, sentence: EvidenceSentence,
                 offset: int, logit: float, paragraph: Paragraph) -> Reading:
        start, text = passage.start + span.start - offset, span.text
        moved = _to_asked_share(question, sentence, start, text)
        if moved is not None:
            start, text = moved
        confidence = -span.margin + self.policy.relevance_weight * logit
        if not _fits(question, text, sentence, start):
            confidence -= self.policy.type_mismatch_penalty
        # The paragraph is a read of the stored article: only when the chunk lacks a name.
        # The reader reads a follow-up's own words; the topic it leans on must still be near.
        nearby, subject = f"{sentence.title} {sentence.context}", question.subject_names
        if not names_covered(question, nearby, names=subject) and not names_covered(
                question, f"{nearby} {paragraph(sentence)}", names=subject):
            confidence -= self.policy.missing_name_penalty
        return Reading(sentence, start, start + len(text), text, span.margin, logit, confidence)

    def best(self, question: Question, passages: list[RetrievedPassage], sentences: list[EvidenceSentence],
             paragraph: Paragraph = _no_paragraph) -> Reading | None:
        """The most confident reading, however unsure: a yes/no question takes its sentence as a
        candidate, not its span as the answer."""
        readings = self.candidates(question, passages, sentences, paragraph)
        return readings[0] if readings else None

    def run(self, question: Question, passages: list[RetrievedPassage], sentences: list[EvidenceSentence],
            paragraph: Paragraph = _no_paragraph) -> Reading | None:
        return self.answer(question, passages, sentences, paragraph)[0]

    def answer(self, question: Question, passages: list[RetrievedPassage], sentences: list[EvidenceSentence],
               paragraph: Paragraph = _no_paragraph) -> tuple[Reading | None, frozenset[str]]:
        """(the trusted reading or None, the articles read that gave no confident span): what the
        reader found nothing in is no answer, nor a revision of one."""
        readings = self.candidates(question, passages, sentences, paragraph)
        answered = {r.sentence.source for r in readings if r.confidence >= self.policy.min_confidence}
        unanswered = frozenset(p.source for p in passages[: self.policy.passages]) - answered
        best = readings[0] if readings and readings[0].confidence >= self.policy.min_confidence else None
        return best, unanswered

    def direct(self, reading: Reading, question: Question) -> str | None:
        """The span, verbatim, when the reader is sure of it and it is the kind of thing asked for
        (`span_fits`: a "how many" wants a number, a "which" a name; a day a "when" span names is
        resolved against the article's date); otherwise None, and the cited sentence speaks alone."""
        span = reading.span.strip()
        if (reading.margin > self.policy.direct_max_margin or reading.relevance < self.policy.direct_min_relevance
                or not span or len(span.split()) > self.policy.direct_max_words):
            return None
        if not _fits(question, span, reading.sentence, reading.start):  # judged against the question asked here
            return None  # 'offshore wind company' does not answer "Which company" in bold
        if question.kind is Kind.DURATION:
            return duration_answer(span)
        if question.kind is Kind.DATE:
            return when_answer(span, reading.sentence.published_on)
        return span if question.kind is not Kind.YES_NO else None
