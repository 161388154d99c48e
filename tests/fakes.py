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


def sentence_evidence(reranker=None, embedder=None, **numbers):
    """`rag.answering.sentences.SentenceEvidence` with Settings' numbers (any overridden by
    keyword) and a hashing embedder unless one is given."""
    from rag.answering.sentences import SentenceEvidence
    from rag.settings import Settings

    s = Settings()
    chosen = {"candidates": s.sentence_candidates, "dense_weight": s.evidence_dense_weight,
              "lexical_weight": s.evidence_lexical_weight, "rank_weight": s.evidence_rank_weight, **numbers}
    return SentenceEvidence(embedder or HashingEmbedder(), reranker, **chosen)


def passages(chunks):
    """Hand-made chunk nodes as the typed passages answering reads (rank = position, 1 first)."""
    from rag.answering import nodes as N
    from rag.evidence import RetrievedPassage

    return [RetrievedPassage.from_node(h, i + 1, N.sentence_vectors(h)) for i, h in enumerate(chunks)]


class FakeFollowing:
    """The facade's followed-topics contract (follow, unfollow, following, digest) in memory:
    `land(topic, item)` is a story ingested after the follow; a digest lists and then forgets it."""

    def __init__(self) -> None:
        self.followed: dict[str, list[dict]] = {}

    def follow(self, topic: str) -> dict:
        from rag.errors import InvalidRequest

        if not topic.strip():
            raise InvalidRequest("a topic to follow is needed")
        self.followed.setdefault(topic, [])
        return {"topic": topic, "followed_at": "2025-04-20T10:00:00+00:00", "new": 0}

    def unfollow(self, topic: str) -> dict:
        self.followed.pop(topic)
        return {"topic": topic}

    def land(self, topic: str, item: dict) -> None:
        self.followed[topic].append(item)

    def following(self) -> list[dict]:
        return [{"topic": t, "followed_at": "2025-04-20T10:00:00+00:00", "last_digest": None, "new": len(items)}
                for t, items in self.followed.items()]

    def digest(self, topic: str | None = None) -> dict:
        out = [{"topic": t, "items": list(items)} for t, items in self.followed.items() if topic in (None, t)]
        for t in self.followed:
            if topic in (None, t):
                self.followed[t] = []
        return {"topics": out}
