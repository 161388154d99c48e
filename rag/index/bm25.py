"""The BM25 keyword index: built whole into a fresh folder named by the chunk-set generation, then
named in the manifest. Readers load the folder the manifest names, so a query never sees a
keyword index of another commit; folders no manifest names are deleted by the next write."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from rag.types import NewsragError

PLAIN_KEYS = ("source", "title", "start", "end", "position", "url", "published", "published_num", "sentences")


def build_bm25(rows: list[dict[str, Any]], root: Path, generation: str) -> str:
    """Build the BM25 index of `rows` under `root/<generation>`; returns the folder name."""
    import Stemmer
    from llama_index.core.schema import TextNode

    from rag.embeddings import search_text
    from llama_index.retrievers.bm25 import BM25Retriever

    root.mkdir(parents=True, exist_ok=True)
    name = generation
    target = root / name
    if target.exists() and bm25_loads(target, bool(rows)):
        return name
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
    try:
        if rows:
            nodes = []
            for r in rows:
                meta = {k: r["metadata"][k] for k in PLAIN_KEYS if k in r["metadata"]}
                # BM25Retriever indexes get_content(EMBED): the title is indexed with the chunk (a
                # headline is not chunk text), never the offsets, file names or sentence-span JSON.
                # The node's own text stays the chunk, verbatim: citations quote it at its offsets.
                nodes.append(TextNode(id_=r["id"], text=search_text(r["text"]), metadata=meta,
                                      excluded_embed_metadata_keys=[k for k in meta if k != "title"]))
            retriever = BM25Retriever.from_defaults(
                nodes=nodes, similarity_top_k=min(10, len(nodes)), stemmer=Stemmer.Stemmer("english"),
                language="english",
            )
            retriever.persist(str(staging / "index"), show_progress=False)
        (staging / "generation").write_text(generation, encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return name


def prune_bm25(root: Path, keep: set[str]) -> None:
    if root.exists():
        for folder in root.iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


def bm25_loads(target: Path, expect_index: bool) -> bool:
    """Whether the BM25 folder is whole: an index present when there are chunks, and loadable.
    A damaged folder is rebuilt by the next ingest instead of failing every query."""
    index_dir = target / "index"
    if not index_dir.exists():
        return not expect_index and (target / "generation").exists()
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
            f"the BM25 keyword index is damaged ({type(exc).__name__}); run `newsrag ingest` to rebuild it"
        ) from None
