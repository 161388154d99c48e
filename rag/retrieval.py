"""Dense (Chroma), BM25 and weighted reciprocal-rank-fused retrieval, as llama-index retrievers.

They return chunk `NodeWithScore`s; `rag.postprocess.CommittedOnly` then keeps only the chunks the
manifest commits, so a query that runs while an ingest is writing sees the last consistent index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle

from rag.embeddings import Embedder


def bm25_retriever(path: Path, top_k: int, expect_index: bool = True) -> BaseRetriever | None:
    """The BM25 retriever persisted under `path`; None when the manifest names no keyword index
    (no chunks, or a first ingest killed before its BM25 build: dense answers meanwhile). A folder
    the manifest names but that is missing is a NewsragError, never a silent dense-only search: it
    is how another process's commit (which prunes the old folder) shows itself to a reader."""
    from rag.index import load_bm25
    from rag.types import NewsragError

    index_dir = path / "index"
    if not expect_index:
        return None
    if not index_dir.exists():
        raise NewsragError("the BM25 keyword index is missing; run `newsrag ingest` to rebuild it")

    retriever = load_bm25(index_dir)
    retriever.similarity_top_k = min(top_k, len(retriever.corpus))
    return retriever


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
    bm25: BaseRetriever | None,
    candidate_k: int,
    dense_weight: float,
    bm25_weight: float,
    rrf_k: int,
    *,
    where: dict[str, Any] | None = None,
    allowed: set[str] | None = None,
) -> BaseRetriever | None:
    """The one place retrieval modes are chosen: up to `candidate_k` fused chunks, best first.
    A filter restricts both sides up front: `where` for Chroma, `allowed` chunk ids for BM25 (a
    per-query weight mask over the shared, loaded `bm25`). None when there is nothing to search."""
    from rag.filters import FilteredDense, MaskedBM25

    parts: list[tuple[BaseRetriever, float]] = []
    if mode in ("dense", "hybrid"):
        parts.append((FilteredDense(collection, lambda q: embedder.embed_queries([q])[0], where, candidate_k), dense_weight))
    if mode in ("bm25", "hybrid") and bm25 is not None:
        parts.append((MaskedBM25(bm25, allowed, candidate_k) if allowed is not None else bm25, bm25_weight))
    if not parts:
        return None
    return parts[0][0] if len(parts) == 1 else WeightedRRFRetriever(parts, rrf_k=rrf_k, top_k=candidate_k)
