"""Incremental, crash-safe ingestion of files and folders from anywhere into one index.

A document's identity is the absolute path of its file; its `source` (what citations show) is the
path relative to the folder it was ingested from, prefixed with that folder's name only when
another folder already holds the same relative name.

Order of writes for each batch of changed articles: article texts, then Chroma upserts (ids are
deterministic, so a retry writes the same rows), then the manifest, then deletion of the chunks the
manifest no longer names. A rebuild writes a fresh collection and switches the manifest to it in
one rename. A crash at any point leaves the manifest describing a consistent index; the next run
deletes orphans, re-embeds any article whose chunks are missing, and converges.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.chunking import Chunk, Chunker
from rag.embeddings import Embedder
from rag.index.dedup import DedupOptions, encode_signature, regroup_after, signature
from rag.index.layout import IndexPaths, write_lock
from rag.index import ArticleStore, ChunkCollection, DocEntry, Manifest, VectorStore, prune_segments
from rag.index.checkpoints import Checkpoints
from rag.index.keyword import refresh_keyword
from rag.progress import progress_bar
from rag.sources import Article, Found, ReadOptions, SkipFile, discover, read_article
from rag.types import IngestReport, NewsragError, Progress, Skipped


@dataclass
class _Work:
    manifest: Manifest
    collection: ChunkCollection
    report: IngestReport
    present: set[str] = field(default_factory=set)  # paths seen in this run (read or not)
    fresh: set[str] = field(default_factory=set)  # sources added or updated in this run
    dropped_grouped: bool = False  # a wire copy went or changed: its group must be worked out again


def _abs(path: Path) -> str:
    return os.path.normpath(Path(path).absolute())


class Ingester:
    def __init__(
        self, paths: IndexPaths, store: VectorStore, embedder: Embedder, chunker: Chunker,
        max_file_bytes: int, collection_prefix: str, batch_docs: int, progress: bool = True,
        on_progress: Progress | None = None, read_options: ReadOptions | None = None,
        dedup: DedupOptions | None = None, checkpoint_share: float = 1.0,
    ) -> None:
        self.read_options = read_options
        self.dedup = dedup or DedupOptions()
        self.paths, self.store, self.embedder, self.chunker = paths, store, embedder, chunker
        self.max_file_bytes = max_file_bytes
        self.prefix = collection_prefix
        self.batch_docs = batch_docs
        self.checkpoint_share = checkpoint_share
        self.articles = ArticleStore(paths.articles)
        self.progress = progress and sys.stderr.isatty()
        self.on_progress = on_progress

    # ------------------------------------------------------------------ public
    def run(self, targets: list[Path], prune: bool = True, rebuild: bool = False,
            default: Path | None = None) -> IngestReport:
        """`default` is read when nothing else is named (a rebuild of an index whose documents
        are unknown, e.g. its manifest is unreadable)."""
        started = time.perf_counter()
        with write_lock(self.paths.lock):
            self._drop_abandoned_rebuild()
            try:
                current = Manifest.load(self.paths.manifest)
            except NewsragError:
                if not rebuild:
                    raise
                current = Manifest()  # unreadable: rebuild from what we are told to read
            report = IngestReport()
            if rebuild:
                work = self._fresh(current, report)
                known = [Path(d.path) for d in current.docs.values()]
                known += [Path(p) for p in current.legacy_origins]
                targets = list(dict.fromkeys([*known, *targets])) or ([default] if default else [])
            else:
                self._check_config(current)
                work = self._open(current, report)
            if not targets:
                raise NewsragError("nothing to ingest: name a file or folder (`newsrag ingest PATH`)")
            found, skipped = discover(targets)
            report.skipped += skipped
            report.seen = len(found) + len(skipped)
            changed = self._classify(found, work, current)
            self._embed_and_commit(changed, work, save=not rebuild)
            if prune and not rebuild:
                _prune(self.paths.manifest, targets, work)
            if rebuild:
                report.removed = len(set(current.docs) - {d.source for d in work.manifest.docs.values()})
            self._finish(work, current if rebuild else None)
            report.chunks = len(work.manifest.chunk_ids)
            report.seconds = round(time.perf_counter() - started, 3)
            return report

    def remove(self, names: list[str]) -> IngestReport:
        """Drop exactly the named documents (by source, or by the path of their file)."""
        started = time.perf_counter()
        with write_lock(self.paths.lock):
            manifest = Manifest.load(self.paths.manifest)
            self._check_config(manifest)
            report = IngestReport()
            by_path = manifest.by_path()
            gone: list[DocEntry] = []
            for name in names:
                doc = manifest.docs.get(name) or by_path.get(_abs(Path(name)))
                if doc is None or doc in gone:
                    report.skipped.append(Skipped(name, "not in the index (see `newsrag list`)"))
                    continue
                gone.append(doc)
            report.seen = len(names)
            if gone:
                for doc in gone:
                    del manifest.docs[doc.source]
                manifest.save(self.paths.manifest)
                dropped_grouped = any(doc.group for doc in gone)
                self.store.collection(manifest.collection).delete([c for d in gone for c in d.chunk_ids])
                uploads = _abs(self.paths.uploads)
                for doc in gone:  # an uploaded copy is ours to delete; a user's own file never is
                    if os.path.dirname(doc.path) == uploads:
                        Path(doc.path).unlink(missing_ok=True)
                report.removed = len(gone)
                self._finish(_Work(manifest, self.store.collection(manifest.collection), report,
                                   dropped_grouped=dropped_grouped), None)
            report.chunks = len(manifest.chunk_ids)
            report.seconds = round(time.perf_counter() - started, 3)
            return report

    # ------------------------------------------------------------------ opening
    def _config(self) -> tuple[str, str]:
        return self.embedder.name, self.chunker.config

    def _check_config(self, manifest: Manifest) -> None:
        if manifest.version == 1:
            raise NewsragError(
                "the index was written by an older newsrag; run `newsrag ingest --rebuild` to rebuild it "
                "(its folder is re-read; nothing is lost until the new index is complete)"
            )
        if manifest.docs and (manifest.embedding, manifest.chunking) != self._config():
            raise NewsragError(
                f"the index was built with {manifest.embedding} / {manifest.chunking}, but the settings now say "
                f"{self._config()[0]} / {self._config()[1]}; run `newsrag ingest --rebuild` to re-embed all "
                f"{len(manifest.docs)} documents (the current index answers until the new one is complete)"
            )

    def _new_collection(self) -> ChunkCollection:
        name = f"{self.prefix}-{secrets.token_hex(4)}"
        self.paths.data_dir.mkdir(parents=True, exist_ok=True)
        self.paths.pending.write_text(name, encoding="utf-8")
        return self.store.collection(name, create=True)

    def _fresh(self, current: Manifest, report: IngestReport) -> _Work:
        report.rebuilt = True
        embedding, chunking = self._config()
        collection = self._new_collection()
        return _Work(Manifest(embedding=embedding, chunking=chunking, collection=collection.name), collection, report,
                     dropped_grouped=True)

    def _open(self, manifest: Manifest, report: IngestReport) -> _Work:
        if not manifest.collection:  # a new index
            manifest.embedding, manifest.chunking = self._config()
            collection = self._new_collection()
            manifest.collection = collection.name
            manifest.save(self.paths.manifest)
            self.paths.pending.unlink(missing_ok=True)
            return _Work(manifest, collection, report)
        try:
            collection = self.store.collection(manifest.collection, create=True)
        except NewsragError:
            raise
        # Reconcile with a crash (orphans) or a damaged store (missing chunks). Reading every id
        # costs time that grows with the index, so only when the counts say something is off.
        committed = manifest.chunk_ids
        if collection.count() == len(committed):
            return _Work(manifest, collection, report)
        stored = collection.all_ids()
        orphans = stored - committed
        if orphans:
            collection.delete(sorted(orphans))
        for doc in manifest.docs.values():
            if not set(doc.chunk_ids) <= stored:
                doc.content_hash = "missing-chunks"
        return _Work(manifest, collection, report)

    def _drop_abandoned_rebuild(self) -> None:
        try:
            name = self.paths.pending.read_text(encoding="utf-8").strip()
        except OSError:
            return
        try:
            live = Manifest.load(self.paths.manifest).collection
        except NewsragError:
            live = ""
        if name and name != live:
            self.store.drop(name)
        self.paths.pending.unlink(missing_ok=True)

    # ------------------------------------------------------------------ reading
    def _classify(self, found: list[Found], work: _Work, previous: Manifest) -> list[tuple[Article, str, str]]:
        changed: list[tuple[Article, str, str]] = []
        claimed: set[str] = set()
        # Once per run, not per file: per file it made an ingest cost files x index size.
        known = (work.manifest.by_path(), previous.by_path())
        for item in found:
            path = _abs(item.path)
            source, origin = _source_for(item, work.manifest, known)
            while source in claimed:  # two new files of one run wanting the same name
                source = f"{Path(origin).name}/{source}"
            claimed.add(source)
            try:
                article = read_article(item.path, source, self.max_file_bytes, self.read_options)
            except SkipFile as skip:
                work.report.skipped.append(Skipped(item.relative, str(skip)))
                if item.path.exists():  # unreadable now: keep what was indexed rather than lose it
                    work.present.add(path)
                continue
            work.present.add(path)
            existing = work.manifest.docs.get(source)
            if existing and existing.path == path and existing.content_hash == article.content_hash:
                work.report.unchanged += 1
            else:
                changed.append((article, path, origin))
        return changed

    # ------------------------------------------------------------------ writing
    def _embed_and_commit(self, changed: list[tuple[Article, str, str]], work: _Work, save: bool) -> None:
        """Skip reasons name files as discovery does: relative to the folder they were found in."""
        bar = progress_bar(sum(len(a.text) for a, _, _ in changed), self.progress, desc="ingesting", unit="char", unit_scale=True)
        checkpoint = Checkpoints(self.checkpoint_share)
        done = 0
        for i in range(0, len(changed), self.batch_docs):
            batch = changed[i : i + self.batch_docs]
            chunks: list[Chunk] = []
            per_article: dict[str, list[Chunk]] = {}
            for item in list(batch):
                article = item[0]
                try:
                    per_article[article.source] = self.chunker.chunk(article)
                except Exception as exc:  # noqa: BLE001 - one unsplittable file must not sink the batch
                    reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
                    work.report.skipped.append(Skipped(
                        article.source, f"could not be split into chunks ({type(exc).__name__}{': ' + reason if reason else ''})"))
                    batch.remove(item)
                    continue
                chunks += per_article[article.source]
            vectors, sentence_vectors = embed_chunks(self.embedder, chunks)
            work.report.chunks_embedded += len(chunks)
            entries = {a.source: _entry(a, path, origin, per_article[a.source]) for a, path, origin in batch}
            for article, _, _ in batch:
                entries[article.source].signature = _signature(article, self.dedup)
                self.articles.put(article.content_hash, article.text)
            work.collection.upsert(chunks, vectors, sentence_vectors,
                                   {s: {"url": e.url, "published": e.published} for s, e in entries.items()})
            stale: list[str] = []
            for source, entry in entries.items():
                previous = work.manifest.docs.get(source)
                work.fresh.add(source)
                work.dropped_grouped |= bool(previous and previous.group)
                if previous:
                    stale += [cid for cid in previous.chunk_ids if cid not in set(entry.chunk_ids)]
                    work.report.updated += 1
                else:
                    work.report.added += 1
                work.manifest.docs[source] = entry
            if save and checkpoint.due():
                with checkpoint.timing():
                    work.manifest.save(self.paths.manifest)
            if stale:
                work.collection.delete(stale)
            done += len(batch)
            bar.update(sum(len(a.text) for a, _, _ in batch))
            if self.on_progress is not None and batch:
                self.on_progress(done, len(changed), batch[-1][0].source)
        bar.close()

    def _finish(self, work: _Work, replaced: Manifest | None) -> None:
        """Keyword-index what this commit added (a new segment, merged as they grow), commit the
        manifest naming it all, then delete what no manifest names any more (the replaced
        collection, keyword segments merged away)."""
        manifest = work.manifest
        regroup_after(manifest, self.dedup, work.fresh, work.dropped_grouped)
        refresh_keyword(manifest, self.paths.keyword, lambda ids: work.collection.get(ids, keep=("title",)))
        manifest.save(self.paths.manifest)  # the commit (for a rebuild: the switch)
        self.paths.pending.unlink(missing_ok=True)
        if replaced is not None and replaced.collection and replaced.collection != manifest.collection:
            self.store.drop(replaced.collection)
        if replaced is not None and replaced.version == 1:  # the first release's one collection
            self.store.drop(self.prefix)
        prune_segments(self.paths.keyword, [name for name, _ in manifest.keyword_segments])
        self.articles.prune({d.content_hash for d in manifest.docs.values()})


def _source_for(found: Found, manifest: Manifest, by_path: tuple[dict[str, DocEntry], ...]) -> tuple[str, str]:
    """(source, origin): kept for a known file (`by_path`: the manifests' documents by path);
    otherwise its relative name, made unique."""
    path = _abs(found.path)
    for known in (index.get(path) for index in by_path):
        if known is not None:
            return known.source, known.origin
    origin = _abs(found.root)
    candidate = found.relative
    parents = Path(origin).parts[::-1]
    depth = 0
    while candidate in manifest.docs and manifest.docs[candidate].path != path:
        if depth < len(parents) - 1:
            candidate = "/".join([*reversed(parents[: depth + 1]), found.relative])
            depth += 1
        else:
            candidate = f"{found.relative}~{secrets.token_hex(2)}"
    return candidate, origin


def _entry(article: Article, path: str, origin: str, chunks: list[Chunk]) -> DocEntry:
    return DocEntry(
        source=article.source, path=path, origin=origin, content_hash=article.content_hash,
        title=article.title, url=article.url, encoding=article.encoding, chunk_ids=[c.id for c in chunks],
        published=getattr(article, "published", None), author=getattr(article, "author", None),
        site_name=getattr(article, "site_name", None), kind=getattr(article, "kind", "txt"),
    )


def _signature(article: Article, d: DedupOptions) -> str:
    """MinHash of the body only: outlets reprinting one wire story differ in headline and chrome."""
    body = "\n".join(article.text[s:e] for s, e in article.blocks)
    return encode_signature(signature(body, num_perm=d.num_perm, k=d.shingle_words, min_words=d.min_words))


def embed_chunks(embedder: Embedder, chunks: list[Chunk]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Embed each distinct sentence once; a chunk's vector is the normalised mean of its
    sentences' vectors (as cheap as embedding the chunk, and sentences come for free)."""
    texts: dict[str, int] = {}
    spans_per_chunk = []
    for chunk in chunks:
        spans = chunk.sentences or ((0, len(chunk.text)),)
        spans_per_chunk.append(spans)
        for s, e in spans:
            texts.setdefault(chunk.text[s:e], len(texts))
    unique = embedder.embed(list(texts)) if texts else np.zeros((0, 1), dtype=np.float32)
    chunk_vectors, sentence_vectors = [], []
    for chunk, spans in zip(chunks, spans_per_chunk):
        rows = unique[[texts[chunk.text[s:e]] for s, e in spans]]
        mean = rows.mean(axis=0)
        norm = float(np.linalg.norm(mean)) or 1.0
        chunk_vectors.append(mean / norm)
        sentence_vectors.append(rows)
    return np.asarray(chunk_vectors, dtype=np.float32), sentence_vectors


def _prune(manifest_path: Path, targets: list[Path], work: _Work) -> None:
    """Documents under the named folders (or the named files) whose files are gone."""
    scopes = [_abs(t) for t in targets]
    gone = [
        doc for doc in work.manifest.docs.values()
        if doc.path not in work.present and any(doc.path == s or doc.path.startswith(s + os.sep) for s in scopes)
    ]
    if not gone:
        return
    for doc in gone:
        del work.manifest.docs[doc.source]
    work.dropped_grouped |= any(doc.group for doc in gone)
    work.manifest.save(manifest_path)
    work.collection.delete([cid for doc in gone for cid in doc.chunk_ids])
    work.report.removed += len(gone)
