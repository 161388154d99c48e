"""Near-duplicate articles (wire copies): MinHash over word shingles, grouped with MinHash LSH.

Outlets reprint an agency story under their own headline, byline and footer, and trim or reword a
sentence; the body text stays mostly the same. Each article's body gets a MinHash signature at
ingest (stored in the manifest as a compact string), and articles whose estimated Jaccard
similarity of word k-shingles reaches the threshold form one group, named after its earliest
published member (ties and undated: the smallest source name). Different stories on one topic
share phrases but few 5-word runs, so they stay apart.

The permutation scheme is pinned ("affine32", datasketch >= 2.0) and written into every encoded
signature: a signature made under another scheme or size is refused, never silently compared.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

    from rag.index.manifest import Manifest

SCHEME = "affine32"
_WORD = re.compile(r"\w+", re.UNICODE)
_PREFIX = f"mh1-{SCHEME}-"

Signature = list[int]


def shingles(text: str, k: int) -> set[str]:
    """Lower-cased word k-grams; a text shorter than k words is one shingle (or none when empty)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def signature(text: str, *, num_perm: int, k: int, min_words: int = 0) -> Signature:
    """The MinHash of `text`'s word shingles; [] for a text too short to compare (never grouped)."""
    if len(_WORD.findall(text)) < max(min_words, 1):
        return []
    from datasketch import MinHash  # here, not at import: it pulls in scipy (~0.5 s a cold query never needs)

    minhash = MinHash(num_perm=num_perm, scheme=SCHEME)
    minhash.update_batch([s.encode("utf-8") for s in sorted(shingles(text, k))])
    return [int(v) for v in minhash.hashvalues]


def encode_signature(sig: Sequence[int]) -> str:
    """A compact ASCII form for the manifest (~690 characters for 128 permutations)."""
    packed = np.asarray(sig, dtype="<u4").tobytes()
    return f"{_PREFIX}{len(sig)}:{base64.b64encode(packed).decode('ascii')}"


def decode_signature(text: str) -> Signature:
    """The signature `encode_signature` wrote; ValueError for another scheme or a damaged string."""
    return [int(v) for v in _decode_values(text)]


def _decode_values(text: str) -> np.ndarray:
    if not text.startswith(_PREFIX):
        raise ValueError(f"not a {SCHEME} MinHash signature: {text[:24]!r}")
    count, _, payload = text[len(_PREFIX) :].partition(":")
    try:
        values = np.frombuffer(base64.b64decode(payload, validate=True), dtype="<u4")
    except ValueError as exc:
        raise ValueError(f"damaged MinHash signature: {exc}") from exc
    if not count.isdigit() or int(count) != len(values):
        raise ValueError(f"damaged MinHash signature: {count} values expected, {len(values)} found")
    return values


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal minimums); 0 for an empty one."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return float(np.mean(np.asarray(a, dtype=np.uint32) == np.asarray(b, dtype=np.uint32)))


class DuplicateFinder:
    """Known signatures and their groups; answers which group a new article duplicates.

    LSH proposes candidates (tuned towards recall); each candidate is confirmed by its estimated
    Jaccard similarity, so the threshold means what it says.
    """

    def __init__(self, *, threshold: float, num_perm: int,
                 members: Iterable[tuple[str, Sequence[int], str]] = ()) -> None:
        if not 0 < threshold <= 1:
            raise ValueError(f"dedup threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.num_perm = num_perm
        from datasketch import MinHashLSH

        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=(0.1, 0.9))
        self._signatures: dict[str, Signature] = {}
        self._groups: dict[str, str] = {}
        for source, sig, group in members:
            self.add(source, sig, group)

    def __contains__(self, source: str) -> bool:
        return source in self._groups

    def group_of(self, source: str) -> str | None:
        return self._groups.get(source)

    def groups(self) -> dict[str, str]:
        """source → group id of every known article."""
        return dict(self._groups)

    def add(self, source: str, sig: Sequence[int], group: str | None = None) -> None:
        """Remember `source` as a member of `group` (default: its own group)."""
        self.remove(source)
        self._groups[source] = group or source
        if sig:
            self._check(sig)
            self._signatures[source] = list(sig)
            self._lsh.insert(source, self._minhash(sig))

    def remove(self, source: str) -> None:
        if source in self._signatures:
            self._lsh.remove(source)
            del self._signatures[source]
        self._groups.pop(source, None)

    def group_for(self, source: str, sig: Sequence[int]) -> str | None:
        """The group of the most similar known article (other than `source`) at or above the
        threshold, or None when `sig` duplicates nothing known."""
        if not sig:
            return None
        self._check(sig)
        best: tuple[float, str] | None = None
        for other in self._lsh.query(self._minhash(sig)):
            if other == source:
                continue
            score = similarity(sig, self._signatures[other])
            if score >= self.threshold and (best is None or (score, other) > best):
                best = (score, other)
        return self._groups[best[1]] if best else None

    def _check(self, sig: Sequence[int]) -> None:
        if len(sig) != self.num_perm:
            raise ValueError(f"signature has {len(sig)} values, this index uses {self.num_perm}")

    def _minhash(self, sig: Sequence[int]) -> "MinHash":
        from datasketch import MinHash

        return MinHash(num_perm=self.num_perm, scheme=SCHEME, hashvalues=np.asarray(sig, dtype=np.uint32))


