"""Node postprocessors between retrieval and answering (llama-index `BaseNodePostprocessor`s).

committed only -> one copy per wire group -> (a briefing: one chunk per article) -> cross-encoder rerank of chunks (sentence evidence is
`rag.answering.sentences`, after the chunks become typed passages). Each takes and returns
`NodeWithScore`s, so they compose like any llama-index pipeline and are tested one by one.
"""

from __future__ import annotations

from typing import Any, Optional

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle
from pydantic import Field, PrivateAttr

from rag.answering import nodes as N


class CommittedOnly(BaseNodePostprocessor):
    """Drops hits the manifest does not commit (orphans of an interrupted ingest)."""

    committed: set[str] = Field(default_factory=set)

    @classmethod
    def of(cls, committed: Any) -> "CommittedOnly":
        """Over a container the caller keeps (e.g. chunk id -> source), used as is: validating a
        copy of every committed id on each query cost time that grew with the index."""
        return cls.model_construct(committed=committed)

    @classmethod
    def class_name(cls) -> str:
        return "CommittedOnly"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: Optional[QueryBundle] = None) -> list[NodeWithScore]:
        return [n for n in nodes if n.node.node_id in self.committed]


class OneCopyPerGroup(BaseNodePostprocessor):
    """A wire story reprinted by several outlets counts once: of each group of near-duplicate
    articles only one copy's chunks stay, the group's earliest copy when it was retrieved, else
    the best-ranked copy (its quote must be verbatim in the article it cites)."""

    groups: dict[str, str] = Field(default_factory=dict)  # source -> group id (the earliest copy)

    @classmethod
    def of(cls, groups: dict[str, str]) -> "OneCopyPerGroup":
        """Over the caller's dict, used as is (not validated into a copy on each query)."""
        return cls.model_construct(groups=groups)

    @classmethod
    def class_name(cls) -> str:
        return "OneCopyPerGroup"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: Optional[QueryBundle] = None) -> list[NodeWithScore]:
        if not self.groups:
            return nodes
        present = [N.source(n) for n in nodes]
        keeper: dict[str, str] = {}
        for source in present:  # best-ranked first
            group = self.groups.get(source)
            if group is not None and group not in keeper:
                keeper[group] = group if group in present else source
        return [n for n in nodes if N.source(n) not in self.groups or keeper[self.groups[N.source(n)]] == N.source(n)]


class OneChunkPerSource(BaseNodePostprocessor):
    """Each article's best-ranked chunk only: a briefing scores stories, not chunks, and a long
    article's five chunks would otherwise take five of the cross-encoder's places."""

    @classmethod
    def class_name(cls) -> str:
        return "OneChunkPerSource"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: Optional[QueryBundle] = None) -> list[NodeWithScore]:
        seen: set[str] = set()
        kept = []
        for n in nodes:
            if N.source(n) not in seen:
                seen.add(N.source(n))
                kept.append(n)
        return kept


class CrossEncoderRerank(BaseNodePostprocessor):
    """Reorders the best `top_n` fused chunks by the cross-encoder's (question, title + the chunk's
    first `passage_words` words) logit; the rest follow in fusion order; `keep` are returned.

    Only the head is cross-encoded because each pair costs a model pass; the passage is cut
    because a chunk's lead says what it is about, and each word read costs model time.
    """

    top_n: int = 6
    keep: int = 6
    passage_words: int = 0
    _reranker: Any = PrivateAttr()

    def __init__(self, reranker: Any, top_n: int, keep: int, passage_words: int = 0) -> None:
        super().__init__(top_n=top_n, keep=keep, passage_words=passage_words)
        self._reranker = reranker

    @classmethod
    def class_name(cls) -> str:
        return "CrossEncoderRerank"

    def _passage(self, node: NodeWithScore) -> str:
        text = N.text(node)
        if self.passage_words:
            text = " ".join(text.split()[: self.passage_words])
        return f"{N.title(node)}. {text}"

    def _postprocess_nodes(self, nodes: list[NodeWithScore], query_bundle: Optional[QueryBundle] = None) -> list[NodeWithScore]:
        head, tail = nodes[: self.top_n], nodes[self.top_n :]
        if not head or query_bundle is None:
            return nodes[: self.keep]
        logits = self._reranker.score(query_bundle.query_str, [self._passage(n) for n in head])
        order = sorted(range(len(head)), key=lambda i: (-float(logits[i]), i))
        return ([NodeWithScore(node=head[i].node, score=float(logits[i])) for i in order] + tail)[: self.keep]
