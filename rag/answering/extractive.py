"""The default answerer: one to three verbatim sentences, each cited, or an honest abstention.

No generative model: every word of an answer is quoted from an article, so it cannot invent a
number. The same fact found in two articles is said once and cited to both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.answering.abstain import missing
from rag.answering.evidence import Evidence
from rag.answering.text import stems
from rag.types import Citation, Passage

NOT_IN_CORPUS = "The corpus does not say. I found nothing in the indexed articles that answers this question."


@dataclass(frozen=True)
class Policy:
    threshold: float = 0.35  # absolute evidence score below which we abstain
    relative: float = 0.85  # further sentences must score this close to the best
    max_sentences: int = 3
    duplicate_cosine: float = 0.9
    candidates: int = 8  # how deep to look for a sentence that really answers


@dataclass
class Composed:
    text: str
    citations: list[Citation]
    abstained: bool
    related: list[Passage]


def own_question(question: str) -> str:
    """The user's last question inside a standalone query (a follow-up is appended last)."""
    parts = [p for p in re.split(r"(?<=\?)\s+", question.strip()) if p]
    return parts[-1] if parts else question


def _context(ev: Evidence) -> str:
    """The title and the sentence before: where a pronoun in the evidence finds its name."""
    offset = ev.start - ev.chunk.start
    previous = [s for s, e in ev.chunk.sentences if e <= offset]
    start = previous[-1] if previous else offset
    return ev.chunk.title + " " + ev.chunk.text[start:offset]


def answering_evidence(question: str, evidence: list[Evidence], policy: Policy) -> list[Evidence]:
    """Sentences above the threshold that hold what the question asks for, best first."""
    asked = own_question(question)
    strong = [ev for ev in evidence[: policy.candidates] if ev.score >= policy.threshold]
    return [ev for ev in strong if not missing(asked, ev.text, _context(ev), ev.chunk.title + " " + ev.chunk.text)]


def should_abstain(question: str, evidence: list[Evidence], policy: Policy) -> bool:
    return not answering_evidence(question, evidence, policy)


def compose(question: str, evidence: list[Evidence], policy: Policy) -> Composed:
    passing = answering_evidence(question, evidence, policy)
    if not passing:
        return Composed(NOT_IN_CORPUS, [], True, related_passages(evidence))
    best = passing[0]
    groups: list[list[Evidence]] = [[best]]
    for ev in passing[1:]:
        if ev.score < best.score * policy.relative:
            break
        twin = next((g for g in groups if _same_fact(g[0], ev, policy)), None)
        if twin is not None:
            if ev.chunk.source not in {e.chunk.source for e in twin}:
                twin.append(ev)  # the same fact in another article: cite it too
            continue
        if len(groups) < policy.max_sentences:
            groups.append([ev])
    groups = _readable_order(groups)
    parts, citations = [], []
    for group in groups:
        markers = []
        for ev in group:
            marker = len(citations) + 1
            citations.append(to_citation(marker, ev))
            markers.append(f"[{marker}]")
        parts.append(f"{group[0].text.strip()} {''.join(markers)}")
    return Composed(" ".join(parts), citations, False, [])


def to_citation(marker: int, ev: Evidence) -> Citation:
    return Citation(
        marker=marker,
        source=ev.chunk.source,
        title=ev.chunk.title,
        chunk_id=ev.chunk.id,
        quote=ev.text,
        start=ev.start,
        end=ev.end,
        score=round(ev.score, 4),
        url=ev.chunk.url or None,
    )


def related_passages(evidence: list[Evidence], limit: int = 3) -> list[Passage]:
    passages, seen = [], set()
    for ev in evidence:
        if ev.chunk.id in seen:
            continue
        seen.add(ev.chunk.id)
        passages.append(Passage(ev.chunk.source, ev.chunk.title, ev.chunk.id, ev.text, round(ev.score, 4)))
        if len(passages) == limit:
            break
    return passages


def _same_fact(a: Evidence, b: Evidence, policy: Policy) -> bool:
    if float(np.dot(a.vector, b.vector)) >= policy.duplicate_cosine:
        return True
    sa, sb = stems(a.text), stems(b.text)
    return bool(sa and sb) and len(sa & sb) / len(sa | sb) >= 0.7


def _readable_order(groups: list[list[Evidence]]) -> list[list[Evidence]]:
    """The best sentence's article first; within an article, the order the article tells it."""
    order: dict[str, int] = {}
    for group in groups:
        order.setdefault(group[0].chunk.source, len(order))
    return sorted(groups, key=lambda g: (order[g[0].chunk.source], g[0].start))
