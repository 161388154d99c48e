"""The persistent index, one concern per module: `atomic` writes, the `manifest` (commit log),
`vectors` (packing sentence vectors), `chroma` (the vector store), `articles` (article texts),
`bm25` (the keyword index's segments and search) and `keyword` (keeping its segments current)."""

from rag.index.articles import ArticleStore
from rag.index.atomic import atomic_write_bytes, atomic_write_text
from rag.index.bm25 import PLAIN_KEYS, KeywordIndex, load_segment, prune_segments
from rag.index.chroma import ChunkCollection, VectorStore, chunk_metadata
from rag.index.manifest import MANIFEST_VERSION, DocEntry, Manifest
from rag.index.vectors import pack_vectors, unpack_vectors

__all__ = [
    "ArticleStore", "ChunkCollection", "DocEntry", "KeywordIndex", "MANIFEST_VERSION", "Manifest", "PLAIN_KEYS",
    "VectorStore", "atomic_write_bytes", "atomic_write_text", "chunk_metadata", "load_segment", "pack_vectors",
    "prune_segments", "unpack_vectors",
]
