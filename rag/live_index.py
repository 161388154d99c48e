"""The live index: the committed index as this process sees it, kept current while others write.

It holds the manifest (the commit log's head), the vector store, the loaded BM25 index and the
retrievers built on them, and swaps them when a commit lands: another process's (noticed by the
manifest's stamp, then the embedded Chroma client is reopened: it never sees another process's
writes) or this process's own (`own_write`). A query that started on an index another process
has just replaced retries on the new one. Retrieval speaks llama-index (`NodeWithScore` through
the retrievers and postprocessors); what leaves this room is `RetrievedPassage`.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from rag.errors import IndexUnavailable, InvalidRequest, NewsragError, NotFound
from rag.evidence import EvidenceSentence, RetrievedPassage
from rag.filters import DocFilter
from rag.index import ArticleStore, ChunkCollection, KeywordIndex, Manifest, VectorStore, load_segment, unpack_vectors
from rag.index import keys as K
from rag.index.layout import IndexPaths
from rag.retrieval import build_retriever
from rag.settings import Settings

if TYPE_CHECKING:
    from llama_index.core.schema import NodeWithScore, QueryBundle

    from rag.embeddings import QueryCache
    from rag.models.reranker import CrossEncoder

EMPTY_INDEX = "the index is empty: add articles with `newsrag ingest PATH` (or upload them in the web UI)"
RETRIEVERS = ("hybrid", "dense", "bm25")


class LiveIndex:
    def __init__(
        self, settings: Settings, paths: IndexPaths, store: VectorStore, queries: "QueryCache",
        reranker: "CrossEncoder | None",
    ) -> None:
        self.settings, self.paths, self.store = settings, paths, store
        self.queries, self.reranker = queries, reranker
        self.articles = ArticleStore(paths.articles)
        self._lock = threading.RLock()
        self._retrievers: dict[str, Any] = {}
        self._manifest: Manifest | None = None
        self._source_of_chunk: dict[str, str] = {}
        self._groups: dict[str, str] = {}  # source -> its wire-copy group, for the committed manifest
        # Loaded keyword segments by name: immutable files, so a commit loads only the new ones.
        self._segments: dict[str, Any] = {}
        self._manifest_stamp: int | None = None
        self._writes = 0  # writes by this process in progress

    # ------------------------------------------------------------------ the committed state
    def _stamp(self) -> int | None:
        try:
            return self.paths.manifest.stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def invalidate(self) -> None:
        with self._lock:
            self._retrievers.clear()
            self._manifest = None

    def manifest(self) -> Manifest:
        """The committed index, reloaded when another process has changed it (then the vector
        store is reopened too: an embedded Chroma never sees another process's writes)."""
        with self._lock:
            stamp = self._stamp()
            if self._manifest is None or stamp != self._manifest_stamp:
                manifest = Manifest.load(self.paths.manifest)
                if self._manifest_stamp is not None and stamp != self._manifest_stamp and not self._writes:
                    self._retrievers.clear()  # before the reopen, which frees the old client
                    self.store.reopen()
                self._manifest, self._manifest_stamp = manifest, stamp
                self._source_of_chunk = {cid: d.source for d in manifest.docs.values() for cid in d.chunk_ids}
                self._groups = {d.source: d.group for d in manifest.docs.values() if d.group}
                self._retrievers.clear()
            return self._manifest

    @contextmanager
    def own_write(self) -> Iterator[None]:
        """Brackets this process's ingest or remove. Once it has committed, the vector store is
        reopened, as for another process's commit: an embedded Chroma 1.5 client that served a
        read between two writes sometimes leaves a later-written vector out of its in-memory
        index (queries miss it until the index is reloaded from disk, where it is; a few runs in a
        hundred on the seeds, reproduced with chromadb alone)."""
        with self._lock:
            self._writes += 1
            before = self._stamp()
        try:
            yield
        finally:
            with self._lock:
                self._writes -= 1
                self.invalidate()
                self._manifest_stamp = self._stamp()
                if self._manifest_stamp != before and not self._writes:
                    self.store.reopen()

    def check_queryable(self, manifest: Manifest, embedder_name: str) -> None:
        """An index built by another embedder cannot be queried with this one."""
        if manifest.version == 1:
            raise IndexUnavailable("the index was written by an older newsrag; run `newsrag ingest --rebuild`")
        if manifest.docs and manifest.embedding != embedder_name:
            raise IndexUnavailable(
                f"the index was built with {manifest.embedding}, but the settings say {embedder_name}; "
                "run `newsrag ingest --rebuild` (or set NEWSRAG_EMBEDDING_BACKEND back)"
            )

    # ------------------------------------------------------------------ documents
    def documents(self) -> list[dict[str, Any]]:
        """One row per document: source, title, published, chunks, origin, url, kind, path, content_hash."""
        return [
            {"source": d.source, "title": d.title, "published": d.published, "chunks": len(d.chunk_ids),
             "origin": d.origin, "url": d.url, "kind": d.kind, "path": d.path, "content_hash": d.content_hash}
            for d in sorted(self.manifest().docs.values(), key=lambda d: d.source)
        ]

    def article(self, source: str) -> dict[str, Any]:
        """An indexed article by its source name (exactly as the manifest has it; never a path)."""
        doc = self.manifest().docs.get(source)
        if doc is None:
            raise NotFound("no such article in the index")
        return {"source": doc.source, "title": doc.title, "url": doc.url, "published": doc.published,
                "text": self.articles.get(doc.content_hash)}

    def paragraph(self, sentence: EvidenceSentence) -> str:
        """The paragraph of its article that holds the sentence; '' when the article is gone or
        changed (another process's ingest): the answer then reads the chunk alone."""
        doc = self.manifest().docs.get(sentence.source)
        return "" if doc is None else self.articles.paragraph(doc.content_hash, sentence.start, sentence.end, sentence.text)

    def article_for_chunk(self, chunk_id: str) -> dict[str, Any]:
        self.manifest()  # reloads, with the chunk map, if an ingest changed the index
        source = self._source_of_chunk.get(chunk_id)
        if source is None:
            raise NotFound("no such citation in the index")
        return self.article(source)

    def wire_copies(self) -> dict[str, list[str]]:
        """Source -> the other copies of its wire story, oldest first."""
        manifest = self.manifest()
        members: dict[str, list[str]] = {}
        for doc in sorted(manifest.docs.values(), key=lambda d: (d.published or "9999", d.source)):
            if doc.group:
                members.setdefault(doc.group, []).append(doc.source)
        return {d.source: [s for s in members[d.group] if s != d.source] for d in manifest.docs.values() if d.group}

    # ------------------------------------------------------------------ retrieval
    def chunk_collection(self, manifest: Manifest) -> ChunkCollection:
        """The Chroma collection the committed manifest names (a rebuild switches it)."""
        self.check_queryable(manifest, self.queries.name)
        if not manifest.collection:
            raise IndexUnavailable(EMPTY_INDEX)
        return self.store.collection(manifest.collection)

    def keyword_dir(self, manifest: Manifest) -> Path:
        """The folder of the keyword segments (the manifest names which of its files are committed)."""
        return self.paths.keyword

    def keyword_index(self, manifest: Manifest) -> KeywordIndex | None:
        """The committed keyword segments with their live rows; None when the manifest names none
        (no chunks, or a first ingest killed before its keyword commit: dense answers meanwhile).
        A named segment that is missing is a NewsragError, never a silent dense-only search: it is
        how another process's commit (which prunes merged segments) shows itself to a reader."""
        names = [name for name, _ in manifest.keyword_segments]
        if not names:
            return None
        self._segments = {n: self._segments.get(n) or load_segment(self.paths.keyword, n) for n in names}
        owner = {cid: d.keyword for d in manifest.docs.values() if d.keyword for cid in d.chunk_ids}
        return KeywordIndex([self._segments[n] for n in names], owner)

    def _retriever(self, mode: str, manifest: Manifest, flt: DocFilter) -> Any:
        """Fused candidates of the committed index; a filter restricts both retrievers up front
        (a Chroma `where` and a BM25 weight mask), so a narrow filter never starves the results.
        The loaded BM25 index and the unfiltered retrievers are kept until the manifest changes."""
        if not manifest.docs:
            return None
        r = self.settings.retrieval
        if "bm25" not in self._retrievers:
            self._retrievers["bm25"] = self.keyword_index(manifest)

        def build(**restrict: Any) -> Any:
            collection = self.chunk_collection(manifest)
            return build_retriever(mode, collection.raw, self.queries, self._retrievers["bm25"],
                                   r.candidate_k, r.dense_weight, r.bm25_weight, r.rrf_k, rows_of=collection.get,
                                   **restrict)

        if not flt.active:
            if f"mode:{mode}" not in self._retrievers:
                self._retrievers[f"mode:{mode}"] = build()
            return self._retrievers[f"mode:{mode}"]
        allowed_sources, allowed_ids = flt.allowed(manifest)
        return build(where=flt.chroma_where(allowed_sources), allowed=allowed_ids) if allowed_ids else None

    def retrieve(
        self, query: str, mode: str | None = None, top_k: int | None = None, *, doc_filter: DocFilter | None = None,
        rerank: bool = True, per_article: bool = False,
    ) -> list[RetrievedPassage]:
        """The best passages for `query`: fused candidates within the filter, committed only, one
        copy per group of wire copies, reranked by the cross-encoder when configured (and `rerank`),
        `top_k` kept, each with its sentence vectors. `per_article`: each article's best chunk
        only, and all `top_k` of them cross-encoded (a briefing ranks stories)."""
        from llama_index.core.schema import QueryBundle

        mode = mode or self.settings.retrieval.retriever
        if mode not in RETRIEVERS:
            raise InvalidRequest(f"unknown retriever '{mode}': use hybrid, dense or bm25")
        flt = doc_filter or DocFilter.build(None, None, None)
        bundle = QueryBundle(query_str=query)
        keep = top_k or self.settings.retrieval.top_k
        attempt = 0
        while True:
            stamp = None
            try:
                with self._lock:
                    manifest = self.manifest()
                    stamp = self._manifest_stamp
                    flt.check_sources(manifest)
                    retriever = self._retriever(mode, manifest, flt)
                if retriever is None:
                    return []
                return self._postprocess(retriever.retrieve(bundle), bundle, manifest, keep, rerank, per_article)
            except Exception as exc:  # noqa: BLE001 - re-raised unless another process switched the index
                # Another process's commit prunes the BM25 folder and drops the Chroma collection
                # that the manifest we read names: read the new manifest and retry. A NewsragError
                # with the index unchanged (a bad filter, another embedder's index) is the caller's.
                switched = stamp is not None and self._stamp() != stamp
                attempt += 1
                # Chroma's own error for a collection dropped under an open client gets one retry
                # even when the stamp looks unchanged (a reopen is what it needs).
                retryable = switched or (attempt == 1 and not isinstance(exc, NewsragError))
                if attempt > self.settings.retrieval.index_switch_retries or not retryable:
                    raise
                with self._lock:
                    self.invalidate()
                    self.store.reopen()

    def _postprocess(
        self, candidates: list["NodeWithScore"], bundle: "QueryBundle", manifest: Manifest, keep: int, rerank: bool,
        per_article: bool = False,
    ) -> list[RetrievedPassage]:
        from rag.postprocess import CommittedOnly, CrossEncoderRerank, OneChunkPerSource, OneCopyPerGroup

        r = self.settings.retrieval
        # The committed chunk map and groups are the ones built once per manifest (not per query).
        steps: list[Any] = [CommittedOnly.of(self._source_of_chunk), OneCopyPerGroup.of(self._groups)]
        if per_article:
            steps.append(OneChunkPerSource())
        top_n = keep if per_article else r.rerank_top_n
        if rerank and self.reranker is not None and top_n:
            steps.append(CrossEncoderRerank(self.reranker, top_n, keep, r.rerank_passage_words))
        hits = candidates
        for step in steps:
            hits = step.postprocess_nodes(hits, bundle)
        return self._passages(hits[:keep], manifest)

    def lead_passages(self, sources: list[str]) -> dict[str, RetrievedPassage]:
        """Each article's first chunk (where its lead is), by source; unknown sources are left out."""
        manifest = self.manifest()
        ids = [manifest.docs[s].chunk_ids[0] for s in sources if s in manifest.docs and manifest.docs[s].chunk_ids]
        return {p.source: p for p in self._stored(ids, manifest)}

    def article_passages(self, source: str) -> list[RetrievedPassage]:
        """Every chunk of one article, in order ([] for an unknown source)."""
        manifest = self.manifest()
        doc = manifest.docs.get(source)
        return self._stored(list(doc.chunk_ids), manifest) if doc is not None else []

    def _stored(self, ids: list[str], manifest: Manifest) -> list[RetrievedPassage]:
        """The stored chunks of these ids, in that order (ids the store lacks are left out)."""
        from llama_index.core.schema import NodeWithScore, TextNode

        if not ids:
            return []
        rows = {r["id"]: r for r in self.chunk_collection(manifest).get(ids)}
        hits = [NodeWithScore(node=TextNode(id_=cid, text=rows[cid]["text"], metadata=rows[cid]["metadata"]), score=0.0)
                for cid in ids if cid in rows]
        return self._passages(hits, manifest, rows)

    def _passages(
        self, hits: list["NodeWithScore"], manifest: Manifest, rows: dict[str, dict[str, Any]] | None = None,
    ) -> list[RetrievedPassage]:
        """The one conversion out of llama-index: each hit with the chunk's verbatim text and
        sentence vectors as the vector store holds them (one call). BM25's nodes carry no vectors
        and hold the keyword-index form of the text, which citations must never quote."""
        if rows is None:
            rows = {r["id"]: r for r in self.chunk_collection(manifest).get([h.node.node_id for h in hits])} if hits else {}
        passages = []
        for rank, hit in enumerate(hits, start=1):
            row = rows.get(hit.node.node_id) or {}
            text = row.get("text") if row.get("text") is not None else hit.node.get_content()
            passage = RetrievedPassage.from_node(hit, rank, text=text)
            packed = (row.get("metadata") or {}).get(K.SENTENCE_VECTORS)
            if packed:
                passage = replace(passage, vectors=unpack_vectors(packed, len(passage.spans)))
            passages.append(passage)
        return passages
