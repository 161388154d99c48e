"""The cross-encoder reranker: ms-marco-MiniLM-L-12-v2, int8 ONNX, on onnxruntime + tokenizers.

A cross-encoder reads the question and a passage together, so it judges relevance far better than
comparing two independent vectors; it costs one model pass per candidate, which is why it only
reorders the few chunks retrieval already found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from rag.models.files import LazyModel, feeds, length_batches, model_dir

PACKAGED = "reranker_en"
PACKAGED_NAME = "onnx:ms-marco-MiniLM-L-12-v2-int8"


class CrossEncoder:
    """`score(query, passages)` → raw logits (float32, one per passage, same order; higher = more relevant).

    The model loads on first use or on `warm_up()`; one session serves every thread.
    """

    def __init__(
        self, path: Path | None = None, *, max_tokens: int = 256, batch_size: int = 8, threads: int = 0
    ) -> None:
        self.path = path
        self.name = PACKAGED_NAME if path is None else f"onnx:{Path(path).name}"
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = threads
        self._model = LazyModel(lambda: model_dir(path, PACKAGED, "NEWSRAG_RERANKER_PATH"), max_tokens, threads)

    def warm_up(self) -> None:
        self.score("warm up", ["The model is loaded and has run once."])

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        tokenizer, session, inputs = self._model.get()
        encodings = tokenizer.encode_batch([(query, p) for p in passages])
        out = np.zeros(len(passages), dtype=np.float32)
        for batch in length_batches([len(e.ids) for e in encodings], self.batch_size):
            (logits,) = session.run(None, feeds([encodings[i] for i in batch], inputs))
            out[batch] = logits.reshape(len(batch), -1)[:, 0]
        return out
