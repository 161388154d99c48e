"""The default answerer: the best verbatim sentence (plus the few that add a needed fact), each
cited, a direct short answer when the question asks for one, or an honest abstention.

No generative model: every word of an answer is quoted from an article, so it cannot invent a
number. The same fact found in two articles is said once and cited to both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from llama_index.core.schema import NodeWithScore

from rag.answering import nodes as N
from rag.answering.answerability import Kind, adds_something, holds_kind, names_covered, question_kind
from rag.answering.direct import direct_answer, yes_no
from rag.answering.followup import Conversation
from rag.answering.text import stems
from rag.settings import Settings
from rag.types import Citation, Passage

NOT_IN_CORPUS = "The corpus does not say. I found nothing in the indexed articles that answers this question."


@dataclass(frozen=True)
class Policy:
    """The answer thresholds, on the cross-encoder's logit scale or (no reranker) the pre-score's."""

    reranked: bool
    min_score: float  # below it a sentence is no answer
    confident: float  # at or above it, the question's names need not be spelt out ('Kiev' for 'Kyiv')
    margin: float  # further sentences: within this many logits of the best (reranked)
    relative: float  # further sentences: at least this share of the best pre-score (no reranker)
    max_sentences: int
    duplicate_cosine: float
    duplicate_overlap: float
    yes_min_coverage: float
    no_min_coverage: float
    min_new_words: int
    source_bonus: float  # logits added to sentences from the previous answer's sources

    @classmethod
    def from_settings(cls, s: Settings, reranked: bool) -> "Policy":
        return cls(
            reranked=reranked,
            min_score=s.answer_min_logit if reranked else s.abstain_threshold,
            confident=s.answer_confident_logit if reranked else float("inf"),
            margin=s.answer_relative_margin,
            relative=s.answer_relative_share,
            max_sentences=s.max_answer_sentences,
            duplicate_cosine=s.duplicate_cosine,
            duplicate_overlap=s.duplicate_overlap,
            yes_min_coverage=s.yes_min_coverage,
            no_min_coverage=s.no_min_coverage,
            min_new_words=s.answer_min_new_words,
            source_bonus=s.followup_source_bonus if reranked else 0.0,
        )

    def close(self, best: float, other: float) -> bool:
        return other >= best - self.margin if self.reranked else other >= best * self.relative


@dataclass
class Composed:
    text: str
    citations: list[Citation]
    abstained: bool
    related: list[Passage]
    direct: str | None = None
    used: list[NodeWithScore] = field(default_factory=list)


def answering_sentences(conv: Conversation, sentences: list[NodeWithScore], policy: Policy) -> list[NodeWithScore]:
    """Sentences that may answer: scored high enough, holding what is asked, not said before; best first."""
    kind = question_kind(conv.question)
    said = _squash(conv.previous_answer) if conv.follow_up else ""
    ranked = []
    for sent in sentences:
        if sent.score is None:
            continue
        text = N.text(sent)
        value = N.score(sent) + (policy.source_bonus if N.source(sent) in conv.previous_sources else 0.0)
        if value < policy.min_score or (said and _squash(text) in said):
            continue
        if (
            holds_kind(kind, text, conv.question)
            and adds_something(text, conv.question, policy.min_new_words)
            and names_covered(conv.question, f"{N.title(sent)} {N.meta(sent).get('context', '')} {text}", lenient=value >= policy.confident)
        ):
            ranked.append((value, sent))
    ranked.sort(key=lambda pair: (-pair[0], N.key(pair[1])))
    return [sent for _, sent in ranked]


def compose(conv: Conversation, sentences: list[NodeWithScore], policy: Policy) -> Composed:
    passing = answering_sentences(conv, sentences, policy)
    if not passing:
        return Composed(NOT_IN_CORPUS, [], True, related_passages(sentences))
    kind = question_kind(conv.question)
    best = passing[0]
    if kind is Kind.YES_NO:
        # The answer is the sentence that decides it, when one close to the best does.
        deciding = next(
            (s for s in passing if policy.close(N.score(best), N.score(s)) and yes_no(conv.question, N.text(s), policy.yes_min_coverage, policy.no_min_coverage)),
            None,
        )
        groups = [[deciding or best]]
    else:
        groups = _groups(best, passing[1:], policy)
    lead = groups[0][0]
    direct = direct_answer(kind, conv.question, N.text(lead), policy.yes_min_coverage, policy.no_min_coverage)
    groups = _readable_order(groups)
    parts, citations, used = [], [], []
    for group in groups:
        markers = []
        for sent in group:
            citations.append(N.citation(len(citations) + 1, sent))
            markers.append(f"[{len(citations)}]")
            used.append(sent)
        parts.append(f"{N.text(group[0]).strip()} {''.join(markers)}")
    return Composed(" ".join(parts), citations, False, [], direct, used)


def _groups(best: NodeWithScore, rest: list[NodeWithScore], policy: Policy) -> list[list[NodeWithScore]]:
    """The best sentence, its twins in other articles, and close runners-up that add a new fact."""
    groups: list[list[NodeWithScore]] = [[best]]
    for sent in rest:
        if not policy.close(N.score(best), N.score(sent)):
            break
        twin = next((g for g in groups if _same_fact(g[0], sent, policy)), None)
        if twin is not None:
            if N.source(sent) not in {N.source(s) for s in twin}:
                twin.append(sent)  # the same fact in another article: cite it too
            continue
        said = set().union(*(stems(N.text(g[0])) for g in groups))
        if len(groups) < policy.max_sentences and len(stems(N.text(sent)) - said) >= policy.min_new_words:
            groups.append([sent])
    return groups


def related_passages(sentences: list[NodeWithScore], limit: int = 3) -> list[Passage]:
    passages, seen = [], set()
    for sent in sentences:
        if N.chunk_id(sent) in seen:
            continue
        seen.add(N.chunk_id(sent))
        passages.append(Passage(N.source(sent), N.title(sent), N.chunk_id(sent), N.text(sent), round(N.score(sent), 4)))
        if len(passages) == limit:
            break
    return passages


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\[\d+\]", " ", text)).strip().casefold()


def _same_fact(a: NodeWithScore, b: NodeWithScore, policy: Policy) -> bool:
    if float(np.dot(N.vector(a), N.vector(b))) >= policy.duplicate_cosine:
        return True
    sa, sb = stems(N.text(a)), stems(N.text(b))
    return bool(sa and sb) and len(sa & sb) / len(sa | sb) >= policy.duplicate_overlap


def _readable_order(groups: list[list[NodeWithScore]]) -> list[list[NodeWithScore]]:
    """The best sentence first; the others by article, each in the order the article tells it."""
    order: dict[str, int] = {}
    for group in groups:
        order.setdefault(N.source(group[0]), len(order))
    return groups[:1] + sorted(groups[1:], key=lambda g: (order[N.source(g[0])], N.start(g[0])))
