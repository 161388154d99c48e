"""The models: ONNX embedders and the cross-encoder (onnxruntime + tokenizers), the optional torch
path, a remote embeddings client. `make_embedder` / `make_reranker` are the one place a backend is
chosen from Settings; nothing here imports torch unless the torch backend is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.models.reranker import CrossEncoder
    from rag.settings import Settings


def make_reranker(settings: "Settings") -> "CrossEncoder | None":
    """The cross-encoder (loaded lazily, on first use or `warm_up()`), or None when reranking is off."""
    if not settings.rerank:
        return None
    from rag.models.reranker import CrossEncoder

    return CrossEncoder(
        settings.reranker_path, max_tokens=settings.reranker_max_tokens,
        batch_size=settings.embed_batch_size, threads=settings.onnx_threads,
    )
