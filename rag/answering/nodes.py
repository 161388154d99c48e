"""How a retrieved llama-index chunk node carries our data, for the code that still holds nodes.

Retrieval and its postprocessors work on `NodeWithScore`; a chunk node's metadata holds `source`,
`title`, `url`, `start` (absolute offset of the chunk in the article), `sentences` (JSON spans
relative to the chunk) and `sentence_vectors` (packed). Answering reads `rag.evidence` values
(`RetrievedPassage`, `EvidenceSentence`), not nodes; these accessors serve the retrieval side
until it hands out `RetrievedPassage`s itself.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from llama_index.core.schema import NodeWithScore



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
