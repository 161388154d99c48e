"""The manifest: the commit log of the index and its single source of truth.

It names the Chroma collection and the BM25 keyword segments that are committed, and every document with the
file it was read from (what `--rebuild` re-reads) and the folder it was ingested from. Chroma
may briefly hold chunks the manifest does not name (a crash mid-ingest, or a rebuild being
written into a fresh collection); they are invisible to queries until the manifest names them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.index.atomic import atomic_write_text
from rag.types import NewsragError

MANIFEST_VERSION = 2
LEGACY_KEYS = ("bm25_dir", "bm25_generation")  # the one-folder keyword index before segments: re-indexed


@dataclass
class DocEntry:
    source: str  # unique short name: the path relative to the folder it was ingested from
    path: str  # absolute path of the file it was read from: a document's identity
    origin: str  # the folder or file named when it was ingested
    content_hash: str
    title: str
    url: str | None
    encoding: str
    chunk_ids: list[str]
    published: str | None = None
    author: str | None = None
    site_name: str | None = None
    kind: str = "txt"
    group: str | None = None  # near-duplicate group (wire copies): the earliest member's source
    signature: str = ""  # MinHash of the article body (rag.index.dedup), to regroup without re-reading
    keyword: str = ""  # the keyword segment its chunks' rows live in ("" = not keyword-indexed yet)


@dataclass
class Manifest:
    embedding: str = ""
    chunking: str = ""
    collection: str = ""
    keyword_segments: list[list] = field(default_factory=list)  # [name, rows], oldest first (rag.index.keyword)
    docs: dict[str, DocEntry] = field(default_factory=dict)
    version: int = MANIFEST_VERSION
    legacy_origins: list[str] = field(default_factory=list)  # read from an older manifest, for --rebuild

    @property
    def chunk_ids(self) -> set[str]:
        return {cid for doc in self.docs.values() for cid in doc.chunk_ids}

    def by_path(self) -> dict[str, DocEntry]:
        return {doc.path: doc for doc in self.docs.values()}

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            version = raw.get("version", 1)
            if version == 1:  # one-folder index of the first release: only its folder is reusable
                return cls(version=1, legacy_origins=[raw["corpus_root"]] if raw.get("corpus_root") else [])
            docs = {s: DocEntry(**d) for s, d in raw.pop("docs").items()}
            raw.pop("legacy_origins", None)
            for key in LEGACY_KEYS:
                raw.pop(key, None)
            manifest = cls(docs=docs, **raw)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise NewsragError(
                f"the index at {path.parent} is corrupted (manifest unreadable: {exc}); "
                "run `newsrag ingest --rebuild PATH` to rebuild it"
            ) from None
        if manifest.version != MANIFEST_VERSION:
            raise NewsragError(
                f"the index at {path.parent} was written by another version; run `newsrag ingest --rebuild`"
            )
        return manifest

    def save(self, path: Path) -> None:
        # Shallow views, not dataclasses.asdict: its deep copy of every entry was most of a save,
        # and a save comes at every ingest, so it grew with the index (json.dumps copies nothing).
        data = {**vars(self), "docs": {source: vars(doc) for source, doc in self.docs.items()}}
        data.pop("legacy_origins")
        text = json.dumps(data, ensure_ascii=False, sort_keys=True)
        try:
            if path.read_text(encoding="utf-8") == text:
                return  # unchanged: running readers keep their loaded index instead of reopening
        except (OSError, UnicodeDecodeError):
            pass
        atomic_write_text(path, text)
