"""The one place that knows how a retrieved llama-index node carries our data.

Chunks and sentences travel as `NodeWithScore` from retrieval to the Answer. A chunk node's
metadata holds `source`, `title`, `url`, `start` (absolute offset of the chunk in the article),
`sentences` (JSON spans relative to the chunk) and `sentence_vectors` (packed). A sentence node,
made by `rag.postprocess.SentenceEvidence`, holds `source`, `title`, `url`, `start`/`end`
(absolute), `chunk_id`, its vector and its scores. Everyone else reads nodes through here.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from llama_index.core.schema import NodeWithScore, TextNode

from rag.types import Citation

SENTENCE = "sentence"
# In-memory fields of sentence nodes: never shown to a model, never stored.
_PRIVATE = ["kind", "context", "chunk_id", "vector", "logit", "prescore", "chunk_rank", "sentences", "sentence_vectors"]


def meta(node: NodeWithScore) -> dict[str, Any]:
    return node.node.metadata


def text(node: NodeWithScore) -> str:
    return node.node.get_content()


def source(node: NodeWithScore) -> str:
    return str(meta(node).get("source", ""))


def title(node: NodeWithScore) -> str:
    return str(meta(node).get("title", ""))


def url(node: NodeWithScore) -> str | None:
    return str(meta(node).get("url") or "") or None


def published(node: NodeWithScore) -> str | None:
    value = meta(node).get("published") or meta(node).get("date")
    return str(value)[:10] if value else None


def start(node: NodeWithScore) -> int:
    """Absolute offset of the node's text in its article."""
    return int(meta(node).get("start", 0))


def end(node: NodeWithScore) -> int:
    return int(meta(node).get("end", start(node) + len(text(node))))


def chunk_id(node: NodeWithScore) -> str:
    """The stored chunk a node is (or was cut from): what a citation points at."""
    return str(meta(node).get("chunk_id") or node.node.node_id)


def is_sentence(node: NodeWithScore) -> bool:
    return meta(node).get("kind") == SENTENCE


def score(node: NodeWithScore) -> float:
    return float(node.score or 0.0)


def spans(node: NodeWithScore) -> list[tuple[int, int]]:
    """Sentence spans relative to the node's text; the whole text when none are stored."""
    raw = meta(node).get("sentences")
    found = [tuple(s) for s in json.loads(raw)] if isinstance(raw, str) and raw else list(raw or [])
    return [(int(s), int(e)) for s, e in found] or [(0, len(text(node)))]


def sentence_vectors(node: NodeWithScore) -> np.ndarray | None:
    """The chunk's stored sentence vectors (one row per span), or None when it has none."""
    packed = meta(node).get("sentence_vectors")
    if packed is None or isinstance(packed, np.ndarray):
        return packed
    if not packed:
        return None
    from rag.index import unpack_vectors

    count = len(spans(node))
    vectors = unpack_vectors(packed, count)
    meta(node)["sentence_vectors"] = vectors  # unpack once per query
    return vectors


def vector(node: NodeWithScore) -> np.ndarray:
    return meta(node)["vector"]


def logit(node: NodeWithScore) -> float | None:
    value = meta(node).get("logit")
    return None if value is None else float(value)


def make_sentence(chunk: NodeWithScore, span: tuple[int, int], vec: np.ndarray, chunk_rank: int) -> NodeWithScore:
    """A sentence of `chunk` as its own node, offsets made absolute; `context` is the chunk's
    text, where a pronoun in the sentence finds the name it stands for."""
    s, e = span
    absolute = start(chunk)
    node = TextNode(
        id_=f"{chunk_id(chunk)}:{s}",
        text=text(chunk)[s:e],
        metadata={
            "kind": SENTENCE, "source": source(chunk), "title": title(chunk), "url": url(chunk) or "",
            "published": published(chunk) or "", "start": absolute + s, "end": absolute + e,
            "chunk_id": chunk_id(chunk), "chunk_rank": chunk_rank, "vector": np.asarray(vec, dtype=np.float32),
            "context": text(chunk),
        },
        excluded_llm_metadata_keys=_PRIVATE,
        excluded_embed_metadata_keys=_PRIVATE,
    )
    return NodeWithScore(node=node, score=0.0)


def key(node: NodeWithScore) -> tuple[str, int, int]:
    return (source(node), start(node), end(node))


def citation(marker: int, node: NodeWithScore, quote_span: tuple[int, int] | None = None, value: float | None = None) -> Citation:
    """A verbatim citation of a sentence node, or of the `quote_span` sentence of a chunk node."""
    s, e = quote_span if quote_span is not None else (0, len(text(node)))
    return Citation(
        marker=marker,
        source=source(node),
        title=title(node),
        chunk_id=chunk_id(node),
        quote=text(node)[s:e],
        start=start(node) + s,
        end=start(node) + e,
        score=round(score(node) if value is None else value, 4),
        url=url(node),
        published=published(node),
    )
