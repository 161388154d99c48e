"""The one evidence type after retrieval: frozen, typed values instead of llama-index nodes.

Retrieval and its postprocessors work on llama-index `NodeWithScore` (that is what its retrievers
and postprocessors speak). At the retrieval boundary each kept chunk becomes a `RetrievedPassage`,
once; answering cuts passages into `EvidenceSentence`s. Answering, the UI, the API and the evals
read these attributes and never a metadata dict. A score change is a new value
(`dataclasses.replace`), so no stage can alter what another stage already looked at.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.index import keys as K

if TYPE_CHECKING:
    from llama_index.core.schema import NodeWithScore


def _published(value: Any) -> str | None:
    return str(value)[:10] if value else None


def _spans(raw: Any, length: int) -> tuple[tuple[int, int], ...]:
    found = json.loads(raw) if isinstance(raw, str) and raw else list(raw or [])
    return tuple((int(s), int(e)) for s, e in found) or ((0, length),)


@dataclass(frozen=True)
class RetrievedPassage:
    """A stored chunk as retrieval kept it: verbatim text, absolute offsets, rank and score."""

    chunk_id: str
    source: str
    title: str
    text: str
    start: int  # absolute offset of `text` in its article
    score: float
    rank: int  # 1 = best, after every postprocessor
    url: str | None = None
    published: str | None = None  # ISO date of the article, when it states one
    spans: tuple[tuple[int, int], ...] = ()  # sentence spans relative to `text`
    vectors: np.ndarray | None = field(default=None, compare=False, repr=False)  # one row per span

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @classmethod
    def from_node(
        cls, hit: "NodeWithScore", rank: int, vectors: np.ndarray | None = None, text: str | None = None
    ) -> "RetrievedPassage":
        """`text`: the stored verbatim text when the node holds another form of it (BM25's)."""
        meta = hit.node.metadata
        text = hit.node.get_content() if text is None else text
        return cls(
            chunk_id=hit.node.node_id, source=str(meta.get(K.SOURCE, "")), title=str(meta.get(K.TITLE, "")),
            text=text, start=int(meta.get(K.START, 0)), score=float(hit.score or 0.0), rank=rank,
            url=str(meta.get(K.URL) or "") or None, published=_published(meta.get(K.PUBLISHED)),
            spans=_spans(meta.get(K.SENTENCES), len(text)), vectors=vectors,
        )


@dataclass(frozen=True)
class EvidenceSentence:
    """One sentence of a retrieved passage, with what answering scored it by.

    `context` is the passage text around it (both passages' when it sits in an overlap), where a
    pronoun finds the name it stands for. `logit` is the cross-encoder's, None when it was not
    scored; `score` is what ranks it (the logit when scored, else the pre-score)."""

    source: str
    title: str
    text: str
    start: int  # absolute offsets in the article
    end: int
    chunk_id: str
    chunk_rank: int
    context: str
    vector: np.ndarray = field(compare=False, repr=False)
    url: str | None = None
    published: str | None = None
    prescore: float = 0.0
    logit: float | None = None
    score: float | None = 0.0

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.source, self.start, self.end)

    @property
    def published_on(self) -> dt.date | None:
        """The article's date, for resolving "on Monday" in the sentence (None: undated)."""
        try:
            return dt.date.fromisoformat(self.published or "")
        except ValueError:
            return None

    @classmethod
    def cut(cls, passage: RetrievedPassage, span: tuple[int, int], vector: np.ndarray) -> "EvidenceSentence":
        s, e = span
        return cls(
            source=passage.source, title=passage.title, text=passage.text[s:e], start=passage.start + s,
            end=passage.start + e, chunk_id=passage.chunk_id, chunk_rank=passage.rank, context=passage.text,
            vector=np.asarray(vector, dtype=np.float32), url=passage.url, published=passage.published,
        )
