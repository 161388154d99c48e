"""The public facade: the product's API on the parts `rag.factory` builds.

The CLI, the UI, the /v1 API, the MCP server and the evals all stand on `Assistant` (typed
against `rag.facade.AssistantAPI`); it holds no logic of its own beyond handing each call to the
room that owns it: the live index (reads), the collection service (writes), the answer pipeline.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from rag.answering import drain
from rag.factory import Models, build
from rag.filters import DocFilter
from rag.live_index import EMPTY_INDEX  # noqa: F401 - re-exported: interfaces and tests name it here
from rag.request import AskRequest
from rag.settings import Settings
from rag.types import Answer, IngestReport, Progress

if TYPE_CHECKING:
    from rag.embeddings import Embedder
    from rag.evidence import RetrievedPassage
    from rag.index import ChunkCollection, Manifest, VectorStore
    from rag.models.reader import Reader
    from rag.models.reranker import CrossEncoder
    from rag.topics import Topics


class Assistant:
    def __init__(
        self, settings: Settings | None = None, *, embedder: "Embedder | None" = None,
        reranker: "CrossEncoder | None" = None, store: "VectorStore | None" = None, reader: "Reader | None" = None,
        models: Models | None = None,
    ) -> None:
        """Models default to the ones `settings` names; pass them (or `models`, e.g. from
        `rag.factory.preload`) to share loaded ones. With `settings.rerank` off no cross-encoder
        (and so no reader) is used."""
        models = models or Models(embedder, reranker, reader, store)
        self._parts = build(settings, models)
        self._loading = models.loading
        self._examples: tuple[Any, list[str]] = (None, [])  # (collection state, its example questions)
        self._followed: "Topics | None" = None

    # ------------------------------------------------------------------ configuration and models
    @property
    def settings(self) -> Settings:
        return self._parts.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        """New settings for what is read per request (answer mode, LLM, limits); models stay."""
        parts = self._parts
        parts.settings = parts.live.settings = parts.collection.settings = parts.pipeline.settings = value
        if parts.pipeline.briefer is not None:
            parts.pipeline.briefer.policy = parts.pipeline.briefer.policy.configured(value)

    @property
    def embedder(self) -> "Embedder":
        return self._parts.embedder

    @property
    def reranker(self) -> "CrossEncoder | None":
        return self._parts.reranker

    @property
    def store(self) -> "VectorStore":
        return self._parts.store

    @property
    def paths(self) -> Any:
        return self._parts.paths

    @property
    def policy(self) -> Any:
        return self._parts.policy

    @policy.setter
    def policy(self, value: Any) -> None:
        self._parts.policy = self._parts.pipeline.policy = value

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded files are stored (removing an upload deletes its copy there)."""
        return self._parts.paths.uploads

    def warm_up(self) -> None:
        """Load the models now (one query embedding, one reranked pair, one read), e.g. before a server says ready."""
        for thread in self._loading:
            thread.join()
        self.embedder.embed_queries(["warm up"])
        if self.reranker is not None:
            self.reranker.warm_up()
        if self._parts.pipeline.reading is not None:
            self._parts.pipeline.reading.reader.warm_up()
        if self.manifest().chunk_ids:
            # Opening the index is the other cold cost (importing and connecting Chroma took ~6 s
            # of a 10 s first answer on this machine): one retrieval opens the stores and retrievers.
            self.retrieve("warm up")

    # ------------------------------------------------------------------ the collection (writes)
    def ingest(
        self, paths: list[str | Path] | None = None, *, prune: bool = True, rebuild: bool = False,
        progress: bool = False, on_progress: Progress | None = None,
    ) -> IngestReport:
        """Add or update files and folders from anywhere; no paths = the configured corpus folder
        (or, with `rebuild`, every document the index holds, re-read into a fresh collection)."""
        return self._parts.collection.ingest(paths, prune=prune, rebuild=rebuild, progress=progress, on_progress=on_progress)

    def upload(self, files: list[tuple[str, bytes]], on_progress: Progress | None = None) -> IngestReport:
        """Store uploaded files (by base name) in the managed uploads folder and ingest them."""
        return self._parts.collection.upload(files, on_progress)

    def remove(self, sources: list[str]) -> IngestReport:
        """Drop exactly these documents (by source name as listed, or by file path)."""
        return self._parts.collection.remove(sources)

    # ------------------------------------------------------------------ the live index (reads)
    def manifest(self) -> "Manifest":
        return self._parts.live.manifest()

    def collection(self) -> "ChunkCollection":
        """The committed chunk collection (reopened if another process switched it)."""
        return self._parts.live.chunk_collection(self.manifest())

    def keyword_dir(self, manifest: "Manifest") -> Path:
        return self._parts.live.keyword_dir(manifest)

    def documents(self) -> list[dict[str, Any]]:
        """One row per document: source, title, published, chunks, origin, url, kind, path, content_hash."""
        return self._parts.live.documents()

    def article(self, source: str) -> dict[str, Any]:
        return self._parts.live.article(source)

    def article_for_chunk(self, chunk_id: str) -> dict[str, Any]:
        return self._parts.live.article_for_chunk(chunk_id)

    def examples(self, limit: int, max_chars: int) -> list[str]:
        """Questions the collection answers (rag.examples): briefings and a lookup, whole names only."""
        from rag.examples import example_questions

        documents = self.documents()
        key = (limit, max_chars, tuple((d["source"], d["content_hash"]) for d in documents))
        if self._examples[0] != key:  # a lookup example is asked before it is shown: once per collection state
            self._examples = (key, example_questions(
                documents, lambda source: self.article(source)["text"], limit, max_chars,
                answers=lambda q: not self.ask(q, mode="extractive").abstained))
        return list(self._examples[1])

    def status(self) -> dict[str, Any]:
        manifest, s = self.manifest(), self.settings
        return {
            "documents": len(manifest.docs), "chunks": len(manifest.chunk_ids),
            "data_dir": str(Path(s.index.data_dir).resolve()), "corpus_dir": str(Path(s.index.corpus_dir).resolve()),
            "embedding_model": self.embedder.name, "indexed_with": manifest.embedding, "collection": manifest.collection,
            "retriever": s.retrieval.retriever, "mode": s.answer.mode,
            "chroma": f"{s.index.chroma_host}:{s.index.chroma_port}" if s.index.chroma_host else "embedded",
        }

    def retrieve(
        self, query: str, mode: str | None = None, top_k: int | None = None, *,
        sources: list[str] | None = None, since: str | None = None, until: str | None = None,
        doc_filter: DocFilter | None = None, rerank: bool = True,
    ) -> list["RetrievedPassage"]:
        """The best passages for `query` within the filters (`sources` by name, `since`/`until`
        ISO dates, inclusive), committed only, one copy per wire story, reranked when configured;
        each titled as its article is shown (a chunk holds the title the models read)."""
        flt = doc_filter or DocFilter.build(sources, since, until)
        passages = self._parts.live.retrieve(query, mode, top_k, doc_filter=flt, rerank=rerank)
        docs = self.manifest().docs
        return [replace(p, title=docs[p.source].title) if p.source in docs else p for p in passages]

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
        request = AskRequest.build(self.settings.answer, question, history, mode, sources, since, until)
        yield from self._parts.pipeline.stream(request)

    # ------------------------------------------------------------------ followed topics (rag.topics)
    def _topics(self) -> "Topics":
        if self._followed is None:
            from rag.topics import Topics, TopicStore

            parts = self._parts
            assert parts.pipeline.briefer is not None  # rag.factory always builds one
            store = TopicStore(Path(parts.settings.index.data_dir), parts.settings.answer.max_question_chars)
            self._followed = Topics(store, parts.pipeline.briefer)
        return self._followed

    def follow(self, topic: str) -> dict[str, Any]:
        """Follow a story: {"topic", "followed_at", "new"}; what the index holds now is seen. Idempotent."""
        return self._topics().follow(topic)

    def unfollow(self, topic: str) -> dict[str, Any]:
        return self._topics().unfollow(topic)

    def following(self) -> list[dict[str, Any]]:
        """[{"topic", "followed_at", "last_digest", "new"}], "new" counting the stories a digest would list."""
        return self._topics().following()

    def digest(self, topic: str | None = None) -> dict[str, Any]:
        """{"topics": [{"topic", "items": [BriefingItem.to_dict(), ...]}]}: each followed topic's (or
        the named one's) stories ingested since its last digest, which are then seen."""
        return self._topics().digest(topic)
