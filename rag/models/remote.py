"""Embeddings from an OpenAI-compatible `/v1/embeddings` server (vLLM, llama.cpp, Ollama, TEI, OpenAI).

For deployments where a GPU box embeds for everyone. Vectors are L2-normalised here whatever the
server does, so they mix with the rest of the code (dot product = cosine). Any failure is one line.
"""

from __future__ import annotations

import threading
from typing import Any, Sequence

import numpy as np

from rag.embeddings import search_text
from rag.types import NewsragError


class RemoteEmbedder:
    def __init__(
        self, base_url: str, model: str, *, api_key: str = "not-needed", timeout_s: float = 30.0, batch_size: int = 64
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"remote:{model}"
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.batch_size = batch_size
        self.texts_embedded = 0
        self.dim = 0  # learnt from the first answer
        self._client: Any = None
        self._lock = threading.Lock()

    def _http(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(
                    timeout=self.timeout_s, headers={"Authorization": f"Bearer {self.api_key}"}
                )
            return self._client

    def warm_up(self) -> None:
        self.embed_queries(["warm up"])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Servers reject empty inputs; a space embeds as "nothing" without failing the batch.
        clean = [search_text(t) or " " for t in texts]
        rows = []
        for start in range(0, len(clean), self.batch_size):
            rows.append(self._request(clean[start : start + self.batch_size]))
        vectors = np.concatenate(rows)
        self.texts_embedded += len(texts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, np.finfo(np.float32).tiny)

    def _request(self, batch: list[str]) -> np.ndarray:
        import httpx

        url = f"{self.base_url}/embeddings"
        try:
            response = self._http().post(url, json={"model": self.model, "input": batch})
        except httpx.TimeoutException:
            raise NewsragError(f"embeddings server {url} did not answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise NewsragError(f"embeddings server {url} is unreachable ({type(exc).__name__}); check NEWSRAG_EMBEDDING_BASE_URL") from None
        if response.status_code != 200:
            raise NewsragError(f"embeddings server {url} answered HTTP {response.status_code}: {_message(response)}")
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = np.asarray([item["embedding"] for item in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise NewsragError(f"embeddings server {url} answered badly: not an OpenAI embeddings response ({type(exc).__name__})") from None
        if vectors.ndim != 2 or len(vectors) != len(batch) or not np.isfinite(vectors).all():
            raise NewsragError(f"embeddings server {url} answered badly: {len(vectors)} vectors of shape {vectors.shape[1:]} for {len(batch)} texts")
        if self.dim and vectors.shape[1] != self.dim:
            raise NewsragError(f"embeddings server {url} changed dimension from {self.dim} to {vectors.shape[1]}")
        self.dim = vectors.shape[1]
        return vectors


def _message(response: Any) -> str:
    """The server's own error message, on one line and short."""
    try:
        body = response.json()
        error = body.get("error", body) if isinstance(body, dict) else body
        text = error.get("message", str(error)) if isinstance(error, dict) else str(error)
    except ValueError:
        text = response.text
    return " ".join(str(text).split())[:200] or response.reason_phrase
