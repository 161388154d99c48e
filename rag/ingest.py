"""Incremental, crash-safe ingestion: corpus files -> chunks -> embeddings -> index.

Order of writes for each batch of changed articles: article texts, then Chroma upserts (ids are
deterministic, so a retry writes the same rows), then the manifest, then deletion of the chunks the
manifest no longer names. A crash at any point leaves the manifest describing a consistent index;
the next run deletes orphans, re-embeds any article whose chunks are missing, and converges.
"""

from __future__ import annotations

import fcntl
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from rag.chunking import Chunk, Chunker
from rag.corpus import Article, SkipFile, discover, read_article, relative_name
from rag.embeddings import Embedder
from rag.index import PLAIN_KEYS, ArticleStore, DocEntry, Manifest, VectorStore, bm25_generation, bm25_loads, build_bm25
from rag.types import IngestReport, NewsragError, Skipped

BATCH_DOCS = 32


@dataclass
class IndexPaths:
    data_dir: Path

    @property
    def manifest(self) -> Path:
        return self.data_dir / "manifest.json"

    @property
    def chroma(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def bm25(self) -> Path:
        return self.data_dir / "bm25"

    @property
    def articles(self) -> Path:
        return self.data_dir / "articles"

    @property
    def lock(self) -> Path:
        return self.data_dir / ".ingest.lock"


@contextmanager
def ingest_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NewsragError(f"another ingest is running on {path.parent}; wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Ingester:
    def __init__(
        self,
        paths: IndexPaths,
        store: VectorStore,
        embedder: Embedder,
        chunker: Chunker,
        corpus_root: Path,
        max_file_bytes: int,
        progress: bool = True,
    ) -> None:
        self.paths, self.store, self.embedder, self.chunker = paths, store, embedder, chunker
        self.corpus_root = corpus_root.resolve()
        self.max_file_bytes = max_file_bytes
        self.articles = ArticleStore(paths.articles)
        self.progress = progress and sys.stderr.isatty()

    def run(self, targets: list[Path] | None = None, prune: bool = True) -> IngestReport:
        started = time.perf_counter()
        if not self.corpus_root.is_dir():
            raise NewsragError(f"corpus folder not found: {self.corpus_root} (set NEWSRAG_CORPUS_DIR)")
        targets = [Path(t).absolute() for t in (targets or [self.corpus_root])]
        for target in targets:
            if not target.resolve().is_relative_to(self.corpus_root) and target.exists():
                raise NewsragError(
                    f"{target} is outside the corpus folder {self.corpus_root}; "
                    "ingest it with --corpus or set NEWSRAG_CORPUS_DIR"
                )
        with ingest_lock(self.paths.lock):
            manifest = self._open_manifest()
            report = IngestReport()
            files, discovery_skips = discover(targets, self.corpus_root)
            report.skipped += [Skipped(p, r) for p, r in discovery_skips]
            report.seen = len(files) + len(discovery_skips)
            changed, present = self._classify(files, manifest, report)
            self._embed_and_commit(changed, manifest, report)
            if prune:
                self._prune(targets, present, manifest, report)
            self.articles.prune({d.content_hash for d in manifest.docs.values()})
            self._refresh_bm25(manifest)
            report.chunks = len(manifest.chunk_ids)
            report.seconds = round(time.perf_counter() - started, 3)
            return report

    def _open_manifest(self) -> Manifest:
        manifest = Manifest.load(self.paths.manifest)
        config = (str(self.corpus_root), self.embedder.name, self.chunker.config)
        if (manifest.corpus_root, manifest.embedding, manifest.chunking) != config:
            if manifest.docs:  # different model or chunking: nothing old is reusable
                print(f"index settings changed; rebuilding {self.paths.data_dir}", file=sys.stderr)
            self.store.drop()
            manifest = Manifest(corpus_root=config[0], embedding=config[1], chunking=config[2])
            manifest.save(self.paths.manifest)
            return manifest
        # Reconcile with a crash: drop orphans; forget articles whose chunks went missing.
        stored = self.store.all_ids()
        orphans = stored - manifest.chunk_ids
        if orphans:
            self.store.delete(sorted(orphans))
        for source, doc in list(manifest.docs.items()):
            if not set(doc.chunk_ids) <= stored:
                doc.content_hash = "missing-chunks"
        return manifest

    def _classify(self, files: list[Path], manifest: Manifest, report: IngestReport) -> tuple[list[Article], set[str]]:
        changed: list[Article] = []
        present: set[str] = set()
        for path in files:
            try:
                article = read_article(path, self.corpus_root, self.max_file_bytes)
            except SkipFile as skip:
                rel = relative_name(path, self.corpus_root)
                report.skipped.append(Skipped(rel, str(skip)))
                if path.exists():  # unreadable now: keep what was indexed rather than lose it
                    present.add(rel)
                continue
            present.add(article.source)
            previous = manifest.docs.get(article.source)
            if previous and previous.content_hash == article.content_hash:
                report.unchanged += 1
            else:
                changed.append(article)
        return changed, present

    def _embed_and_commit(self, changed: list[Article], manifest: Manifest, report: IngestReport) -> None:
        bar = _progress(sum(len(a.text) for a in changed), self.progress)
        for i in range(0, len(changed), BATCH_DOCS):
            batch = changed[i : i + BATCH_DOCS]
            chunks: list[Chunk] = []
            per_article: dict[str, list[Chunk]] = {}
            for article in list(batch):
                try:
                    per_article[article.source] = self.chunker.chunk(article)
                except Exception as exc:  # noqa: BLE001 - one unsplittable file must not sink the batch
                    reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
                    report.skipped.append(
                        Skipped(article.source, f"could not be split into chunks ({type(exc).__name__}{': ' + reason if reason else ''})")
                    )
                    batch.remove(article)
                    continue
                chunks += per_article[article.source]
            vectors, sentence_vectors = self._embed(chunks)
            report.chunks_embedded += len(chunks)
            for article in batch:
                self.articles.put(article.content_hash, article.text)
            self.store.upsert(chunks, vectors, sentence_vectors, {a.source: a.url for a in batch})
            stale: list[str] = []
            for article in batch:
                previous = manifest.docs.get(article.source)
                new_ids = [c.id for c in per_article[article.source]]
                if previous:
                    stale += [cid for cid in previous.chunk_ids if cid not in set(new_ids)]
                    report.updated += 1
                else:
                    report.added += 1
                manifest.docs[article.source] = DocEntry(
                    article.source, article.content_hash, article.title, article.url, article.encoding, new_ids
                )
            manifest.save(self.paths.manifest)
            if stale:
                self.store.delete(stale)
            bar.update(sum(len(a.text) for a in batch))
        bar.close()

    def _embed(self, chunks: list[Chunk]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed each distinct sentence once; a chunk's vector is the normalised mean of its
        sentences' vectors (as cheap as embedding the chunk, and sentences come for free)."""
        texts: dict[str, int] = {}
        spans_per_chunk = []
        for chunk in chunks:
            spans = chunk.sentences or ((0, len(chunk.text)),)
            spans_per_chunk.append(spans)
            for s, e in spans:
                texts.setdefault(chunk.text[s:e], len(texts))
        unique = self.embedder.embed(list(texts)) if texts else np.zeros((0, 1), dtype=np.float32)
        chunk_vectors, sentence_vectors = [], []
        for chunk, spans in zip(chunks, spans_per_chunk):
            rows = unique[[texts[chunk.text[s:e]] for s, e in spans]]
            mean = rows.mean(axis=0)
            norm = float(np.linalg.norm(mean)) or 1.0
            chunk_vectors.append(mean / norm)
            sentence_vectors.append(rows)
        return np.asarray(chunk_vectors, dtype=np.float32), sentence_vectors

    def _prune(self, targets: list[Path], present: set[str], manifest: Manifest, report: IngestReport) -> None:
        scopes = [t.resolve().relative_to(self.corpus_root).as_posix() for t in targets if t.resolve().is_relative_to(self.corpus_root)]
        gone = [
            source
            for source in manifest.docs
            if source not in present and any(_within(source, scope) for scope in scopes)
        ]
        if not gone:
            return
        ids = [cid for source in gone for cid in manifest.docs[source].chunk_ids]
        for source in gone:
            del manifest.docs[source]
        manifest.save(self.paths.manifest)
        self.store.delete(ids)
        report.removed += len(gone)

    def _refresh_bm25(self, manifest: Manifest) -> None:
        generation = manifest.generation()
        if bm25_generation(self.paths.bm25) == generation and bm25_loads(self.paths.bm25, bool(manifest.chunk_ids)):
            return
        rows = self.store.get(sorted(manifest.chunk_ids), keep=PLAIN_KEYS)
        build_bm25(rows, self.paths.bm25, generation)
        manifest.bm25_generation = generation
        manifest.save(self.paths.manifest)


def _within(source: str, scope: str) -> bool:
    return scope in ("", ".") or source == scope or source.startswith(scope.rstrip("/") + "/")


class _NoBar:
    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="char", unit_scale=True, desc="ingesting", file=sys.stderr)
