"""The one place parts are built: from one Settings object, sharing models that are passed in.

`build` makes the live index, the collection service and the answer pipeline, each given the
loaded models and the settings groups it reads. `preload` is the cold-start variant for a process
that answers one question and leaves (`newsrag ask`): the models start loading on a thread and
the live collection's vector index on another before llama-index is even imported.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.settings import Settings, force_offline

if TYPE_CHECKING:
    from rag.answering.extractive import Policy
    from rag.collection import Collection
    from rag.embeddings import Embedder, QueryCache
    from rag.index import VectorStore
    from rag.index.layout import IndexPaths
    from rag.live_index import LiveIndex
    from rag.models.reader import Reader
    from rag.models.reranker import CrossEncoder
    from rag.pipeline import AnswerPipeline


@dataclass
class Models:
    """Loaded (or lazily loading) models to share between parts and processes' phases."""

    embedder: "Embedder | None" = None
    reranker: "CrossEncoder | None" = None
    reader: "Reader | None" = None
    store: "VectorStore | None" = None
    loading: list[threading.Thread] = field(default_factory=list)  # join before the process exits


@dataclass
class Parts:
    settings: Settings
    embedder: "Embedder"
    queries: "QueryCache"
    reranker: "CrossEncoder | None"
    paths: "IndexPaths"
    store: "VectorStore"
    live: "LiveIndex"
    collection: "Collection"
    policy: "Policy"
    pipeline: "AnswerPipeline"


def build(settings: Settings | None = None, models: Models | None = None) -> Parts:
    from rag.chunking import Chunker
    from rag.collection import Collection
    from rag.embeddings import QueryCache
    from rag.index import VectorStore
    from rag.index.layout import IndexPaths
    from rag.live_index import LiveIndex
    from rag.models import make_embedder, make_reranker

    force_offline()
    settings = settings or Settings()
    models = models or Models()
    embedder = models.embedder or make_embedder(settings)
    queries = QueryCache(embedder)
    reranker = (models.reranker or make_reranker(settings)) if settings.retrieval.rerank else None
    paths = IndexPaths(Path(settings.index.data_dir))
    store = models.store or VectorStore(paths.chroma, settings.index.chroma_host, settings.index.chroma_port)
    live = LiveIndex(settings, paths, store, queries, reranker)
    collection = Collection(settings, live, embedder, Chunker(settings.reading.chunk_size, settings.reading.chunk_overlap))
    policy, pipeline = _pipeline(settings, live, embedder, queries, reranker, models.reader)
    return Parts(settings, embedder, queries, reranker, paths, store, live, collection, policy, pipeline)


def _pipeline(settings: Settings, live: "LiveIndex", embedder: "Embedder", queries: "QueryCache",
              reranker: "CrossEncoder | None", reader: "Reader | None") -> tuple["Policy", "AnswerPipeline"]:
    from rag.answering.briefing import Briefer, BriefingPolicy
    from rag.answering.extractive import Policy
    from rag.answering.sentences import SentenceEvidence
    from rag.pipeline import AnswerPipeline

    a = settings.answer
    evidence = SentenceEvidence(queries, reranker, candidates=a.sentence_candidates, dense_weight=a.evidence_dense_weight,
                                lexical_weight=a.evidence_lexical_weight, rank_weight=a.evidence_rank_weight)
    policy = Policy.from_settings(settings, reranked=reranker is not None)
    briefer = Briefer(live, queries, evidence, BriefingPolicy.from_settings(
        settings.briefing, a.duplicate_cosine, reranked=reranker is not None))
    return policy, AnswerPipeline(settings, live, embedder, evidence, policy, _reading(settings, reranker, reader), briefer)


def _reading(settings: Settings, reranker: "CrossEncoder | None", reader: "Reader | None") -> Any:
    """The reader and the cross-encoder together decide lookups; either one missing, the rules do."""
    from rag.answering.reading import PassageReader, ReadingPolicy
    from rag.models import make_reader

    reader = reader or make_reader(settings)
    if reader is None or reranker is None:
        return None
    return PassageReader(reader, reranker, ReadingPolicy.from_settings(settings.answer))


def preload(settings: Settings) -> Models:
    """Models loading on a thread and Chroma's live collection warming on another, started before
    the engine imports llama-index: a cold `newsrag ask` overlaps them (onnxruntime and Chroma
    release the GIL while they load). Only an index that exists is opened: a mistyped data folder
    still gets the engine's one-line error, and no folder is created for it."""
    from rag.models import load_in_background, make_embedder, make_reader, make_reranker

    models = Models(make_embedder(settings), make_reranker(settings), make_reader(settings))
    models.loading.append(load_in_background(models.embedder, models.reranker, models.reader))
    models.store = _open_store(settings, models)
    return models


def _open_store(settings: Settings, models: Models) -> "VectorStore | None":
    """Chroma, opened now, with the live collection's vector index loading on a thread (Chroma
    reads it outside the GIL: ~0.25 s at 8,500 chunks)."""
    from rag.errors import NewsragError
    from rag.index import Manifest, VectorStore
    from rag.index.layout import IndexPaths
    from rag.models import load_in_background

    paths = IndexPaths(Path(settings.index.data_dir))
    try:
        name = Manifest.load(paths.manifest).collection
    except NewsragError:
        return None  # the engine says what is wrong with the index
    if not name:
        return None
    store = VectorStore(paths.chroma, settings.index.chroma_host, settings.index.chroma_port)
    store.client  # chromadb is imported here, so the thread never imports while this one does
    models.loading.append(load_in_background(lambda: store.warm_up(name)))
    return store
