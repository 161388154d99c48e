"""The persistent index: Chroma (embedded or server) for vectors, a BM25 index, article texts and
the manifest that says which chunks are committed.

The manifest is the single source of truth. Chroma may briefly hold chunks the manifest does not
name (a crash mid-ingest); they are orphans, invisible to queries and deleted by the next ingest.
Every file here is replaced atomically (write to a temp name, fsync, rename).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from rag.chunking import Chunk
from rag.types import NewsragError

MANIFEST_VERSION = 1


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class DocEntry:
    source: str
    content_hash: str
    title: str
    url: str | None
    encoding: str
    chunk_ids: list[str]


@dataclass
class Manifest:
    corpus_root: str = ""
    embedding: str = ""
    chunking: str = ""
    bm25_generation: str = ""
    docs: dict[str, DocEntry] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    @property
    def chunk_ids(self) -> set[str]:
        return {cid for doc in self.docs.values() for cid in doc.chunk_ids}

    def generation(self) -> str:
        """Changes whenever the committed chunk set changes; the BM25 index records it."""
        import hashlib

        digest = hashlib.sha256()
        for cid in sorted(self.chunk_ids):
            digest.update(cid.encode())
        return digest.hexdigest()[:16]

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            docs = {s: DocEntry(**d) for s, d in raw.pop("docs").items()}
            manifest = cls(docs=docs, **raw)
        except (ValueError, TypeError, KeyError) as exc:
            raise NewsragError(
                f"the index at {path.parent} is corrupted (manifest unreadable: {exc}); "
                "run `newsrag ingest --rebuild` to rebuild it from the corpus"
            ) from None
        if manifest.version != MANIFEST_VERSION:
            raise NewsragError(
                f"the index at {path.parent} was written by another version; run `newsrag ingest --rebuild`"
            )
        return manifest

    def save(self, path: Path) -> None:
        data = asdict(self)
        atomic_write_text(path, json.dumps(data, ensure_ascii=False, sort_keys=True))


def chunk_metadata(chunk: Chunk, url: str | None, sentence_vectors: np.ndarray) -> dict[str, Any]:
    return {
        "source": chunk.source,
        "title": chunk.title,
        "start": chunk.start,
        "end": chunk.end,
        "position": chunk.position,
        "url": url or "",
        "sentences": json.dumps([list(s) for s in chunk.sentences]),
        "sentence_vectors": pack_vectors(sentence_vectors),
    }


def pack_vectors(vectors: np.ndarray) -> str:
    """Sentence vectors ride along in the chunk's metadata (float16, base64): the answerer
    scores sentences without embedding them again at query time."""
    import base64

    return base64.b64encode(np.asarray(vectors, dtype=np.float16).tobytes()).decode("ascii")


def unpack_vectors(packed: str, count: int) -> np.ndarray:
    import base64

    flat = np.frombuffer(base64.b64decode(packed), dtype=np.float16).astype(np.float32)
    return flat.reshape(count, -1) if count else flat.reshape(0, 0)


class VectorStore:
    """Chroma collection in cosine space; we always hand it our own embeddings."""

    def __init__(self, path: Path, collection: str, host: str | None = None, port: int = 8000) -> None:
        self.path, self.collection_name, self.host, self.port = path, collection, host, port
        self._client = None
        self._collection = None

    @property
    def client(self):
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
            if self.host:
                try:
                    self._client = chromadb.HttpClient(host=self.host, port=self.port, settings=chroma_settings)
                    self._client.heartbeat()
                except Exception as exc:
                    raise NewsragError(
                        f"cannot reach the Chroma server at {self.host}:{self.port} ({exc.__class__.__name__}); "
                        "start it with `chroma run --path DIR --port N` or unset NEWSRAG_CHROMA_HOST"
                    ) from None
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(self.path), settings=chroma_settings)
        return self._client

    @property
    def collection(self):
        if self._collection is None:
            self._collection = self.client.get_or_create_collection(
                self.collection_name, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
        return self._collection

    def drop(self) -> None:
        try:
            self.client.delete_collection(self.collection_name)
        except Exception:  # noqa: BLE001 - absent collection is fine
            pass
        self._collection = None

    def _batches(self, items: Sequence[Any]) -> Iterable[Sequence[Any]]:
        size = max(1, min(self.client.get_max_batch_size(), 5000))
        for i in range(0, len(items), size):
            yield items[i : i + size]

    def upsert(
        self,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray],
        urls: dict[str, str | None],
    ) -> None:
        from llama_index.core.schema import TextNode
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        for start in range(0, len(chunks), 1000):
            part = chunks[start : start + 1000]
            metadatas = []
            for offset, chunk in enumerate(part):
                metadata = chunk_metadata(chunk, urls.get(chunk.source), sentence_vectors[start + offset])
                node = TextNode(id_=chunk.id, text=chunk.text, metadata=metadata)
                meta = node_to_metadata_dict(node, remove_text=True, flat_metadata=True)
                metadatas.append({k: ("" if v is None else v) for k, v in meta.items()})
            for idx in self._batches(list(range(len(part)))):
                self.collection.upsert(
                    ids=[part[i].id for i in idx],
                    embeddings=vectors[start + idx[0] : start + idx[-1] + 1],
                    documents=[part[i].text for i in idx],
                    metadatas=[metadatas[i] for i in idx],
                )

    def delete(self, ids: Sequence[str]) -> None:
        for batch in self._batches(list(ids)):
            self.collection.delete(ids=list(batch))

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset, page = 0, 5000
        while True:
            got = self.collection.get(include=[], limit=page, offset=offset)["ids"]
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
            got = self.collection.get(ids=ids[i : i + 1000], include=["documents", "metadatas"])
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                if keep is not None:
                    meta = {k: meta[k] for k in keep if k in meta}
                rows.append({"id": cid, "text": text, "metadata": meta})
        return rows

    def count(self) -> int:
        return self.collection.count()


class ArticleStore:
    """Decoded article texts by content hash: what citations quote and the UI shows."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def put(self, content_hash: str, text: str) -> None:
        target = self.path / f"{content_hash}.txt"
        if not target.exists():
            atomic_write_text(target, text)

    def get(self, content_hash: str) -> str:
        return (self.path / f"{content_hash}.txt").read_text(encoding="utf-8")

    def prune(self, keep: set[str]) -> None:
        if self.path.exists():
            for file in self.path.glob("*.txt"):
                if file.stem not in keep:
                    file.unlink(missing_ok=True)


