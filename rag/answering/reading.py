"""Read, don't match: the reader finds the answer span in the best passages, in context.

Each of the top passages is read with its article's headline in front (the subject a sentence
leaves out is often only there), in one batched reader call; headlines are read, never quoted.
Every passage gives its best span; the cited sentence is the passage sentence that holds it. The
reader alone tells "about something else" well and "a plausible wrong answer" poorly, so a span is
judged on the signals together (`Signals`): its no-answer margin, the cross-encoder's relevance of
the cited sentence under its headline, whether the span is the kind of thing asked for
(`span_fits`: a number for "how many", a name for "which"; `role_agrees`: the title in front of a
name is the role asked about), whether the names and figures the question uses are near the
sentence (headline, chunk, paragraph: 300 passengers "on a weekday" in the ferry story does not
answer how many the Vale Line will carry), how many passages agree on the span, its lead over the
runner-up answer, and the passage's retrieval rank and score. A calibrator learned on dev
(`rag/answering/calibrator`) turns them into the probability that the answer is right; below its
operating point nothing answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import numpy as np

from rag.answering.answerability import Kind, asked_share_instead, counted_agrees, names_covered, role_agrees, span_fits
from rag.answering.calibrator import CLIP, Calibrator, Signals
from rag.answering.direct import duration_answer, when_answer
from rag.answering.question import Question
from rag.evidence import EvidenceSentence, RetrievedPassage
from rag.models.reader import Span

if TYPE_CHECKING:
    from rag.settings import AnswerSettings


class SpanReader(Protocol):
    def read(self, question: str, passages: Sequence[str], evidence_from: Sequence[int] | None = None) -> list[Span | None]: ...


class Relevance(Protocol):
    def score(self, query: str, passages: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ReadingPolicy:
    passages: int  # top passages the reader reads
    direct_max_words: int  # a longer span is a clause, never the direct answer
    min_probability: float | None = None  # below it nothing answers (None: the calibrator's operating point)
    direct_min_probability: float | None = None  # ... and the span is in bold only at or above this
    calibrator: Path | None = None  # its weights.json (None: the shipped one)

    @classmethod
    def from_settings(cls, a: "AnswerSettings") -> "ReadingPolicy":
        return cls(passages=a.reader_passages, direct_max_words=a.reader_direct_max_words, min_probability=a.reader_min_probability,
                   direct_min_probability=a.reader_direct_min_probability, calibrator=a.reader_calibrator)


@dataclass(frozen=True)
class Reading:
    """The answer the reader found: its span (absolute offsets in the article) and cited sentence."""

    sentence: EvidenceSentence
    start: int
    end: int
    span: str
    margin: float
    relevance: float
    signals: Signals
    probability: float = 0.0  # that an answer led by this reading is right (the calibrator's)
    likely: bool = False  # sure enough for a bold answer (the calibrator's operating point)
    others: tuple["Reading", ...] = ()  # the trusted reading's rivals from other articles (revised figures)


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
    """`run(question, passages, sentences)` → the best `Reading`, or None when none is likely enough."""

    def __init__(self, reader: SpanReader, relevance: Relevance, policy: ReadingPolicy, calibrator: Calibrator | None = None) -> None:
        self.reader, self.relevance, self.policy = reader, relevance, policy
        self.calibrator = calibrator or Calibrator.load(policy.calibrator)
        self.answer_at = self.calibrator.answer_at if policy.min_probability is None else policy.min_probability
        self.direct_at = self.calibrator.direct_at if policy.direct_min_probability is None else policy.direct_min_probability

    def candidates(self, question: Question, passages: list[RetrievedPassage], sentences: list[EvidenceSentence],
                   paragraph: Paragraph = _no_paragraph) -> list[Reading]:
        """One reading per passage that yields a span outside its headline, likeliest first."""
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
        readings = _with_agreement([self._reading(question, span, passage, sentence, offset, float(logit), paragraph)
                                    for (span, passage, sentence, offset), logit in zip(found, logits)])
        probabilities = [self.calibrator.probability(r.signals) for r in readings]
        readings = [replace(r, probability=p, likely=self.calibrator.bold(r.signals, p, self.direct_at))
                    for r, p in zip(readings, probabilities)]
        return sorted(readings, key=lambda r: -r.probability)

    def _reading(self, question: Question, span: Span, passage: RetrievedPassage, sentence: EvidenceSentence,
                 offset: int, logit: float, paragraph: Paragraph) -> Reading:
        start, text = passage.start + span.start - offset, span.text
        moved = _to_asked_share(question, sentence, start, text)
        if moved is not None:
            start, text = moved
        # The paragraph is a read of the stored article: only when the chunk lacks a name.
        # The reader reads a follow-up's own words; the topic it leans on must still be near.
        nearby, subject = f"{sentence.title} {sentence.context}", question.subject_names
        names = names_covered(question, nearby, names=subject) or names_covered(
            question, f"{nearby} {paragraph(sentence)}", names=subject)
        signals = Signals(reader=-span.margin, relevance=logit, fits=float(_fits(question, text, sentence, start)),
                          names=float(names), agree=0.0, gap=0.0, rank=float(passage.rank), retrieval=float(passage.score),
                          words=float(len(text.split())))
        return Reading(sentence, start, start + len(text), text, span.margin, logit, signals)

    def best(self, question: Question, passages: list[RetrievedPassage], sentences: list[EvidenceSentence],
             paragraph: Paragraph = _no_paragraph) -> Reading | None:
        """The likeliest reading, however unsure: a yes/no question takes its sentence as a
        candidate, not its span as the answer."""
        readings = self.candidates(question, passages, sentences, paragraph)
        return readings[0] if readings else None

    def run(self, question: Question, passages: list[RetrievedPassage], sentences: list[EvidenceSentence],
            paragraph: Paragraph = _no_paragraph) -> Reading | None:
        return self.answer(question, passages, sentences, paragraph)[0]

    def answer(self, question: Question, passages: list[RetrievedPassage], sentences: list[EvidenceSentence],
               paragraph: Paragraph = _no_paragraph) -> tuple[Reading | None, frozenset[str]]:
        """(the trusted reading or None, the articles read that gave no likely span): what the
        reader found nothing in is no answer, nor a revision of one."""
        readings = self.candidates(question, passages, sentences, paragraph)
        answered = {r.sentence.source for r in readings if r.probability >= self.answer_at}
        unanswered = frozenset(p.source for p in passages[: self.policy.passages]) - answered
        best = readings[0] if readings and readings[0].probability >= self.answer_at else None
        if best is not None:
            best = replace(best, others=tuple(r for r in readings[1:] if r.sentence.source != best.sentence.source))
        return best, unanswered

    def direct(self, reading: Reading, question: Question) -> str | None:
        """The span, verbatim, when the answer is likely enough for bold and the span is the kind
        of thing asked for (`span_fits`: a "how many" wants a number, a "which" a name; a day a
        "when" span names is resolved against the article's date); otherwise None, and the cited
        sentence speaks alone."""
        span = reading.span.strip()
        if not reading.likely or not span or len(span.split()) > self.policy.direct_max_words:
            return None
        if not _fits(question, span, reading.sentence, reading.start):  # judged against the question asked here
            return None  # 'offshore wind company' does not answer "Which company" in bold
        if question.kind is Kind.DURATION:
            return duration_answer(span)
        if question.kind is Kind.DATE:
            return when_answer(span, reading.sentence.published_on)
        return span if question.kind is not Kind.YES_NO else None


def same_answer(a: str, b: str) -> bool:
    """Two spans give one answer when one holds the other, case and punctuation aside
    ('SpongeBob SquarePants' and 'SpongeBob')."""
    fa, fb = _fold(a), _fold(b)
    return bool(fa and fb) and (f" {fa} " in f" {fb} " or f" {fb} " in f" {fa} ")


def _fold(text: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text.casefold()).split())


def _with_agreement(readings: list[Reading]) -> list[Reading]:
    """Each reading with how many other passages give its answer and its reader lead over the best
    reading that gives another (a lone answer leads by the clip)."""
    out = []
    for r in readings:
        others = [o for o in readings if o is not r]
        agree = sum(1 for o in others if same_answer(r.span, o.span))
        rivals = [o.signals.reader for o in others if not same_answer(r.span, o.span)]
        gap = r.signals.reader - max(rivals) if rivals else CLIP
        out.append(replace(r, signals=replace(r.signals, agree=float(agree), gap=gap)))
    return out

