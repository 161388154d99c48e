"""The composition root: builds every part from Settings once and exposes the product's API.

The CLI, the UI and the evals all stand on `Assistant`; nothing else wires parts together.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from rag.answering.evidence import score_sentences
from rag.answering.extractive import NOT_IN_CORPUS, Composed, Policy, compose
from rag.answering.followup import standalone_question
from rag.chunking import Chunker
from rag.embeddings import Embedder, HashingEmbedder, QueryCache, SentenceTransformerEmbedder
from rag.index import ArticleStore, Manifest, VectorStore
from rag.ingest import Ingester, IndexPaths
from rag.retrieval import RetrievedChunk, build_retriever, to_chunks
from rag.settings import Settings, force_offline
from rag.types import Answer, IngestReport, NewsragError


def make_embedder(settings: Settings) -> Embedder:
    """The one place an embedding backend is chosen."""
    if settings.embedding_backend == "hashing":
        return HashingEmbedder()
    return SentenceTransformerEmbedder(
        settings.resolved_model_path(), batch_size=settings.embed_batch_size, threads=settings.torch_threads
    )


class Assistant:
    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None) -> None:
        force_offline()
        self.settings = settings or Settings()
        self.embedder = embedder or make_embedder(self.settings)
        self.queries = QueryCache(self.embedder)
        self.chunker = Chunker(self.settings.chunk_size, self.settings.chunk_overlap)
        self.paths = IndexPaths(Path(self.settings.data_dir))
        self.store = VectorStore(
            self.paths.chroma, self.settings.collection, self.settings.chroma_host, self.settings.chroma_port
        )
        self.articles = ArticleStore(self.paths.articles)
        self.policy = Policy(
            threshold=self.settings.abstain_threshold, max_sentences=self.settings.max_answer_sentences
        )
        self._lock = threading.RLock()
        self._retrievers: dict[str, Any] = {}
        self._manifest: Manifest | None = None
        self._source_of_chunk: dict[str, str] = {}
        self._manifest_stamp: float | None = None

    # ------------------------------------------------------------------ ingestion and status
    def ingest(
        self, paths: list[str | Path] | None = None, *, prune: bool = True, rebuild: bool = False,
        corpus_dir: str | Path | None = None, progress: bool = True,
    ) -> IngestReport:
        if corpus_dir is not None:
            self.settings = self.settings.model_copy(update={"corpus_dir": Path(corpus_dir)})
        # The lock guards only our caches: queries keep running on the last committed index while
        # the ingest writes (the manifest is swapped atomically; retrieval filters to it), and the
        # ingest lock file keeps two ingests apart.
        if rebuild:
            with self._lock:
                self._wipe_index()
        ingester = Ingester(
            self.paths, self.store, self.embedder, self.chunker, Path(self.settings.corpus_dir),
            self.settings.max_file_bytes, progress=progress,
        )
        try:
            return ingester.run([Path(p) for p in paths] if paths else None, prune=prune)
        finally:
            with self._lock:
                self._retrievers.clear()
                self._manifest = None

    def _wipe_index(self) -> None:
        self.store.drop()
        for path in (self.paths.manifest, self.paths.bm25, self.paths.articles):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def manifest(self) -> Manifest:
        """The committed index, reloaded when another process (an ingest) has changed it."""
        try:
            stamp = self.paths.manifest.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if self._manifest is None or stamp != self._manifest_stamp:
            self._manifest = Manifest.load(self.paths.manifest)
            self._manifest_stamp = stamp
            self._source_of_chunk = {cid: d.source for d in self._manifest.docs.values() for cid in d.chunk_ids}
            self._retrievers.clear()
        return self._manifest

    def status(self) -> dict[str, Any]:
        manifest = self.manifest()
        return {
            "documents": len(manifest.docs),
            "chunks": len(manifest.chunk_ids),
            "data_dir": str(Path(self.settings.data_dir).resolve()),
            "corpus_dir": manifest.corpus_root or str(Path(self.settings.corpus_dir).resolve()),
            "embedding_model": self.embedder.name,
            "indexed_with": manifest.embedding,
            "retriever": self.settings.retriever,
            "mode": self.settings.mode,
            "chroma": f"{self.settings.chroma_host}:{self.settings.chroma_port}" if self.settings.chroma_host else "embedded",
        }

    def documents(self) -> list[dict[str, Any]]:
        return [
            {"source": d.source, "title": d.title, "chunks": len(d.chunk_ids), "url": d.url}
            for d in sorted(self.manifest().docs.values(), key=lambda d: d.source)
        ]

    def article(self, source: str) -> dict[str, Any]:
        """An indexed article by its source name (exactly as the manifest has it; never a path)."""
        doc = self.manifest().docs.get(source)
        if doc is None:
            raise NewsragError("no such article in the index")
        return {"source": doc.source, "title": doc.title, "url": doc.url, "text": self.articles.get(doc.content_hash)}

    def article_for_chunk(self, chunk_id: str) -> dict[str, Any]:
        self.manifest()  # reloads, with the chunk map, if an ingest changed the index
        source = self._source_of_chunk.get(chunk_id)
        if source is None:
            raise NewsragError("no such citation in the index")
        return self.article(source)

    # ------------------------------------------------------------------ retrieval
    def retrieve(self, query: str, mode: str | None = None, top_k: int | None = None) -> list[RetrievedChunk]:
        from llama_index.core.schema import QueryBundle

        mode = mode or self.settings.retriever
        if mode not in ("hybrid", "dense", "bm25"):
            raise NewsragError(f"unknown retriever '{mode}': use hybrid, dense or bm25")
        with self._lock:
            manifest = self.manifest()
            key = f"{mode}:{top_k}"
            if key not in self._retrievers:
                self._retrievers[key] = build_retriever(
                    mode, self.store.collection, self.queries, self.paths.bm25, manifest.chunk_ids,
                    top_k or self.settings.top_k, self.settings.candidate_k, self.settings.dense_weight,
                    self.settings.bm25_weight, self.settings.rrf_k,
                )
            retriever = self._retrievers[key]
        if retriever is None:
            return []
        chunks = to_chunks(retriever.retrieve(QueryBundle(query_str=query)))
        return self._with_sentence_vectors(chunks)

    def _with_sentence_vectors(self, chunks: list[RetrievedChunk]) -> list[RetrievedChunk]:
        """BM25 hits carry no vectors; fetch them from the vector store in one call."""
        missing = [c.id for c in chunks if c.sentence_vectors is None]
        if not missing:
            return chunks
        from dataclasses import replace

        from rag.index import unpack_vectors

        rows = {r["id"]: r["metadata"] for r in self.store.get(missing)}
        out = []
        for chunk in chunks:
            meta = rows.get(chunk.id)
            if chunk.sentence_vectors is None and meta and meta.get("sentence_vectors") and chunk.sentences:
                chunk = replace(chunk, sentence_vectors=unpack_vectors(meta["sentence_vectors"], len(chunk.sentences)))
            out.append(chunk)
        return out

    # ------------------------------------------------------------------ answering
    def ask(self, question: str, history: list[dict] | None = None, mode: str | None = None) -> Answer:
        answer = None
        for piece in self.stream(question, history, mode):
            if isinstance(piece, Answer):
                answer = piece
        assert answer is not None
        return answer

    def stream(
        self, question: str, history: list[dict] | None = None, mode: str | None = None
    ) -> Iterator[str | Answer]:
        """Yields text pieces as they are ready, then the final Answer (whose text is authoritative)."""
        question, history = self._validate(question, history)
        mode = mode or self.settings.mode
        if mode not in ("extractive", "llm"):
            raise NewsragError(f"unknown mode '{mode}': use extractive or llm")
        started = time.perf_counter()
        query = standalone_question(question, history)
        chunks = self.retrieve(query)
        retrieved = time.perf_counter()
        query_vector = self.queries.embed([query])[0] if chunks else np.zeros(1, dtype=np.float32)
        evidence = score_sentences(query, chunks, query_vector, self.embedder)
        notice = ""
        if mode == "llm":
            from rag.answering.llm import answer_with_llm

            composed, notice = yield from answer_with_llm(self.settings, self.embedder, query, history, evidence, self.policy)
        else:
            composed = compose(query, evidence, self.policy)
            for piece in _pieces(composed):
                yield piece
        finished = time.perf_counter()
        yield Answer(
            question=question,
            standalone_question=query,
            text=composed.text,
            citations=composed.citations,
            abstained=composed.abstained,
            mode=mode,
            related=composed.related,
            retrieved_sources=list(dict.fromkeys(c.source for c in chunks)),
            notice=notice,
            timings={"retrieve_s": round(retrieved - started, 4), "answer_s": round(finished - retrieved, 4),
                     "total_s": round(finished - started, 4)},
        )

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
            turns.append({"role": turn["role"], "content": turn["content"][: self.settings.max_question_chars * 4]})
        limit = self.settings.max_history_turns
        return question.strip(), (turns[-limit:] if limit else [])


def _pieces(composed: Composed) -> Iterator[str]:
    """Stream an extractive answer sentence by sentence (it is ready at once; this keeps one UI path)."""
    if composed.abstained:
        yield NOT_IN_CORPUS
        return
    import re

    for piece in re.split(r"(?<=\])\s+", composed.text):
        yield piece + " "
