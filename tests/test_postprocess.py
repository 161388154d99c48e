"""The node postprocessors, one by one, on hand-made chunk nodes and a fake cross-encoder."""

from __future__ import annotations

import json

from fakes import FakeCrossEncoder, passages, sentence_evidence
from llama_index.core.schema import NodeWithScore, TextNode

from rag.answering import nodes as N
from rag.evidence import EvidenceSentence
from rag.postprocess import CommittedOnly, CrossEncoderRerank, OneCopyPerGroup


def chunk(cid: str, text: str, start: int = 100, source: str = "a.txt", published: str = "") -> NodeWithScore:
    spans, at = [], 0
    for piece in text.split(". "):
        s = text.index(piece, at)
        e = min(len(text), s + len(piece) + 1)
        spans.append([s, e])
        at = e
    meta = {"source": source, "title": "Harbour news", "start": start, "end": start + len(text),
            "sentences": json.dumps(spans), "published": published}
    return NodeWithScore(node=TextNode(id_=cid, text=text, metadata=meta), score=1.0)


BRIDGE = chunk("c1", "The council met on Monday. Crews built 14 bridges over the Kell river. The mayor thanked them.")
FERRY = chunk("c2", "The ferry was suspended after a storm. Repairs will take two weeks.", source="b.txt", published="2025-01-08")


def test_committed_only_drops_orphans():
    kept = CommittedOnly(committed={"c2"}).postprocess_nodes([BRIDGE, FERRY])
    assert [n.node.node_id for n in kept] == ["c2"]


def test_one_copy_per_wire_group_prefers_the_earliest():
    groups = {"a.txt": "b.txt", "b.txt": "b.txt"}  # a wire story: b.txt is the earliest copy
    assert [N.source(n) for n in OneCopyPerGroup(groups=groups).postprocess_nodes([BRIDGE, FERRY])] == ["b.txt"]
    assert [N.source(n) for n in OneCopyPerGroup(groups={"a.txt": "z.txt"}).postprocess_nodes([BRIDGE, FERRY])] == ["a.txt", "b.txt"]
    assert [N.source(n) for n in OneCopyPerGroup().postprocess_nodes([BRIDGE, FERRY])] == ["a.txt", "b.txt"]


def test_rerank_orders_by_the_cross_encoder_and_keeps_the_best():
    reranker = FakeCrossEncoder()
    out = CrossEncoderRerank(reranker, top_n=2, keep=1).postprocess_nodes([BRIDGE, FERRY], query_str="How long will ferry repairs take?")
    assert [n.node.node_id for n in out] == ["c2"] and reranker.calls == [2]


def test_rerank_scores_only_the_head_and_keeps_the_tail_in_fusion_order():
    reranker = FakeCrossEncoder()
    out = CrossEncoderRerank(reranker, top_n=1, keep=2).postprocess_nodes([BRIDGE, FERRY], query_str="ferry repairs")
    assert [n.node.node_id for n in out] == ["c1", "c2"] and reranker.calls == [1]


def test_rerank_reads_only_the_first_passage_words_of_a_chunk():
    seen: list[str] = []

    class Recording(FakeCrossEncoder):
        def score(self, query, passages):
            seen.extend(passages)
            return super().score(query, passages)

    CrossEncoderRerank(Recording(), top_n=2, keep=2, passage_words=3).postprocess_nodes([BRIDGE, FERRY], query_str="ferry")
    assert [p.split(". ", 1)[1] for p in seen] == [" ".join(N.text(n).split()[:3]) for n in (BRIDGE, FERRY)]


def test_sentence_evidence_has_absolute_offsets_and_cross_encodes_only_the_short_list():
    reranker = FakeCrossEncoder()
    evidence = sentence_evidence(reranker, candidates=2)
    out = evidence.run("How many bridges did crews build?", passages([BRIDGE, FERRY]))
    assert len(out) == 5 and reranker.calls == [2]
    best = out[0]
    assert isinstance(best, EvidenceSentence) and best.text.startswith("Crews built 14 bridges")
    assert N.text(BRIDGE)[best.start - 100: best.end - 100] == best.text
    assert best.chunk_id == "c1" and best.logit is not None
    assert all(n.score is None for n in out[2:])  # not cross-encoded: never an answer


def test_without_a_reranker_the_prescore_orders():
    out = sentence_evidence(None).run("ferry storm suspended", passages([BRIDGE, FERRY]))
    assert out[0].text.startswith("The ferry was suspended") and out[0].logit is None
    assert [n.score for n in out] == sorted((n.score for n in out), reverse=True)


def test_chunks_are_cross_encoded_for_retrieval_but_not_again_for_an_answer_that_keeps_them_all(settings):
    # With rerank_top_n <= top_k the chunk reranker only reorders the kept chunks, whose sentences
    # the answerer cross-encodes anyway: paying for it in ask() took answers past their latency budget.
    from rag.assistant import Assistant

    reranker = FakeCrossEncoder()
    # The reader off: it cross-encodes its own candidates (one more call), which this test is not about.
    a = Assistant(settings.model_copy(update={"rerank_top_n": 4, "top_k": 6, "sentence_candidates": 3, "reader": False}),
                  reranker=reranker)
    a.ingest(progress=False)
    a.retrieve("How many nations pledged troops?")
    assert reranker.calls == [4]
    reranker.calls.clear()
    a.ask("How many nations pledged troops?")
    assert reranker.calls == [3]  # the sentences only
    wider = Assistant(a.settings.model_copy(update={"rerank_top_n": 10}), reranker=reranker)
    reranker.calls.clear()
    wider.ask("How many nations pledged troops?")
    assert reranker.calls == [10, 3]  # choosing which chunks are kept: worth it
