"""The collection service: everything that writes the index (ingest, upload, remove, rebuild).

One writer at a time across processes (the ingester's file lock); queries keep answering from
the last committed index meanwhile, and this process's live index is told when a write commits
(`LiveIndex.own_write`). The readers (trafilatura, pypdf) are imported only when something writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import InvalidRequest, NotFound
from rag.index import atomic_write_bytes
from rag.index.dedup import DedupOptions
from rag.settings import Settings
from rag.types import IngestReport, Progress, Skipped

if TYPE_CHECKING:
    from rag.chunking import Chunker
    from rag.embeddings import Embedder
    from rag.ingest import Ingester
    from rag.live_index import LiveIndex


UNUSABLE_NAME = "not a usable file name"


class Collection:
    def __init__(self, settings: Settings, live: "LiveIndex", embedder: "Embedder", chunker: "Chunker") -> None:
        self.settings, self.live, self.embedder, self.chunker = settings, live, embedder, chunker

    def _ingester(self, on_progress: Progress | None = None, progress: bool = False) -> "Ingester":
        from rag.ingest import Ingester  # writing needs the readers (trafilatura, pypdf); answering does not
        from rag.sources import ReadOptions

        index, reading = self.settings.index, self.settings.reading
        return Ingester(
            self.live.paths, self.live.store, self.embedder, self.chunker, reading.max_file_bytes,
            collection_prefix=index.collection, batch_docs=index.ingest_batch_docs,
            checkpoint_share=index.ingest_checkpoint_share,
            progress=progress, on_progress=on_progress, read_options=ReadOptions.from_settings(self.settings),
            dedup=DedupOptions(index.dedup_threshold, index.dedup_shingle_words, index.dedup_num_perm, index.dedup_min_words),
        )

    def _targets(self, paths: list[str | Path] | None, rebuild: bool) -> list[Path]:
        """What to read: the named paths (each must exist), nothing new for a rebuild, else the corpus folder."""
        if paths:
            targets = [Path(p).expanduser() for p in paths]
            missing = [str(t) for t in targets if not t.exists() and not t.is_symlink()]
            if missing:  # a typo must not look like an ingest that found nothing (nor prune anything)
                raise NotFound(f"no such file or folder: {', '.join(missing)}")
            return targets
        if rebuild:
            return []
        corpus = Path(self.settings.index.corpus_dir)
        if not corpus.is_dir():
            raise NotFound(
                f"the corpus folder {corpus} does not exist: name what to ingest (`newsrag ingest PATH`) "
                "or set NEWSRAG_CORPUS_DIR"
            )
        return [corpus]

    def ingest(
        self, paths: list[str | Path] | None = None, *, prune: bool = True, rebuild: bool = False,
        progress: bool = False, on_progress: Progress | None = None,
    ) -> IngestReport:
        """Add or update files and folders from anywhere; no paths = the configured corpus folder
        (or, with `rebuild`, just every document the index holds, re-read into a fresh collection).

        Queries keep answering from the last committed index while this writes: the manifest is
        replaced atomically and retrieval only sees the chunks it names.
        """
        targets = self._targets(paths, rebuild)
        corpus = Path(self.settings.index.corpus_dir)
        with self.live.own_write():
            return self._ingester(on_progress, progress).run(
                targets, prune=prune, rebuild=rebuild, default=corpus if corpus.exists() else None
            )

    def upload(self, files: list[tuple[str, bytes]], on_progress: Progress | None = None) -> IngestReport:
        """Store uploaded files (by base name) in the managed uploads folder and ingest them."""
        if not files:
            raise InvalidRequest("no files to upload")
        uploads = self.live.paths.uploads
        uploads.mkdir(parents=True, exist_ok=True)
        written, refused = [], []
        for name, data in files:
            base = Path(str(name).replace("\\", "/")).name.strip()
            reason = self._refusal(base, data)
            if reason:
                refused.append(Skipped((str(name) or "(unnamed)") if reason == UNUSABLE_NAME else base, reason))
            else:
                atomic_write_bytes(uploads / base, data)
                written.append(uploads / base)
        report = self.ingest(written, prune=False, on_progress=on_progress) if written else IngestReport()
        known = {d.path for d in self.live.manifest().docs.values()}
        for path in written:  # a stored upload that was not indexed is not kept
            if str(path.absolute()) not in known:
                path.unlink(missing_ok=True)
        report.skipped = refused + report.skipped
        report.seen += len(refused)
        return report

    def _refusal(self, base: str, data: bytes) -> str | None:
        """Why an upload is not stored, or None."""
        from rag.sources import SUPPORTED_SUFFIXES

        limit = self.settings.reading.max_file_bytes
        if not base or base.startswith(".") or base in {".", ".."}:
            return UNUSABLE_NAME
        if len(data) > limit:
            return f"file is {len(data):,} bytes, over the {limit:,}-byte cap"
        if Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
            return (f"unsupported file type '{Path(base).suffix or '(none)'}' "
                    f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})")
        return None

    def remove(self, sources: list[str]) -> IngestReport:
        """Drop exactly these documents (by source name as listed, or by file path)."""
        if not sources:
            raise InvalidRequest("name the documents to remove (see `newsrag list`)")
        with self.live.own_write():
            return self._ingester().remove([str(s) for s in sources])
