"""The models: ONNX embedders and the cross-encoder (onnxruntime + tokenizers), the optional torch
path, a remote embeddings client. `make_embedder` / `make_reranker` are the one place a backend is
chosen from Settings; nothing here imports torch unless the torch backend is asked for.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.types import NewsragError

if TYPE_CHECKING:
    from rag.embeddings import Embedder
    from rag.models.reader import Reader
    from rag.models.reranker import CrossEncoder
    from rag.settings import Settings


def make_embedder(settings: "Settings") -> "Embedder":
    """The one place an embedding backend is chosen. Model files are located (and verified or
    exported) on first use, so building an Assistant stays fast."""
    backend = settings.embedding_backend
    if backend == "remote" or (settings.embedding_base_url and "embedding_backend" not in settings.embedding.model_fields_set):
        return _remote(settings)
    if backend == "hashing":
        from rag.embeddings import HashingEmbedder

        return HashingEmbedder()
    if backend == "sentence-transformers":
        from rag.embeddings import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(
            settings.resolved_model_path(), batch_size=settings.embed_batch_size, threads=settings.torch_threads
        )
    from rag.models.onnx_embedder import BGE_SMALL, MINILM_L6, OnnxEmbedder

    options = {"max_tokens": settings.embed_max_tokens, "batch_size": settings.embed_batch_size,
               "threads": settings.onnx_threads}
    if backend == "onnx-minilm":
        # Always the packaged model: NEWSRAG_EMBEDDING_MODEL_PATH belongs to the torch backend.
        source = settings.model_copy(update={"embedding_model_path": None}).resolved_model_path()
        cache = settings.resolved_cache_dir()

        def exported() -> "Path":
            from rag.models.export import minilm_int8

            return minilm_int8(source, cache)

        return OnnxEmbedder(MINILM_L6, exported, **options)

    def packaged() -> "Path":
        from rag.models.files import model_dir

        return model_dir(None, "bge_small_en", "NEWSRAG_EMBEDDING_BACKEND", instead="choose another NEWSRAG_EMBEDDING_BACKEND")

    return OnnxEmbedder(BGE_SMALL, packaged, **options)


def _remote(settings: "Settings") -> "Embedder":
    if not settings.embedding_base_url or not settings.embedding_remote_model:
        raise NewsragError(
            "remote embeddings need NEWSRAG_EMBEDDING_BASE_URL and NEWSRAG_EMBEDDING_REMOTE_MODEL"
        )
    from rag.models.remote import RemoteEmbedder

    return RemoteEmbedder(
        settings.embedding_base_url, settings.embedding_remote_model, api_key=settings.embedding_api_key,
        timeout_s=settings.embedding_timeout_s, batch_size=settings.embedding_remote_batch_size,
    )


def make_reranker(settings: "Settings") -> "CrossEncoder | None":
    """The cross-encoder (loaded lazily, on first use or `warm_up()`), or None when reranking is off."""
    if not settings.rerank:
        return None
    from rag.models.reranker import CrossEncoder

    return CrossEncoder(
        settings.reranker_path, max_tokens=settings.reranker_max_tokens,
        batch_size=settings.reranker_batch_size, threads=settings.onnx_threads,
    )


def make_reader(settings: "Settings") -> "Reader | None":
    """The extractive reader (loaded lazily), or None when it is off or has no cross-encoder to pair with."""
    if not (settings.answer.reader and settings.retrieval.rerank):
        return None
    from rag.models.reader import Reader

    a = settings.answer
    return Reader(a.reader_path, max_tokens=a.reader_max_tokens, stride=a.reader_stride,
                  max_answer_tokens=a.reader_max_answer_tokens, threads=settings.embedding.onnx_threads)


def load_in_background(*steps: Any) -> threading.Thread:
    """Starts warming `steps` up on a thread: a model's `warm_up()` (opening its ONNX session, one
    inference), or any zero-argument callable (e.g. loading a vector index).

    onnxruntime releases the GIL while it loads and runs, so a fresh process can import
    llama-index and chromadb meanwhile; `join()` the thread before the process exits. A step
    that fails is left undone: its first real use raises the error for the caller.
    """

    def work() -> None:
        for step in steps:
            warm = getattr(step, "warm_up", None) or (step if callable(step) else None)
            if warm is None:
                continue
            try:
                warm()
            except Exception:  # noqa: BLE001 - reported by the first real use, in the caller's thread
                pass

    thread = threading.Thread(target=work, name="newsrag-warm-up", daemon=True)
    thread.start()
    return thread
