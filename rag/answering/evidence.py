"""Sentence-level evidence: every sentence of the retrieved chunks, scored against the question.

score = w_dense * cosine(question, sentence) + w_lexical * weighted term coverage
        + w_type * (the sentence has the kind of thing asked for, e.g. a number)
        + w_rank * retrieval-rank prior.
Sentence vectors were stored at ingest, so scoring costs one query embedding and a dot product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.answering.text import WANTS_NUMBER, entities, has_number, stems
from rag.embeddings import Embedder
from rag.retrieval import RetrievedChunk



@dataclass(frozen=True)
class Weights:
    dense: float = 0.5
    lexical: float = 0.4
    kind: float = 0.1
    rank: float = 0.05


@dataclass
class Evidence:
    chunk: RetrievedChunk
    start: int  # absolute offsets in the article text
    end: int
    text: str
    score: float
    dense: float
    lexical: float
    vector: np.ndarray

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.chunk.source, self.start, self.end)


def score_sentences(
    question: str,
    chunks: list[RetrievedChunk],
    query_vector: np.ndarray,
    embedder: Embedder,
    weights: Weights = Weights(),
) -> list[Evidence]:
    """All distinct sentences of `chunks`, best first."""
    q_stems = stems(question)
    q_entities = entities(question)
    wants_number = bool(WANTS_NUMBER.search(question))
    seen: set[tuple[str, int, int]] = set()
    found: list[Evidence] = []
    for chunk in chunks:
        spans = list(chunk.sentences) or [(0, len(chunk.text))]
        vectors = chunk.sentence_vectors
        if vectors is None or len(vectors) != len(spans):
            vectors = embedder.embed([chunk.text[s:e] for s, e in spans])
        chunk_stems = stems(chunk.title + " " + chunk.text)
        for (s, e), vector in zip(spans, vectors):
            key = (chunk.source, chunk.start + s, chunk.start + e)
            text = chunk.text[s:e]
            if key in seen or not text.strip():
                continue
            seen.add(key)
            dense = float(np.dot(query_vector, vector))
            lexical = _coverage(q_stems, q_entities, stems(text), chunk_stems)
            kind = 1.0 if (not wants_number or has_number(text)) else 0.0
            score = (
                weights.dense * dense
                + weights.lexical * lexical
                + weights.kind * kind
                + weights.rank / chunk.rank
            )
            found.append(Evidence(chunk, key[1], key[2], text, score, dense, lexical, np.asarray(vector)))
    found.sort(key=lambda ev: (-ev.score, ev.key))
    return found


def _coverage(q_stems: set[str], q_entities: set[str], sentence: set[str], context: set[str]) -> float:
    """Share of the question's terms the sentence holds; entities count double, and a term found
    only in the sentence's surrounding chunk counts half."""
    if not q_stems:
        return 0.0
    total = got = 0.0
    for term in q_stems:
        weight = 2.0 if term in q_entities else 1.0
        total += weight
        if term in sentence:
            got += weight
        elif term in context:
            got += weight * 0.5
    return got / total
