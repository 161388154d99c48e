"""The persistent index, one concern per module: `atomic` writes, the `manifest` (commit log),
`vectors` (packing sentence vectors), `chroma` (the vector store), `articles` (article texts) and
`bm25` (the keyword index)."""

from rag.index.articles import ArticleStore
from rag.index.atomic import atomic_write_bytes, atomic_write_text
from rag.index.bm25 import PLAIN_KEYS, bm25_loads, build_bm25, load_bm25, prune_bm25
from rag.index.chroma import ChunkCollection, VectorStore, chunk_metadata
from rag.index.manifest import MANIFEST_VERSION, DocEntry, Manifest
from rag.index.vectors import pack_vectors, unpack_vectors

__all__ = [
    "ArticleStore", "ChunkCollection", "DocEntry", "MANIFEST_VERSION", "Manifest", "PLAIN_KEYS", "VectorStore",
    "atomic_write_bytes", "atomic_write_text", "bm25_loads", "build_bm25", "chunk_metadata",
    "load_bm25", "pack_vectors", "prune_bm25", "unpack_vectors",
]