def build_bm25(rows: list[dict[str, Any]], target: Path, generation: str) -> None:
    """Build the BM25 index of `rows` in a temp folder, then swap it in."""
    import Stemmer
    from llama_index.core.schema import TextNode
    from llama_index.retrievers.bm25 import BM25Retriever

    from rag.embeddings import search_text

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".bm25-"))
    try:
        if rows:
            nodes = [
                TextNode(id_=r["id"], text=search_text(r["text"]), metadata=_plain_metadata(r["metadata"]))
                for r in rows
            ]
            retriever = BM25Retriever.from_defaults(
                nodes=nodes, similarity_top_k=min(10, len(nodes)), stemmer=Stemmer.Stemmer("english"),
                language="english",
            )
            retriever.persist(str(staging / "index"), show_progress=False)
        (staging / "generation").write_text(generation, encoding="utf-8")
        old = target.with_name(target.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def bm25_generation(target: Path) -> str | None:
    try:
        return (target / "generation").read_text(encoding="utf-8")
    except OSError:
        return None


def bm25_loads(target: Path, expect_index: bool) -> bool:
    """Whether the BM25 index on disk is whole: present when there are chunks, and loadable.

    A damaged folder (truncated or garbled files, a missing index next to an intact generation
    stamp) is then rebuilt by the next ingest instead of failing every query.
    """
    index_dir = target / "index"
    if not index_dir.exists():
        return not expect_index
    try:
        load_bm25(index_dir)
    except NewsragError:
        return False
    return True


def load_bm25(index_dir: Path):
    """The persisted BM25 retriever, or NewsragError (one line) when its files are damaged."""
    from llama_index.retrievers.bm25 import BM25Retriever

    try:
        return BM25Retriever.from_persist_dir(str(index_dir), show_progress=False)
    except Exception as exc:  # noqa: BLE001 - any failure to load means the files are damaged
        raise NewsragError(
            f"the BM25 keyword index is damaged ({type(exc).__name__}); "
            "run `newsrag ingest` to rebuild it"
        ) from None


PLAIN_KEYS = ("source", "title", "start", "end", "position", "url", "sentences")


def _plain_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: meta[k] for k in PLAIN_KEYS if k in meta}
