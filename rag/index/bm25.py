"""The BM25 keyword index as immutable segments, as Lucene keeps its postings.

Each ingest writes one segment holding only the chunks it added (term counts per chunk and chunk
lengths, tokenised as bm25s does), as a new file, then the manifest names the segment list. The
BM25 statistics (live chunk count, average length, document frequency of each query term) are
summed over the live rows of every segment at query time, so a score equals the one a single
index over all committed chunks gives (bm25s's "lucene" variant, k1 1.5, b 0.75). An ingest costs
what it adds, not the collection (issue #24: the whole index was rebuilt on every ingest).

A row is live when the manifest commits its chunk under a document whose `keyword` names that
segment: an updated or removed document's old rows are dead without rewriting anything, and a
reader holding an older manifest keeps its own consistent view. Segments are merged, dropping dead
rows, when the newest is as large as the one before it (a binary counter over batch sizes, so a
query reads O(log n) segments and each row is rewritten O(log n) times). Files no manifest names
are deleted by the next write.
"""

from __future__ import annotations

import math
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from rag.types import NewsragError

PLAIN_KEYS = ("source", "title", "start", "end", "position", "url", "published", "published_num", "sentences")
FORMAT = "kw4"  # segment names start with it: a new keyword format re-indexes every document
SUFFIX = ".npz"
# bm25s's defaults ("lucene"), which the keyword index has always used: the format, not a tunable.
K1, B = 1.5, 0.75


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> tuple[list[list[int]], dict[str, int]]:
    """bm25s's tokenisation (lower case, 2+ word characters, English stop words out, Snowball stems)."""
    import bm25s

    tokens = bm25s.tokenize(list(texts), stopwords="english", stemmer=_stemmer(), show_progress=False)
    return tokens.ids, tokens.vocab


def indexed_text(text: str, title: str) -> str:
    """What a chunk is keyword-indexed as: its title with its text (a headline is not chunk text),
    in llama-index's embed form, as the index has always been built."""
    from llama_index.core.schema import MetadataMode, TextNode

    from rag.embeddings import search_text

    return TextNode(text=search_text(text), metadata={"title": title}).get_content(MetadataMode.EMBED)


@dataclass
class Segment:
    """Term counts of some chunks: a CSC matrix (a column per term) and each chunk's length."""

    name: str
    ids: list[str]
    terms: dict[str, int]
    indptr: np.ndarray  # int64, len(terms) + 1
    rows: np.ndarray  # int32 row of each posting
    counts: np.ndarray  # float32 term count of each posting
    lengths: np.ndarray  # float32 tokens per chunk

    @property
    def size(self) -> int:
        return len(self.ids)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        col = self.terms.get(term)
        if col is None:
            return _EMPTY_I, _EMPTY_F
        lo, hi = self.indptr[col], self.indptr[col + 1]
        return self.rows[lo:hi], self.counts[lo:hi]


_EMPTY_I, _EMPTY_F = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)


def new_name() -> str:
    return f"{FORMAT}-{secrets.token_hex(6)}"


def _from_triples(name: str, ids: list[str], vocab: list[str], rows: np.ndarray, cols: np.ndarray,
                  counts: np.ndarray, lengths: np.ndarray) -> Segment:
    order = np.lexsort((rows, cols))
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=len(vocab)), out=indptr[1:])
    return Segment(name, ids, {t: i for i, t in enumerate(vocab)}, indptr, rows[order].astype(np.int32),
                   counts[order].astype(np.float32), lengths.astype(np.float32))


def build_segment(ids: list[str], texts: Sequence[str], name: str | None = None) -> Segment:
    """A segment of these chunks (`texts` already in indexed form)."""
    token_ids, vocab = tokenize(texts)
    words = [""] * len(vocab)
    for word, i in vocab.items():
        words[i] = word
    rows, cols, counts = [], [], []
    for row, doc in enumerate(token_ids):
        uniq, tf = np.unique(np.asarray(doc, dtype=np.int64), return_counts=True)
        rows.append(np.full(len(uniq), row, dtype=np.int32))
        cols.append(uniq)
        counts.append(tf)
    cat = lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)  # noqa: E731
    lengths = np.array([len(doc) for doc in token_ids], dtype=np.float32)
    return _from_triples(name or new_name(), list(ids), words, cat(rows, np.int32), cat(cols, np.int64),
                         cat(counts, np.float32), lengths)


def merge_segments(parts: Sequence[tuple[Segment, np.ndarray]], name: str | None = None) -> Segment:
    """One segment of the live rows (`parts`: each segment with its live mask): no re-tokenising."""
    vocab: dict[str, int] = {}
    ids: list[str] = []
    rows, cols, counts, lengths = [], [], [], []
    for segment, live in parts:
        new_row = np.cumsum(live) - 1 + len(ids)
        words = sorted(segment.terms, key=segment.terms.__getitem__)
        remap = np.array([vocab.setdefault(w, len(vocab)) for w in words], dtype=np.int64)
        col_of_posting = np.repeat(np.arange(len(words)), np.diff(segment.indptr))
        keep = live[segment.rows]
        rows.append(new_row[segment.rows[keep]])
        cols.append(remap[col_of_posting[keep]])
        counts.append(segment.counts[keep])
        lengths.append(segment.lengths[live])
        ids += [cid for cid, alive in zip(segment.ids, live) if alive]
    words = sorted(vocab, key=vocab.__getitem__)
    return _from_triples(name or new_name(), ids, words, np.concatenate(rows).astype(np.int32),
                         np.concatenate(cols), np.concatenate(counts), np.concatenate(lengths))


