"""Deterministic fakes (no MagicMock): they behave like the real thing, only faster."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from rag.embeddings import HashingEmbedder


class CountingEmbedder(HashingEmbedder):
    """Hashing embedder that records every batch it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(len(texts))
        return super().embed(texts)


def write_articles(folder: Path, count: int, prefix: str = "art") -> list[Path]:
    """Small synthetic news articles with distinct facts, for bulk and crash tests."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}_{i:03d}.txt"
        path.write_text(
            f"Town {i} opens bridge number {i}\n\n"
            f"The town of Exampleville-{i} opened bridge number {i} on Monday. "
            f"The mayor said {i * 7} workers built it over {i + 2} months. "
            f"Officials in the U.K. praised the project, which cost EUR{i}.5 million.\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


class FakeCrossEncoder:
    """The reranker's interface (`score`, `warm_up`) with a deterministic lexical score: the share
    of the query's content stems the passage holds, scaled to the logit range (-3 .. 7)."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def warm_up(self) -> None:
        pass

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        from rag.answering.text import stems

        self.calls.append(len(passages))
        asked = stems(query)
        return np.array(
            [10.0 * len(asked & stems(p)) / max(len(asked), 1) - 3.0 for p in passages], dtype=np.float32
        )
