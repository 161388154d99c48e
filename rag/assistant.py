"""The composition root: builds every part from Settings once and exposes the product's API.

The CLI, the UI and the evals all stand on `Assistant`; nothing else wires parts together.
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.answering import drain
from rag.answering import nodes as N
from rag.answering.answerability import Kind
from rag.answering.extractive import NOT_IN_CORPUS, Composed, Policy, compose, compose_read
from rag.answering.reading import PassageReader, ReadingPolicy
from rag.answering.question import Question
from rag.answering.sentences import SentenceEvidence
from rag.chunking import Chunker
from rag.embeddings import Embedder, QueryCache
from rag.index import ArticleStore, ChunkCollection, Manifest, VectorStore, atomic_write_bytes
from rag.index.dedup import DedupOptions
from rag.index.layout import IndexPaths
from rag.models import make_embedder, make_reader, make_reranker
from rag.filters import DocFilter
from rag.evidence import RetrievedPassage
from rag.postprocess import CommittedOnly, CrossEncoderRerank, OneCopyPerGroup
from rag.retrieval import bm25_retriever, build_retriever
from rag.errors import NotFound
from rag.settings import Settings, force_offline
from rag.types import Answer, IngestReport, NewsragError, Progress, Skipped


if TYPE_CHECKING:
    from rag.models.reader import Reader
    from rag.models.reranker import CrossEncoder
    from rag.ingest import Ingester

EMPTY_INDEX = "the index is empty: add articles with `newsrag ingest PATH` (or upload them in the web UI)"


class Assistant:
    def __init__(
        self, settings: Settings | None = None, *, embedder: Embedder | None = None, reranker: CrossEncoder | None = None,
        store: VectorStore | None = None, reader: Reader | None = None,
    ) -> None:
        """`embedder` and `reranker` default to the ones `settings` names (`make_embedder`,
        `make_reranker`); pass them to share loaded models (with `settings.rerank` off, none is used).
        `store` defaults to the Chroma store `settings` names; pass one to share an opened client."""
        force_offline()
        self.settings = settings or Settings()
        self.embedder = embedder or make_embedder(self.settings)
        self.queries = QueryCache(self.embedder)
        self.reranker = (reranker or make_reranker(self.settings)) if self.settings.rerank else None
        self.chunker = Chunker(self.settings.chunk_size, self.settings.chunk_overlap)
        self.paths = IndexPaths(Path(self.settings.data_dir))
        self.store = store or VectorStore(self.paths.chroma, self.settings.chroma_host, self.settings.chroma_port)
        self.articles = ArticleStore(self.paths.articles)
        self.policy = Policy.from_settings(self.settings, reranked=self.reranker is not None)
        self.evidence = SentenceEvidence(
            self.queries, self.reranker, candidates=self.settings.sentence_candidates,
            dense_weight=self.settings.evidence_dense_weight, lexical_weight=self.settings.evidence_lexical_weight,
            rank_weight=self.settings.evidence_rank_weight,
        )
        self.reading = self._passage_reader(reader)
        self._lock = threading.RLock()
        self._retrievers: dict[str, Any] = {}
        self._manifest: Manifest | None = None
        self._source_of_chunk: dict[str, str] = {}
        self._manifest_stamp: int | None = None
        self._writes = 0  # writes by this process in progress

    def _passage_reader(self, reader: Reader | None) -> PassageReader | None:
        """The reader and the cross-encoder together decide lookups; either one missing, the rules do."""
        reader = reader or make_reader(self.settings)
        if reader is None or self.reranker is None:
            return None
        a = self.settings.answer
        return PassageReader(reader, self.reranker, ReadingPolicy(
            passages=a.reader_passages, relevance_weight=a.reader_relevance_weight, min_confidence=a.reader_min_confidence,
            direct_max_margin=a.reader_direct_max_margin, direct_max_words=a.reader_direct_max_words,
        ))

    def warm_up(self) -> None:
        """Load the models now (one query embedding, one reranked pair), e.g. before a server says ready."""
        self.embedder.embed_queries(["warm up"])
        if self.reranker is not None:
            self.reranker.warm_up()
        if self.reading is not None:
            self.reading.reader.warm_up()
        if self.manifest().chunk_ids:
            # Opening the index is the other cold cost (importing and connecting Chroma took ~6 s
            # of a 10 s first answer on this machine): one retrieval opens the stores and retrievers.
            self.retrieve("warm up")

    # ------------------------------------------------------------------ the collection
    def _ingester(self, on_progress: Progress | None = None, progress: bool = False) -> "Ingester":
        from rag.ingest import Ingester  # writing needs the readers (trafilatura, pypdf); answering does not

        from rag.sources import ReadOptions

        return Ingester(
            self.paths, self.store, self.embedder, self.chunker, self.settings.max_file_bytes,
            collection_prefix=self.settings.collection, batch_docs=self.settings.ingest_batch_docs,
            progress=progress, on_progress=on_progress, read_options=ReadOptions.from_settings(self.settings),
            dedup=DedupOptions(self.settings.dedup_threshold, self.settings.dedup_shingle_words,
                               self.settings.dedup_num_perm, self.settings.dedup_min_words),
        )

    def ingest(
        self, paths: list[str | Path] | None = None, *, prune: bool = True, rebuild: bool = False,
        progress: bool = False, on_progress: Progress | None = None,
    ) -> IngestReport:
        """Add or update files and folders from anywhere; no paths = the configured corpus folder
        (or, with `rebuild`, just every document the index holds, re-read into a fresh collection).

        Queries keep answering from the last committed index while this writes: the manifest is
        replaced atomically and retrieval only sees the chunks it names.
        """
        if paths:
            targets = [Path(p).expanduser() for p in paths]
            missing = [str(t) for t in targets if not t.exists() and not t.is_symlink()]
            if missing:  # a typo must not look like an ingest that found nothing (nor prune anything)
                raise NotFound(f"no such file or folder: {', '.join(missing)}")
        elif rebuild:
            targets = []
        else:
            targets = [Path(self.settings.corpus_dir)]
            if not targets[0].is_dir():
                raise NotFound(
                    f"the corpus folder {targets[0]} does not exist: name what to ingest (`newsrag ingest PATH`) "
                    "or set NEWSRAG_CORPUS_DIR"
                )
        corpus = Path(self.settings.corpus_dir)
        with self._own_write():
            return self._ingester(on_progress, progress).run(
                targets, prune=prune, rebuild=rebuild, default=corpus if corpus.exists() else None
            )

    def upload(self, files: list[tuple[str, bytes]], on_progress: Progress | None = None) -> IngestReport:
        """Store uploaded files (by base name) in the managed uploads folder and ingest them."""
        from rag.sources import SUPPORTED_SUFFIXES

        if not files:
            raise NewsragError("no files to upload")
        self.paths.uploads.mkdir(parents=True, exist_ok=True)
        written, refused = [], []
        for name, data in files:
            base = Path(str(name).replace("\\", "/")).name.strip()
            if not base or base.startswith(".") or base in {".", ".."}:
                refused.append(Skipped(str(name) or "(unnamed)", "not a usable file name"))
            elif len(data) > self.settings.max_file_bytes:
                refused.append(Skipped(base, f"file is {len(data):,} bytes, over the {self.settings.max_file_bytes:,}-byte cap"))
            elif Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
                refused.append(Skipped(base, f"unsupported file type '{Path(base).suffix or '(none)'}' "
                                             f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"))
            else:
                target = self.paths.uploads / base
                atomic_write_bytes(target, data)
                written.append(target)
        report = self.ingest(written, prune=False, on_progress=on_progress) if written else IngestReport()
        known = {d.path for d in self.manifest().docs.values()}
        for path in written:  # a stored upload that was not indexed is not kept
            if str(path.absolute()) not in known:
                path.unlink(missing_ok=True)
        report.skipped = refused + report.skipped
        report.seen += len(refused)
        return report

    def remove(self, sources: list[str]) -> IngestReport:
        """Drop exactly these documents (by source name as listed, or by file path)."""
        if not sources:
            raise NewsragError("name the documents to remove (see `newsrag list`)")
        with self._own_write():
            return self._ingester().remove([str(s) for s in sources])

    def _invalidate(self) -> None:
        with self._lock:
            self._retrievers.clear()
            self._manifest = None

    @contextmanager
    def _own_write(self) -> Iterator[None]:
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
                self._invalidate()
                self._manifest_stamp = self._stamp()
                if self._manifest_stamp != before and not self._writes:
                    self.store.reopen()

    def _stamp(self) -> int | None:
        try:
            return self.paths.manifest.stat().st_mtime_ns
        except FileNotFoundError:
            return None

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
                self._retrievers.clear()
            return self._manifest

    def _check_queryable(self, manifest: Manifest) -> None:
        """An index built by another embedder cannot be queried with this one."""
        if manifest.version == 1:
            raise NewsragError("the index was written by an older newsrag; run `newsrag ingest --rebuild`")
        if manifest.docs and manifest.embedding != self.embedder.name:
            raise NewsragError(
                f"the index was built with {manifest.embedding}, but the settings say {self.embedder.name}; "
                "run `newsrag ingest --rebuild` (or set NEWSRAG_EMBEDDING_BACKEND back)"
            )

    def status(self) -> dict[str, Any]:
        manifest = self.manifest()
        return {
            "documents": len(manifest.docs),
            "chunks": len(manifest.chunk_ids),
            "data_dir": str(Path(self.settings.data_dir).resolve()),
            "corpus_dir": str(Path(self.settings.corpus_dir).resolve()),
            "embedding_model": self.embedder.name,
            "indexed_with": manifest.embedding,
            "collection": manifest.collection,
            "retriever": self.settings.retriever,
            "mode": self.settings.mode,
            "chroma": f"{self.settings.chroma_host}:{self.settings.chroma_port}" if self.settings.chroma_host else "embedded",
        }

    def documents(self) -> list[dict[str, Any]]:
        """One row per document: source, title, published, chunks, origin, url, kind."""
        return [
            {"source": d.source, "title": d.title, "published": d.published, "chunks": len(d.chunk_ids),
             "origin": d.origin, "url": d.url, "kind": d.kind, "path": d.path, "content_hash": d.content_hash}
            for d in sorted(self.manifest().docs.values(), key=lambda d: d.source)
        ]

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded files are stored (removing an upload deletes its copy there)."""
        return self.paths.uploads

    def article(self, source: str) -> dict[str, Any]:
        """An indexed article by its source name (exactly as the manifest has it; never a path)."""
        doc = self.manifest().docs.get(source)
        if doc is None:
            raise NewsragError("no such article in the index")
        return {"source": doc.source, "title": doc.title, "url": doc.url, "published": doc.published,
                "text": self.articles.get(doc.content_hash)}

    def article_for_chunk(self, chunk_id: str) -> dict[str, Any]:
        self.manifest()  # reloads, with the chunk map, if an ingest changed the index
        source = self._source_of_chunk.get(chunk_id)
        if source is None:
            raise NewsragError("no such citation in the index")
        return self.article(source)

    # ------------------------------------------------------------------ retrieval
    def chunk_collection(self, manifest: Manifest) -> ChunkCollection:
        """The Chroma collection the committed manifest names (a rebuild switches it)."""
        self._check_queryable(manifest)
        if not manifest.collection:
            raise NewsragError(EMPTY_INDEX)
        return self.store.collection(manifest.collection)

    def collection(self) -> ChunkCollection:
        """The committed chunk collection (reopened if another process switched it)."""
        return self.chunk_collection(self.manifest())

    def keyword_dir(self, manifest: Manifest) -> Path:
        """The BM25 folder the committed manifest names (its `index/` may be absent when empty)."""
        return self.paths.keyword / (manifest.bm25_dir or "none")

    def _retriever(self, mode: str, manifest: Manifest, flt: DocFilter) -> Any:
        """Fused candidates of the committed index; a filter restricts both retrievers up front
        (a Chroma `where` and a BM25 weight mask), so a narrow filter never starves the results.
        The loaded BM25 index and the unfiltered retrievers are kept until the manifest changes."""
        if not manifest.docs:
            return None
        if "bm25" not in self._retrievers:
            self._retrievers["bm25"] = bm25_retriever(
                self.keyword_dir(manifest), self.settings.candidate_k, expect_index=bool(manifest.chunk_ids and manifest.bm25_dir))
        s = self.settings

        def build(**restrict: Any) -> Any:
            return build_retriever(mode, self.chunk_collection(manifest).raw, self.queries, self._retrievers["bm25"],
                                   s.candidate_k, s.dense_weight, s.bm25_weight, s.rrf_k, **restrict)

        if not flt.active:
            if f"mode:{mode}" not in self._retrievers:
                self._retrievers[f"mode:{mode}"] = build()
            return self._retrievers[f"mode:{mode}"]
        allowed_sources, allowed_ids = flt.allowed(manifest)
        return build(where=flt.chroma_where(allowed_sources), allowed=allowed_ids) if allowed_ids else None

    def retrieve(
        self, query: str, mode: str | None = None, top_k: int | None = None, *,
        sources: list[str] | None = None, since: str | None = None, until: str | None = None,
        doc_filter: DocFilter | None = None, rerank: bool = True,
    ) -> list[NodeWithScore]:
        """The best chunks for `query`: fused candidates within the filters, committed only, one
        copy per group of wire copies, reranked by the cross-encoder when configured (and `rerank`),
        `top_k` kept, each with its sentence vectors."""
        mode = mode or self.settings.retriever
        if mode not in ("hybrid", "dense", "bm25"):
            raise NewsragError(f"unknown retriever '{mode}': use hybrid, dense or bm25")
        flt = doc_filter or DocFilter.build(sources, since, until)
        bundle = QueryBundle(query_str=query)
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
                return self._postprocess(retriever.retrieve(bundle), bundle, manifest, top_k or self.settings.top_k, rerank)
            except Exception as exc:  # noqa: BLE001 - re-raised unless another process switched the index
                # Another process's commit prunes the BM25 folder and drops the Chroma collection
                # that the manifest we read names: read the new manifest and retry. A NewsragError
                # with the index unchanged (a bad filter, another embedder's index) is the caller's.
                switched = stamp is not None and self._stamp() != stamp
                attempt += 1
                # Chroma's own error for a collection dropped under an open client gets one retry
                # even when the stamp looks unchanged (a reopen is what it needs).
                retryable = switched or (attempt == 1 and not isinstance(exc, NewsragError))
                if attempt > self.settings.index_switch_retries or not retryable:
                    raise
                with self._lock:
                    self._invalidate()
                    self.store.reopen()

    def _postprocess(
        self, candidates: list[NodeWithScore], bundle: QueryBundle, manifest: Manifest, keep: int, rerank: bool
    ) -> list[NodeWithScore]:
        hits = CommittedOnly(committed=manifest.chunk_ids).postprocess_nodes(candidates, bundle)
        hits = OneCopyPerGroup(groups=self._groups(manifest)).postprocess_nodes(hits, bundle)
        if rerank and self.reranker is not None and self.settings.rerank_top_n:
            hits = CrossEncoderRerank(
                self.reranker, self.settings.rerank_top_n, keep, self.settings.rerank_passage_words
            ).postprocess_nodes(hits, bundle)
        return self._with_sentence_vectors(hits[:keep], manifest)

    def _groups(self, manifest: Manifest) -> dict[str, str]:
        return {d.source: d.group for d in manifest.docs.values() if d.group}

    def _with_sentence_vectors(self, hits: list[NodeWithScore], manifest: Manifest) -> list[NodeWithScore]:
        """Private copies of the hits, each with the chunk's verbatim text and sentence vectors
        as the vector store holds them (one call): BM25's nodes are shared, carry no vectors, and
        hold the keyword-index form of the text, which citations must never quote."""
        rows = {r["id"]: r for r in self.chunk_collection(manifest).get([h.node.node_id for h in hits])} if hits else {}
        copies = []
        for h in hits:
            row = rows.get(h.node.node_id) or {}
            metadata = dict(h.node.metadata)
            packed = (row.get("metadata") or {}).get("sentence_vectors")
            if packed:
                metadata["sentence_vectors"] = packed
            text = row.get("text") if row.get("text") is not None else h.node.get_content()
            copies.append(NodeWithScore(node=TextNode(id_=h.node.node_id, text=text, metadata=metadata), score=h.score))
        return copies

    # ------------------------------------------------------------------ answering
    def ask(
        self, question: str, history: list[dict] | None = None, mode: str | None = None, *,
        sources: list[str] | None = None, since: str | None = None, until: str | None = None,
    ) -> Answer:
        return drain(self.stream(question, history, mode, sources=sources, since=since, until=until))

    def stream(
        self, question: str, history: list[dict] | None = None, mode: str | None = None, *,
        sources: list[str] | None = None, since: str | None = None, until: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yields text pieces as they are ready, then the final Answer (whose text is authoritative).
        `sources` (document names) and `since`/`until` (ISO dates, inclusive) restrict the evidence."""
        question, history = self._validate(question, history)
        mode = mode or self.settings.mode
        if mode not in ("extractive", "llm"):
            raise NewsragError(f"unknown mode '{mode}': use extractive or llm")
        started = time.perf_counter()
        if not self.manifest().docs:
            raise NewsragError(EMPTY_INDEX)
        flt, asked = self._scope(question, history, sources, since, until)
        query = asked.query
        # The answerer cross-encodes the kept chunks' sentences itself, so reordering chunks pays
        # only when the reranker also chooses which are kept (more candidates than top_k).
        chunks = self.retrieve(query, doc_filter=flt, rerank=self.settings.rerank_top_n > self.settings.top_k)
        passages = [RetrievedPassage.from_node(h, i + 1, N.sentence_vectors(h)) for i, h in enumerate(chunks)]
        retrieved = time.perf_counter()
        sentences = self.evidence.run(query, passages)
        notice = ""
        if mode == "llm":
            from rag.answering.llm import answer_with_llm

            composed, notice = yield from answer_with_llm(
                self.settings, self.embedder, asked, history, passages, sentences, self.policy,
                extractive=lambda: self._compose(asked, passages, sentences))
        else:
            composed = self._compose(asked, passages, sentences)
            for piece in _pieces(composed):
                yield piece
        finished = time.perf_counter()
        yield Answer(
            question=question,
            standalone_question=query,
            text=composed.text,
            citations=self._with_copies(composed.citations),
            abstained=composed.abstained,
            mode=mode,
            related=composed.related,
            retrieved_sources=list(dict.fromkeys(p.source for p in passages)),
            notice=notice,
            timings={"retrieve_s": round(retrieved - started, 4), "answer_s": round(finished - retrieved, 4),
                     "total_s": round(finished - started, 4)},
            direct=composed.direct,
            time_range=_range_dict(flt) if flt.dated else None,
            revision=getattr(composed, "revision", None),
        )

    def _compose(self, asked: Question, passages: list[RetrievedPassage], sentences: list) -> Composed:
        """A lookup is read by the reader; a yes/no question (no span answers it) by the rules."""
        if self.reading is None or asked.kind is Kind.YES_NO:
            return compose(asked, sentences, self.policy)
        reading = self.reading.run(asked.query, passages, sentences)
        return compose_read(asked, reading, sentences, self.policy, lambda r: self.reading.direct(r, asked))

    def _scope(
        self, question: str, history: list[dict], sources: Any, since: Any, until: Any
    ) -> tuple[DocFilter, Question]:
        """The explicit filters, narrowed by a time phrase in the user's own question ("in March
        2025", "last week") resolved against the reference date (default: the newest article's).
        A phrase is a publication filter only when some indexed articles fall in its range;
        otherwise ("in 1997" over undated articles) it describes the event and stays in the query."""
        flt = DocFilter.build(sources, since, until)
        dates = sorted(d.published for d in self.manifest().docs.values() if d.published)
        if not dates:
            return flt, Question.analyse(question, history)
        earliest, latest = dt.date.fromisoformat(dates[0]), dt.date.fromisoformat(dates[-1])
        asked = Question.analyse(question, history, self.settings.reference_date or latest, (earliest, latest))
        return (flt.narrow(asked.scope.since, asked.scope.until) if asked.scope else flt), asked

    def _with_copies(self, citations: list) -> list:
        """Each citation names the other copies of its wire story (`also_in`)."""
        manifest = self.manifest()
        members: dict[str, list[str]] = {}
        for doc in sorted(manifest.docs.values(), key=lambda d: (d.published or "9999", d.source)):
            if doc.group:
                members.setdefault(doc.group, []).append(doc.source)
        for citation in citations:
            doc = manifest.docs.get(citation.source)
            if doc is not None and doc.group:
                citation.also_in = [s for s in members[doc.group] if s != citation.source]
            if doc is not None and not citation.published:
                citation.published = doc.published
        return citations

    def _validate(self, question: str, history: list[dict] | None) -> tuple[str, list[dict]]:
        if not isinstance(question, str) or not question.strip():
            raise NewsragError("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise NewsragError(
                f"the question is {len(question)} characters long; the limit is {self.settings.max_question_chars}"
            )
        turns = []
        for turn in history or []:
            if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant") or not isinstance(turn.get("content"), str):
                raise NewsragError("history items must be {'role': 'user'|'assistant', 'content': str}")
            kept = {"role": turn["role"], "content": turn["content"][: self.settings.max_question_chars * 4]}
            sources = turn.get("sources")
            if turn["role"] == "assistant" and sources is not None:
                # Optional: the sources the answer cited, so a follow-up prefers them.
                if not isinstance(sources, list) or not all(isinstance(x, str) for x in sources):
                    raise NewsragError("history 'sources' must be a list of source names")
                kept["sources"] = sources[:50]
            turns.append(kept)
        limit = self.settings.max_history_turns
        return question.strip(), (turns[-limit:] if limit else [])


def _range_dict(flt: DocFilter) -> dict[str, str | None]:
    return {"since": flt.since.isoformat() if flt.since else None, "until": flt.until.isoformat() if flt.until else None}


def _pieces(composed: Composed) -> Iterator[str]:
    """Stream an extractive answer sentence by sentence (it is ready at once; this keeps one UI path)."""
    if composed.abstained:
        yield NOT_IN_CORPUS
        return
    import re

    for piece in re.split(r"(?<=\])\s+", composed.text):
        yield piece + " "
