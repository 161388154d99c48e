"""Dense (Chroma), BM25 and weighted reciprocal-rank-fused retrieval, as llama-index retrievers.

They return chunk `NodeWithScore`s; `rag.postprocess.CommittedOnly` then keeps only the chunks the
manifest commits, so a query that runs while an ingest is writing sees the last consistent index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle

from rag.embeddings import Embedder


class KeywordRetriever(BaseRetriever):
    """BM25 over the committed keyword segments (`rag.index.KeywordIndex`); a filter's `allowed`
    chunk ids restrict the hits, never the statistics. Hits carry the chunk as the vector store
    holds it (verbatim text and metadata, one read for all of them), like the dense side's."""

    def __init__(self, index: Any, rows_of: Callable[[list[str]], list[dict[str, Any]]], top_k: int,
                 allowed: set[str] | None = None) -> None:
        super().__init__()
        self._index, self._rows_of, self._top_k, self._allowed = index, rows_of, top_k, allowed

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        from rag.filters import chunk_node

        best = self._index.search(query_bundle.query_str, self._top_k, self._allowed)
        rows = {r["id"]: r for r in self._rows_of([cid for cid, _ in best])} if best else {}
        return [NodeWithScore(node=chunk_node(cid, rows[cid]["text"], rows[cid]["metadata"]), score=score)
                for cid, score in best if cid in rows]


class WeightedRRFRetriever(BaseRetriever):
    """Reciprocal rank fusion with a weight per retriever: score = sum(w / (k + rank))."""

    def __init__(self, retrievers: Sequence[tuple[BaseRetriever, float]], rrf_k: int = 60, top_k: int = 10) -> None:
        if not retrievers:
            raise ValueError("WeightedRRFRetriever needs at least one retriever")
        if rrf_k < 1:
            raise ValueError("rrf_k must be >= 1")
        super().__init__()
        self._retrievers = list(retrievers)
        self._rrf_k = rrf_k
        self._top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        fused: dict[str, float] = {}
        nodes: dict[str, NodeWithScore] = {}
        for retriever, weight in self._retrievers:
            for rank, hit in enumerate(retriever.retrieve(query_bundle), start=1):
                node_id = hit.node.node_id
                fused[node_id] = fused.get(node_id, 0.0) + weight / (self._rrf_k + rank)
                nodes.setdefault(node_id, hit)
        ranked = sorted(fused, key=lambda nid: (-fused[nid], nid))[: self._top_k]
        return [NodeWithScore(node=nodes[nid].node, score=fused[nid]) for nid in ranked]


def build_retriever(
    mode: str,
    collection: Any,
    embedder: Embedder,
    bm25: Any,
    candidate_k: int,
    dense_weight: float,
    bm25_weight: float,
    rrf_k: int,
    *,
    where: dict[str, Any] | None = None,
    allowed: set[str] | None = None,
    rows_of: Callable[[list[str]], list[dict[str, Any]]] | None = None,
) -> BaseRetriever | None:
    """The one place retrieval modes are chosen: up to `candidate_k` fused chunks, best first.
    A filter restricts both sides up front: `where` for Chroma, `allowed` chunk ids for BM25 (the
    shared, loaded `bm25` KeywordIndex; None when nothing is keyword-indexed). None when there is
    nothing to search."""
    from rag.filters import FilteredDense

    parts: list[tuple[BaseRetriever, float]] = []
    if mode in ("dense", "hybrid"):
        parts.append((FilteredDense(collection, lambda q: embedder.embed_queries([q])[0], where, candidate_k), dense_weight))
    if mode in ("bm25", "hybrid") and bm25 is not None:
        parts.append((KeywordRetriever(bm25, rows_of, candidate_k, allowed), bm25_weight))
    if not parts:
        return None
    return parts[0][0] if len(parts) == 1 else WeightedRRFRetriever(parts, rrf_k=rrf_k, top_k=candidate_k)
