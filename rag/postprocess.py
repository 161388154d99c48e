"""Node postprocessors between retrieval and answering (llama-index `BaseNodePostprocessor`s).

committed only -> cross-encoder rerank of chunks -> sentence evidence. Each takes and returns
`NodeWithScore`s, so they compose like any llama-index pipeline and are tested one by one.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle
from pydantic import Field, PrivateAttr

from rag.answering import nodes as N
from rag.answering.text import stems


class CommittedOnly(BaseNodePostprocessor):
    """Drops hits the manifest does not commit (orphans of an interrupted ingest)."""

    committed: set[str] = Field(default_factory=set)

    @classmethod
    def class_name(cls) -> str:
        return "CommittedOnly"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: Optional[QueryBundle] = None) -> list[NodeWithScore]:
        return [n for n in nodes if n.node.node_id in self.committed]


class OneCopyPerGroup(BaseNodePostprocessor):
    """A wire story reprinted by several outlets counts once: of each group of near-duplicate
    articles only one copy's chunks stay, the group's earliest copy when it was retrieved, else
    the best-ranked copy (its quote must be verbatim in the article it cites)."""

    groups: dict[str, str] = Field(default_factory=dict)  # source -> group id (the earliest copy)

    @classmethod
    def class_name(cls) -> str:
        return "OneCopyPerGroup"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: Optional[QueryBundle] = None) -> list[NodeWithScore]:
        if not self.groups:
            return nodes
        present = [N.source(n) for n in nodes]
        keeper: dict[str, str] = {}
        for source in present:  # best-ranked first
            group = self.groups.get(source)
            if group is not None and group not in keeper:
                keeper[group] = group if group in present else source
        return [n for n in nodes if N.source(n) not in self.groups or keeper[self.groups[N.source(n)]] == N.source(n)]


class CrossEncoderRerank(BaseNodePostprocessor):
    """Reorders the best `top_n` fused chunks by the cross-encoder's (question, title + the chunk's
    first `passage_words` words) logit; the rest follow in fusion order; `keep` are returned.

    Only the head is cross-encoded because each pair costs a model pass; the passage is cut
    because a chunk's lead says what it is about, and each word read costs model time.
    """

    top_n: int = 6
    keep: int = 6
    passage_words: int = 0
    _reranker: Any = PrivateAttr()

    def __init__(self, reranker: Any, top_n: int, keep: int, passage_words: int = 0) -> None:
        super().__init__(top_n=top_n, keep=keep, passage_words=passage_words)
        self._reranker = reranker

    @classmethod
    def class_name(cls) -> str:
        return "CrossEncoderRerank"

    def _passage(self, node: NodeWithScore) -> str:
        text = N.text(node)
        if self.passage_words:
            text = " ".join(text.split()[: self.passage_words])
        return f"{N.title(node)}. {text}"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: Optional[QueryBundle] = None) -> list[NodeWithScore]:
        head, tail = nodes[: self.top_n], nodes[self.top_n :]
        if not head or query_bundle is None:
            return nodes[: self.keep]
        logits = self._reranker.score(query_bundle.query_str, [self._passage(n) for n in head])
        order = sorted(range(len(head)), key=lambda i: (-float(logits[i]), i))
        return ([NodeWithScore(node=head[i].node, score=float(logits[i])) for i in order] + tail)[: self.keep]


class SentenceEvidence(BaseNodePostprocessor):
    """Splits chunks into sentence nodes (absolute offsets), best first.

    Every sentence gets a cheap pre-score: `dense_weight * cosine(query, stored sentence vector)
    + lexical_weight * share of the query's terms it holds + rank_weight / chunk rank`. With a
    cross-encoder, the best `candidates` are scored (question, sentence) by it and ordered by that
    logit (the rest follow, unscored); without one, the pre-score is the score.
    """

    candidates: int = 10
    dense_weight: float = 0.5
    lexical_weight: float = 0.4
    rank_weight: float = 0.05
    _reranker: Any = PrivateAttr()
    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Any, reranker: Any | None = None, **weights: Any) -> None:
        super().__init__(**weights)
        self._embedder = embedder
        self._reranker = reranker

    @classmethod
    def class_name(cls) -> str:
        return "SentenceEvidence"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: Optional[QueryBundle] = None) -> list[NodeWithScore]:
        if not nodes or query_bundle is None:
            return []
        query = query_bundle.query_str
        qvec = np.asarray(
            query_bundle.embedding if query_bundle.embedding is not None else self._embedder.embed([query])[0],
            dtype=np.float32,
        )
        q_stems = stems(query)
        sentences = self._split(nodes)
        for sent in sentences:
            meta = N.meta(sent)
            dense = float(np.dot(qvec, meta["vector"]))
            lexical = len(q_stems & stems(N.text(sent))) / len(q_stems) if q_stems else 0.0
            meta["prescore"] = (
                self.dense_weight * dense + self.lexical_weight * lexical + self.rank_weight / meta["chunk_rank"]
            )
            sent.score = meta["prescore"]
        sentences.sort(key=lambda s: (-N.score(s), N.key(s)))
        if self._reranker is None:
            return sentences
        head, tail = sentences[: self.candidates], sentences[self.candidates:]
        logits = self._reranker.score(query, [N.text(s) for s in head])
        for sent, value in zip(head, logits):
            N.meta(sent)["logit"] = float(value)
            sent.score = float(value)
        head.sort(key=lambda s: (-N.score(s), N.key(s)))
        for sent in tail:
            sent.score = None  # not scored by the cross-encoder: never an answer
        return head + tail

    def _split(self, chunks: list[NodeWithScore]) -> list[NodeWithScore]:
        seen: dict[tuple[str, int, int], NodeWithScore] = {}
        out: list[NodeWithScore] = []
        for rank, chunk in enumerate(chunks, start=1):
            spans = N.spans(chunk)
            vectors = N.sentence_vectors(chunk)
            if vectors is None or len(vectors) != len(spans):
                vectors = self._embedder.embed([N.text(chunk)[s:e] for s, e in spans])
            for span, vec in zip(spans, vectors):
                if not N.text(chunk)[span[0]:span[1]].strip():
                    continue
                sent = N.make_sentence(chunk, span, vec, rank)
                first = seen.get(N.key(sent))
                if first is None:
                    seen[N.key(sent)] = sent
                    out.append(sent)
                else:
                    # A sentence in the overlap of two retrieved chunks reads in the context of
                    # both, so what it refers to does not depend on which chunk ranked first.
                    N.meta(first)["context"] += "\n" + N.text(chunk)
        return out
