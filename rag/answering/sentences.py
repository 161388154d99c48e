"""Sentence evidence: the retrieved passages cut into sentences, scored, best first."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from rag.answering.text import stems
from rag.evidence import EvidenceSentence, RetrievedPassage
from rag.types import Citation


class SentenceEvidence:
    """Cuts passages into sentences (absolute offsets) and ranks them, best first.

    Every sentence gets a cheap pre-score: `dense_weight * cosine(query, stored sentence vector)
    + lexical_weight * share of the query's terms it holds + rank_weight / passage rank`. With a
    cross-encoder, the best `candidates` are scored (question, sentence) by it and ordered by that
    logit (the rest follow with no score: never an answer); without one, the pre-score is the score.
    The numbers come from Settings (`sentence_candidates`, `evidence_*_weight`); none is defaulted here.
    """

    def __init__(
        self, embedder: Any, reranker: Any | None, *, candidates: int, dense_weight: float,
        lexical_weight: float, rank_weight: float,
    ) -> None:
        self.embedder = embedder
        self.reranker = reranker
        self.candidates = candidates
        self.dense_weight = dense_weight
        self.lexical_weight = lexical_weight
        self.rank_weight = rank_weight

    def run(self, query: str, passages: Sequence[RetrievedPassage]) -> list[EvidenceSentence]:
        if not passages:
            return []
        qvec = np.asarray(self.embedder.embed([query])[0], dtype=np.float32)
        q_stems = stems(query)
        scored = [self._prescored(sent, qvec, q_stems) for sent in self.cut(passages)]
        scored.sort(key=lambda s: (-(s.score or 0.0), s.key))
        if self.reranker is None:
            return scored
        head, tail = scored[: self.candidates], scored[self.candidates:]
        logits = self.reranker.score(query, [s.text for s in head])
        head = [replace(s, logit=float(v), score=float(v)) for s, v in zip(head, logits)]
        head.sort(key=lambda s: (-(s.score or 0.0), s.key))
        return head + [replace(s, score=None) for s in tail]

    def _prescored(self, sent: EvidenceSentence, qvec: np.ndarray, q_stems: set[str]) -> EvidenceSentence:
        dense = float(np.dot(qvec, sent.vector))
        lexical = len(q_stems & stems(sent.text)) / len(q_stems) if q_stems else 0.0
        prescore = self.dense_weight * dense + self.lexical_weight * lexical + self.rank_weight / sent.chunk_rank
        return replace(sent, prescore=prescore, score=prescore)

    def cut(self, passages: Sequence[RetrievedPassage]) -> list[EvidenceSentence]:
        """Each passage's non-blank sentences, once each, in passage order."""
        out: list[EvidenceSentence] = []
        at: dict[tuple[str, int, int], int] = {}
        for passage in passages:
            for span, vector in zip(passage.spans, self._vectors(passage)):
                if not passage.text[span[0]:span[1]].strip():
                    continue
                sent = EvidenceSentence.cut(passage, span, vector)
                first = at.get(sent.key)
                if first is None:
                    at[sent.key] = len(out)
                    out.append(sent)
                else:
                    # A sentence in the overlap of two retrieved passages reads in the context of
                    # both, so what it refers to does not depend on which passage ranked first.
                    out[first] = replace(out[first], context=f"{out[first].context}\n{passage.text}")
        return out

    def _vectors(self, passage: RetrievedPassage) -> np.ndarray:
        """The stored sentence vectors, or fresh ones when the passage carries none (or a stale set)."""
        if passage.vectors is not None and len(passage.vectors) == len(passage.spans):
            return passage.vectors
        return self.embedder.embed([passage.text[s:e] for s, e in passage.spans])


def citation(
    marker: int, evidence: EvidenceSentence | RetrievedPassage, quote_span: tuple[int, int] | None = None,
    value: float | None = None,
) -> Citation:
    """A verbatim citation of an evidence sentence, or of the `quote_span` sentence of a passage."""
    s, e = quote_span if quote_span is not None else (0, len(evidence.text))
    return Citation(
        marker=marker,
        source=evidence.source,
        title=evidence.title,
        chunk_id=evidence.chunk_id,
        quote=evidence.text[s:e],
        start=evidence.start + s,
        end=evidence.start + e,
        score=round((evidence.score or 0.0) if value is None else value, 4),
        url=evidence.url,
        published=evidence.published,
    )