def save_segment(segment: Segment, root: Path) -> None:
    """Written under a temp name, then renamed: a reader never opens half a segment."""
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".staging-", suffix=SUFFIX)
    try:
        with open(fd, "wb") as handle:
            np.savez(handle, ids=np.array(segment.ids, dtype=str), terms=np.array(list(segment.terms), dtype=str),
                     term_cols=np.fromiter(segment.terms.values(), dtype=np.int64, count=len(segment.terms)),
                     indptr=segment.indptr, rows=segment.rows, counts=segment.counts, lengths=segment.lengths)
        Path(tmp).rename(root / f"{segment.name}{SUFFIX}")
    finally:
        Path(tmp).unlink(missing_ok=True)


def load_segment(root: Path, name: str) -> Segment:
    """The segment file, or NewsragError (one line) when it is missing or damaged."""
    path = root / f"{name}{SUFFIX}"
    if not path.exists():
        raise NewsragError("the BM25 keyword index is missing; run `newsrag ingest` to rebuild it")
    try:
        with np.load(path, allow_pickle=False) as z:
            terms = dict(zip(z["terms"].tolist(), z["term_cols"].tolist()))
            return Segment(name, z["ids"].tolist(), terms, z["indptr"], z["rows"], z["counts"], z["lengths"])
    except Exception as exc:  # noqa: BLE001 - any failure to read means the file is damaged
        raise NewsragError(
            f"the BM25 keyword index is damaged ({type(exc).__name__}); run `newsrag ingest` to rebuild it"
        ) from None


def segment_whole(root: Path, name: str) -> bool:
    """Whether the segment file is there and its archive directory reads (cheap: no arrays loaded).
    A damaged file is re-indexed by the next ingest instead of failing every query."""
    try:
        with np.load(root / f"{name}{SUFFIX}", allow_pickle=False) as z:
            return {"ids", "terms", "indptr", "rows", "counts", "lengths"} <= set(z.files)
    except Exception:  # noqa: BLE001 - unreadable is damaged
        return False


def prune_segments(root: Path, keep: Iterable[str]) -> None:
    """Delete what no manifest names (and the folders of the one-index format before segments)."""
    names = {f"{name}{SUFFIX}" for name in keep}
    if root.exists():
        for item in root.iterdir():
            if item.name not in names:
                shutil.rmtree(item, ignore_errors=True) if item.is_dir() else item.unlink(missing_ok=True)


class KeywordIndex:
    """The committed keyword index: segments with their live rows, searched as one BM25 index."""

    def __init__(self, segments: Sequence[Segment], owner: dict[str, str]) -> None:
        """`owner`: committed chunk id -> the segment its document's rows live in."""
        self.segments = list(segments)
        self.live = [np.fromiter((owner.get(cid) == s.name for cid in s.ids), dtype=bool, count=s.size)
                     for s in self.segments]
        self.count = int(sum(int(m.sum()) for m in self.live))
        total = sum(float(s.lengths[m].sum()) for s, m in zip(self.segments, self.live))
        self.avg_length = total / self.count if self.count else 1.0

    def __len__(self) -> int:
        return self.count

    def search(self, query: str, top_k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """The best `top_k` live chunks for `query` with a positive score, best first; `allowed`
        restricts them (a filter) without changing the statistics, as a bm25s weight mask did."""
        if not self.count:
            return []
        token_ids, vocab = tokenize([query])
        words = {i: w for w, i in vocab.items()}
        terms = [words[i] for i in token_ids[0] if words[i]]  # a repeated query word counts twice, as in bm25s
        scores = [np.zeros(s.size, dtype=np.float32) for s in self.segments]
        for term in terms:
            found = [s.postings(term) for s in self.segments]
            df = sum(int(live[rows].sum()) for (rows, _), live in zip(found, self.live))
            if not df:
                continue
            idf = math.log(1 + (self.count - df + 0.5) / (df + 0.5))
            for (rows, tf), segment, acc in zip(found, self.segments, scores):
                norm = K1 * ((1 - B) + B * segment.lengths[rows] / self.avg_length)
                acc[rows] += idf * tf / (norm + tf)
        return self._best(scores, top_k, allowed)

    def _best(self, scores: list[np.ndarray], top_k: int, allowed: set[str] | None) -> list[tuple[str, float]]:
        hits: list[tuple[float, str]] = []
        for segment, live, acc in zip(self.segments, self.live, scores):
            acc[~live] = 0.0
            candidates = np.flatnonzero(acc > 0)
            if allowed is not None:
                candidates = candidates[[segment.ids[i] in allowed for i in candidates]] if len(candidates) else candidates
            if len(candidates) > top_k:
                candidates = candidates[np.argpartition(-acc[candidates], top_k - 1)[:top_k]]
            hits += [(float(acc[i]), segment.ids[i]) for i in candidates]
        hits.sort(key=lambda h: (-h[0], h[1]))
        return [(cid, score) for score, cid in hits[:top_k]]
