"""Chroma (embedded or a server) in cosine space; we always hand it our own embeddings.

Collections are versioned (`<name>-<n>`): a rebuild writes a fresh one and the manifest switches
to it atomically. A process that did not write the change must reopen its client to see it (an
embedded Chroma keeps each opened collection's vector index in memory), so `reopen()` exists.
"""

from __future__ import annotations

import gc
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from rag.index.vectors import pack_vectors
from rag.types import NewsragError

if TYPE_CHECKING:  # rag.chunking imports llama-index; a cold `ask` opens Chroma before importing it
    from rag.chunking import Chunk


def chunk_metadata(chunk: Chunk, doc: dict[str, Any], sentence_vectors: np.ndarray) -> dict[str, Any]:
    published = doc.get("published") or ""
    return {
        "source": chunk.source,
        "title": chunk.title,
        "start": chunk.start,
        "end": chunk.end,
        "position": chunk.position,
        "url": doc.get("url") or "",
        "published": published,
        # Sortable number for Chroma `where` filters; 0 = the article states no date.
        "published_num": int(published.replace("-", "")) if published else 0,
        "sentences": json.dumps([list(s) for s in chunk.sentences]),
        "sentence_vectors": pack_vectors(sentence_vectors),
    }


class ChunkCollection:
    """One Chroma collection of chunks, with batched writes and paged reads."""

    def __init__(self, raw: Any, max_batch: int) -> None:
        self.raw = raw
        self.name = raw.name
        self._max_batch = max(1, min(max_batch, 5000))

    def _batches(self, items: Sequence[Any]) -> Iterable[Sequence[Any]]:
        for i in range(0, len(items), self._max_batch):
            yield items[i : i + self._max_batch]

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray, sentence_vectors: Sequence[np.ndarray],
               docs: dict[str, dict[str, Any]]) -> None:
        from llama_index.core.schema import TextNode
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        metadatas = []
        for chunk, sv in zip(chunks, sentence_vectors):
            full = chunk_metadata(chunk, docs[chunk.source], sv)
            # The packed vectors go in once, beside llama-index's serialised node, not inside it:
            # inside they doubled the database and every read of it.
            packed = full.pop("sentence_vectors")
            node = TextNode(id_=chunk.id, text=chunk.text, metadata=full)
            meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
            meta["sentence_vectors"] = packed
            metadatas.append({k: ("" if v is None else v) for k, v in meta.items()})
        for idx in self._batches(list(range(len(chunks)))):
            self.raw.upsert(
                ids=[chunks[i].id for i in idx],
                embeddings=vectors[idx[0] : idx[-1] + 1],
                documents=[chunks[i].text for i in idx],
                metadatas=[metadatas[i] for i in idx],
            )

    def delete(self, ids: Sequence[str]) -> None:
        for batch in self._batches(list(ids)):
            self.raw.delete(ids=list(batch))

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset, page = 0, 5000
        while True:
            got = self.raw.get(include=[], limit=page, offset=offset)["ids"]
            ids.update(got)
            if len(got) < page:
                return ids
            offset += page

    def get(self, ids: Sequence[str], keep: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Rows by id; `keep` trims each page's metadata as it arrives, so reading every chunk
        (the BM25 rebuild) never holds all the sentence vectors in memory at once."""
        rows: list[dict[str, Any]] = []
        ids = list(ids)
        for i in range(0, len(ids), 1000):
            got = self.raw.get(ids=ids[i : i + 1000], include=["documents", "metadatas"])
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                if keep is not None:
                    meta = {k: meta[k] for k in keep if k in meta}
                rows.append({"id": cid, "text": text, "metadata": meta})
        return rows

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        for idx in self._batches(list(range(len(ids)))):
            self.raw.update(ids=[ids[i] for i in idx], metadatas=[metadatas[i] for i in idx])

    def count(self) -> int:
        return self.raw.count()


class VectorStore:
    def __init__(self, path: Path, host: str | None = None, port: int = 8000) -> None:
        self.path, self.host, self.port = path, host, port
        self._client = None
        self._collections: dict[str, ChunkCollection] = {}
        self._lock = threading.RLock()

    @property
    def client(self):
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if self.host:
            try:
                client = chromadb.HttpClient(host=self.host, port=self.port, settings=chroma_settings)
                client.heartbeat()
                return client
            except Exception as exc:
                raise NewsragError(
                    f"cannot reach the Chroma server at {self.host}:{self.port} ({exc.__class__.__name__}); "
                    "start it with `chroma run --path DIR --port N` or unset NEWSRAG_CHROMA_HOST"
                ) from None
        self.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.path), settings=chroma_settings)

    def reopen(self) -> None:
        """See what another process committed: an embedded client keeps each opened collection's
        vector index in memory and never learns of another process's writes."""
        with self._lock:
            self._collections.clear()
            if self.host or self._client is None:
                return
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
            self._client = None
        # The old client's System (Chroma's Rust bindings with every vector index it loaded) sits
        # in reference cycles, so only a full collection frees it; left to the collector's own
        # schedule, every reopen left one more of them alive for a while.
        # Callers drop their own collection handles first (see Assistant), or it stays reachable.
        gc.collect()

    def collection(self, name: str, create: bool = False) -> ChunkCollection:
        with self._lock:
            if name not in self._collections:
                if create:
                    raw = self.client.get_or_create_collection(
                        name, metadata={"hnsw:space": "cosine"}, embedding_function=None
                    )
                else:
                    try:
                        raw = self.client.get_collection(name, embedding_function=None)
                    except Exception as exc:  # noqa: BLE001 - chromadb's NotFoundError varies by version
                        if "does not exist" not in str(exc) and type(exc).__name__ != "NotFoundError":
                            raise
                        raise NewsragError(
                            f"the vector store lost the index's collection {name} (was its chroma folder "
                            "deleted?); run `newsrag ingest` to re-embed what is missing"
                        ) from None
                self._collections[name] = ChunkCollection(raw, self.client.get_max_batch_size())
            return self._collections[name]

    def warm_up(self, name: str) -> None:
        """Load collection `name`'s vector index into memory with one nearest-neighbour query.

        Chroma reads the index from disk on a collection's first query (~0.25 s at 8,500 chunks),
        outside the GIL, so a thread can do it while a fresh process imports llama-index."""
        raw = self.collection(name).raw
        sample = raw.get(limit=1, include=["embeddings"])["embeddings"]
        if sample is not None and len(sample):
            raw.query(query_embeddings=[sample[0]], n_results=1, include=["distances"])

    def names(self) -> list[str]:
        return [c if isinstance(c, str) else c.name for c in self.client.list_collections()]

    def drop(self, name: str) -> None:
        with self._lock:
            self._collections.pop(name, None)
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - an absent collection is fine
                pass
