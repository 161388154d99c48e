"""Keeping the manifest's keyword segments current at a commit (the writer's side of `bm25`).

Documents whose rows live in no whole segment of the current format (new, updated, or their
segment damaged) get one new segment, read back from the vector store; then segments are merged
while the newest holds as many live rows as the one before it, and a segment that is mostly dead
rows (removed or updated documents) is rewritten alone. Only the manifest changes what readers
see: the caller saves it, then prunes the files it no longer names.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

from rag.index.bm25 import FORMAT, build_segment, indexed_text, load_segment, merge_segments, save_segment, segment_whole
from rag.index.manifest import Manifest

Rows = Callable[[Sequence[str]], list[dict]]  # chunk ids -> rows with "id", "text" and metadata "title"


def refresh_keyword(manifest: Manifest, root: Path, rows_of: Rows) -> None:
    """Index what no segment covers, then merge; updates `manifest` in place."""
    segments = [[name, size] for name, size in manifest.keyword_segments
                if name.startswith(f"{FORMAT}-") and segment_whole(root, name)]
    whole = {name for name, _ in segments}
    uncovered = [d for d in manifest.docs.values() if d.keyword not in whole and d.chunk_ids]
    if uncovered:
        ids = [cid for d in uncovered for cid in d.chunk_ids]
        rows = rows_of(ids)
        segment = build_segment([r["id"] for r in rows], [indexed_text(r["text"], r["metadata"].get("title") or "")
                                                          for r in rows])
        save_segment(segment, root)
        segments.append([segment.name, segment.size])
        for doc in uncovered:
            doc.keyword = segment.name
    for doc in manifest.docs.values():
        if not doc.chunk_ids or doc.keyword not in {name for name, _ in segments}:
            doc.keyword = ""
    manifest.keyword_segments = _compact(manifest, segments, root)


def _count(manifest: Manifest) -> Counter[str]:
    counts: Counter[str] = Counter()
    for doc in manifest.docs.values():
        counts[doc.keyword] += len(doc.chunk_ids)
    return counts


def _compact(manifest: Manifest, segments: list[list], root: Path) -> list[list]:
    """Tiered merging: the binary counter over segment sizes, plus rewriting mostly-dead segments."""
    live = _count(manifest)
    segments = [[name, size] for name, size in segments if live[name]]  # wholly dead: dropped, not rewritten
    while True:
        if len(segments) >= 2 and live[segments[-1][0]] >= live[segments[-2][0]]:
            at = len(segments) - 2
            chosen = segments[-2:]
        else:
            mostly_dead = [i for i, (name, size) in enumerate(segments) if live[name] * 2 < size]
            if not mostly_dead:
                return segments
            at = mostly_dead[0]
            chosen = [segments[at]]
        merged = _merge(manifest, [name for name, _ in chosen], root)
        live[merged] = sum(live[name] for name, _ in chosen)
        segments[at : at + len(chosen)] = [[merged, live[merged]]]


def _merge(manifest: Manifest, names: list[str], root: Path) -> str:
    """One segment of these segments' live rows; their documents now live in it. Returns its name."""
    import numpy as np

    owner = {cid: d.keyword for d in manifest.docs.values() if d.keyword in names for cid in d.chunk_ids}
    parts = []
    for name in names:
        segment = load_segment(root, name)
        parts.append((segment, np.fromiter((owner.get(cid) == name for cid in segment.ids), dtype=bool,
                                           count=segment.size)))
    merged = merge_segments(parts)
    save_segment(merged, root)
    for doc in manifest.docs.values():
        if doc.keyword in names:
            doc.keyword = merged.name
    return merged.name
