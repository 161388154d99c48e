"""Which documents a question may draw on: chosen sources and a publication-date range.

A filter is resolved against the committed manifest into the set of allowed chunk ids; dense
retrieval gets the same restriction as a Chroma `where` (source and the sortable publication date)
and BM25 as a set of allowed chunks, so nothing outside the filter is retrieved, cited or listed as related.
An undated article is outside every date filter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle

from rag.index.manifest import Manifest
from rag.types import NewsragError


def parse_day(value: str | dt.date | None, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise NewsragError(f"--{name} must be a date like 2025-02-28, not '{value}'") from None


@dataclass(frozen=True)
class DocFilter:
    sources: frozenset[str] | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def build(cls, sources: Iterable[str] | None, since: Any, until: Any) -> "DocFilter":
        chosen = frozenset(str(s) for s in sources) if sources else None
        start, end = parse_day(since, "since"), parse_day(until, "until")
        if start and end and start > end:
            raise NewsragError(f"the date range is empty: since {start} is after until {end}")
        return cls(chosen, start, end)

    @property
    def active(self) -> bool:
        return bool(self.sources) or self.since is not None or self.until is not None

    @property
    def dated(self) -> bool:
        return self.since is not None or self.until is not None

    def narrow(self, since: dt.date | None, until: dt.date | None) -> "DocFilter":
        """The intersection with a range read from the question."""
        start = max(filter(None, (self.since, since)), default=None)
        end = min(filter(None, (self.until, until)), default=None)
        return DocFilter(self.sources, start, end)

    def admits(self, source: str, published: str | None) -> bool:
        if self.sources is not None and source not in self.sources:
            return False
        if not self.dated:
            return True
        if not published:
            return False
        day = dt.date.fromisoformat(published)
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)

    def check_sources(self, manifest: Manifest) -> None:
        unknown = sorted((self.sources or set()) - set(manifest.docs))
        if unknown:
            raise NewsragError(f"not in the index: {', '.join(unknown[:5])} (see `newsrag list`)")

    def allowed(self, manifest: Manifest) -> tuple[set[str], set[str]]:
        """(sources, chunk ids) the filter admits."""
        sources = {d.source for d in manifest.docs.values() if self.admits(d.source, d.published)}
        return sources, {cid for s in sources for cid in manifest.docs[s].chunk_ids}

    def chroma_where(self, sources: set[str]) -> dict[str, Any]:
        clauses: list[dict[str, Any]] = [{"source": {"$in": sorted(sources)}}]
        if self.dated:
            clauses.append({"published_num": {"$gte": _num(self.since) if self.since else 1}})
        if self.until:
            clauses.append({"published_num": {"$lte": _num(self.until)}})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _num(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


class FilteredDense(BaseRetriever):
    """Chroma nearest neighbours, under a `where` clause when one is given (llama-index's vector
    retriever cannot express `$in`, and building its index object costs a cold query ~0.5 s of
    imports); the query vector comes from the cached query embedder."""

    def __init__(self, collection: Any, embed_query: Any, where: dict[str, Any] | None, top_k: int) -> None:
        super().__init__()
        self._collection, self._embed, self._where, self._top_k = collection, embed_query, where, top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        vector = self._embed(query_bundle.query_str)
        where = {"where": self._where} if self._where else {}
        got = self._collection.query(query_embeddings=[list(map(float, vector))], n_results=self._top_k,
                                     include=["documents", "metadatas", "distances"], **where)
        return [NodeWithScore(node=chunk_node(cid, text, meta), score=1.0 - float(distance))
                for cid, text, meta, distance in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]


def chunk_node(chunk_id: str, text: str, metadata: dict[str, Any]) -> Any:
    """A stored chunk (Chroma's text and metadata) as the llama-index node retrieval hands on."""
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    node = metadata_dict_to_node(metadata, text=text)
    node.id_ = chunk_id
    return node