def _earliest_first(doc: tuple[str, dt.date | None, Sequence[int]]) -> tuple[bool, dt.date, str]:
    source, published, _ = doc
    return (published is None, published or dt.date.min, source)


def assign_groups(docs: Iterable[tuple[str, dt.date | None, Sequence[int]]], *,
                  threshold: float, num_perm: int) -> dict[str, str]:
    """source → group id for every document; the group id is the earliest member's source.

    Documents are visited earliest first (undated last, then by name), so each group is named by
    the first member visited. Cheap enough to recompute over the whole manifest at every ingest,
    which keeps groups right when an earlier copy arrives after a later one.
    """
    finder = DuplicateFinder(threshold=threshold, num_perm=num_perm)
    for source, _, sig in sorted(docs, key=_earliest_first):
        finder.add(source, sig, finder.group_for(source, sig))
    return finder.groups()


def group_members(groups: dict[str, str]) -> dict[str, list[str]]:
    """group id → its members, the group id (earliest) first, the rest by name."""
    members: dict[str, list[str]] = {}
    for source, group in sorted(groups.items(), key=lambda item: (item[0] != item[1], item[0])):
        members.setdefault(group, []).append(source)
    return members


@dataclass(frozen=True)
class DedupOptions:
    """Near-duplicate (wire copy) grouping; see the dedup_* Settings."""

    threshold: float = 0.7
    shingle_words: int = 5
    num_perm: int = 128
    min_words: int = 25


def regroup(manifest: "Manifest", options: DedupOptions) -> None:
    """Group wire copies over the whole index (an earlier copy arriving later takes over the
    group's name); a group is named by its earliest member."""
    docs = []
    for doc in manifest.docs.values():
        try:
            sig = decode_signature(doc.signature) if doc.signature else []
        except ValueError:
            sig = []
        published = dt.date.fromisoformat(doc.published) if doc.published else None
        docs.append((doc.source, published, sig))
    groups = assign_groups(docs, threshold=options.threshold, num_perm=options.num_perm)
    sizes = Counter(groups.values())
    for doc in manifest.docs.values():
        group = groups.get(doc.source, doc.source)
        doc.group = group if sizes[group] > 1 else None


def _matrix(signatures: Sequence[str], num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, which) for the decodable signatures of the right size: one uint32 row each."""
    rows, which = [], []
    for i, text in enumerate(signatures):
        try:
            sig = _decode_values(text) if text else ()
        except ValueError:
            sig = ()
        if len(sig) == num_perm:
            rows.append(sig)
            which.append(i)
    return np.asarray(rows, dtype=np.uint32).reshape(len(rows), num_perm), np.asarray(which, dtype=np.int64)


def _band_keys(matrix: np.ndarray, bands: int, rows: int) -> list[np.ndarray]:
    """One uint64 key per signature per LSH band (a wrapping polynomial hash of the band's values;
    a collision only costs one exact comparison)."""
    weights = np.uint64(1_000_003) ** np.arange(rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return [(matrix[:, b * rows : (b + 1) * rows].astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
                for b in range(bands)]


def duplicates_any(fresh: Sequence[str], others: Sequence[str], options: DedupOptions) -> bool:
    """Whether any `fresh` signature is a near-duplicate (at the threshold) of another fresh one or
    of any of `others`: banded as MinHashLSH bands (same band sizes), in numpy, so checking a batch
    against the whole index costs milliseconds where building the LSH over it cost seconds."""
    from datasketch.lsh import _optimal_param

    new, _ = _matrix(fresh, options.num_perm)
    if not len(new):
        return False
    old, _ = _matrix(others, options.num_perm)
    everything = np.concatenate([new, old])
    bands, rows = _optimal_param(options.threshold, options.num_perm, 0.1, 0.9)
    for keys in _band_keys(everything, bands, rows):
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        for i in np.flatnonzero(counts[inverse[: len(new)]] > 1):
            for j in np.flatnonzero(keys == keys[i]):
                if j != i and float(np.mean(everything[j] == new[i])) >= options.threshold:
                    return True
    return False


def regroup_after(manifest: "Manifest", options: DedupOptions, fresh: set[str], dropped_grouped: bool) -> None:
    """Regroup only when this commit can have changed a group: a fresh (added or updated) article
    near-duplicates something, or an article that was in a group went. Otherwise the groups stand
    (a fresh article that duplicates nothing is nobody's closest copy, so no other group moves)."""
    fresh = {s for s in fresh if s in manifest.docs}
    if dropped_grouped or any(manifest.docs[s].group for s in fresh):
        regroup(manifest, options)
        return
    if not fresh:
        return
    others = [d.signature for s, d in manifest.docs.items() if s not in fresh]
    if duplicates_any([manifest.docs[s].signature for s in sorted(fresh)], others, options):
        regroup(manifest, options)
