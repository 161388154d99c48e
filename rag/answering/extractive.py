"""The default answerer: the best verbatim sentence (plus the few that add a needed fact), each
cited, a direct short answer when the question asks for one, or an honest abstention.

No generative model: every word of an answer is quoted from an article, so it cannot invent a
number. The same fact found in two articles is said once and cited to both. When articles of
different dates give different figures for the answer's quantity, the newest leads and the earlier
follows; among equally good sentences the newest article's comes first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from rag.answering.answerability import Kind, adds_something, holds_kind, names_covered
from rag.answering.direct import direct_answer, without_dateline, yes_no
from rag.answering.question import Question
from rag.answering.reading import Reading
from rag.answering.recency import Claim, compose_revision, conflicting_figures, extract_figures, latest_revision, recency_tiebreak
from rag.answering.sentences import citation
from rag.answering.text import stems
from rag.evidence import EvidenceSentence
from rag.settings import Settings
from rag.types import BriefingItem, Citation, Coverage, Passage

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
    recency_tie: float  # scores this close are a tie, the newest article first
    revision_candidates: int  # answering sentences checked for a revised figure
    revision_shared_words: int  # ... that share this many words with the answer beyond the question's

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
            recency_tie=s.answer_recency_tie_logit if reranked else s.answer_recency_tie_prescore,
            revision_candidates=s.answer_revision_candidates,
            revision_shared_words=s.answer_revision_shared_words,
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
    used: list[EvidenceSentence] = field(default_factory=list)
    # "£2.1 billion (25 March 2025) [1]; earlier reported as £1.8 billion (3 March 2025) [2]"
    # when the answer's figure was revised; its markers are the answer's.
    revision: str | None = None
    kind: str = "fact"  # or "briefing", with its stories in `items`
    items: list[BriefingItem] = field(default_factory=list)
    probability: float | None = None  # the calibrator's, when the reader's reading decided the answer
    certainty: str | None = None  # "likely" or "unsure"
    coverage: Coverage | None = None  # a briefing's stories per day or week (rag.answering.coverage)


def _calibrated(composed: Composed, reading: Reading | None) -> Composed:
    """The answer with the probability of the reading it stands on (none for an abstention)."""
    if reading is None or composed.abstained:
        return composed
    return replace(composed, probability=round(reading.probability, 4), certainty="likely" if reading.likely else "unsure")


def answering_sentences(question: Question, sentences: list[EvidenceSentence], policy: Policy) -> list[EvidenceSentence]:
    """Sentences that may answer: scored high enough, holding what is asked, said before only when
    nothing new qualifies (a follow-up's facet may sit in the same sentence); best
    first, near-ties (`policy.recency_tie`) newest article first."""
    said = _squash(question.previous_answer) if question.follow_up else ""
    ranked = []
    for sent in sentences:
        if sent.score is None:
            continue
        text = sent.text
        value = sent.score + (policy.source_bonus if sent.source in question.previous_sources else 0.0)
        if value < policy.min_score:
            continue
        repeated = bool(said) and _squash(text) in said
        if (
            holds_kind(question.kind, without_dateline(text), question)
            # A sentence that restates a yes/no question is its answer.
            and (question.kind is Kind.YES_NO or adds_something(text, question, policy.min_new_words))
            and names_covered(question, f"{sent.title} {sent.context} {text}", lenient=value >= policy.confident)
        ):
            ranked.append((value, sent, repeated))
    # A follow-up asks for another facet: a sentence already said answers it only when no new
    # sentence qualifies (then its other figure or name is the direct answer).
    fresh = [(v, s) for v, s, r in ranked if not r]
    ranked = fresh or [(v, s) for v, s, _ in ranked]
    ranked.sort(key=lambda pair: (-pair[0], pair[1].key))
    ranked = recency_tiebreak(ranked, lambda pair: pair[0], lambda pair: pair[1].published_on, policy.recency_tie)
    return [sent for _, sent in ranked]


def compose(question: Question, sentences: list[EvidenceSentence], policy: Policy, reading: Reading | None = None) -> Composed:
    """The rule-based answer: the best qualifying sentence by the cross-encoder, with its direct
    answer. A yes/no question has no span, but the sentence the reader reads one from is a
    candidate too: it finds "the Nasdaq rose 0.9%" for "Did the Nasdaq also close higher?" where
    the cross-encoder puts a sentence on the market in general first."""
    if reading is not None:
        lead = _read_sentence(reading)
        sentences = [lead, *(s for s in sentences if s.key != lead.key)]
    passing = answering_sentences(question, sentences, policy)
    if not passing:
        return Composed(NOT_IN_CORPUS, [], True, related_passages(sentences))
    best = passing[0]
    if question.kind is Kind.YES_NO:
        return _calibrated(_yes_no(question, best, passing, policy), reading)
    return _calibrated(_with_support(question, best, passing[1:], policy, lambda lead: _rule_direct(question, lead, policy)), reading)


def compose_read(question: Question, reading: Reading | None, sentences: list[EvidenceSentence], policy: Policy,
                 direct: Callable[[Reading], str | None], unanswered: frozenset[str] = frozenset()) -> Composed:
    """The reader's answer: the sentence holding the span it trusts leads (its direct answer is
    the span, shown only when `direct` says the reader is sure), followed by the qualifying
    sentences close to it; no trusted span, no answer. `unanswered`: the articles the reader read
    and found no answer in; a newer figure from one of them is no revision of the answer."""
    if reading is None:
        return Composed(NOT_IN_CORPUS, [], True, related_passages(sentences))
    lead = _read_sentence(reading)
    rest = [s for s in answering_sentences(question, sentences, policy) if s.key != lead.key]
    # A revised figure can put a newer article's sentence first: its own figure is then the answer.
    # The sentences the reader read a span in are candidates too, ranked by their relevance under
    # their headline: 'Its cost has risen to €48 million' names its tram only in the headline.
    return _calibrated(_with_support(question, lead, rest, policy,
                                     lambda first: direct(reading) if first is lead else _rule_direct(question, first, policy),
                                     unanswered, [_read_sentence(r) for r in reading.others]), reading)


def _read_sentence(reading: Reading) -> EvidenceSentence:
    """The reader's cited sentence, ranked among the others by its relevance in context (under its
    headline) when that is higher than its own score."""
    lead = reading.sentence
    return lead if lead.score is not None and lead.score >= reading.relevance else replace(lead, score=reading.relevance)


def _yes_no(question: Question, best: EvidenceSentence, passing: list[EvidenceSentence], policy: Policy) -> Composed:
    """The sentence that decides a yes/no question, when one close to the best does. When close
    sentences decide it both ways ('a meeting attended by 30 countries ... a US proposal' and 'the
    US did not send a representative'), both are quoted and neither verdict is shown."""
    verdicts: dict[str, EvidenceSentence] = {}
    for sent in passing:
        if policy.close(_score(best), _score(sent)):
            verdict = yes_no(question, sent.text, policy.yes_min_coverage, policy.no_min_coverage, sent.title, sent.context)
            if verdict is not None:
                verdicts.setdefault(verdict, sent)
    if len(verdicts) > 1:
        deciding = sorted(verdicts.values(), key=lambda s: (-_score(s), s.key))
        return _assemble([[s] for s in deciding], None, lambda lead: None)
    if not verdicts:
        # Undecided: the close sentences that bear on it, as for any question, and no verdict.
        return _assemble(_groups(best, passing[1:], policy), None, lambda lead: None)
    deciding = next(iter(verdicts.values()))
    return _assemble([[deciding]], None, lambda lead: _rule_direct(question, lead, policy))


def _rule_direct(question: Question, lead: EvidenceSentence, policy: Policy) -> str | None:
    return direct_answer(question.kind, question, lead.text, policy.yes_min_coverage, policy.no_min_coverage, lead.published_on,
                         lead.title, lead.context)


def _with_support(question: Question, best: EvidenceSentence, rest: list[EvidenceSentence], policy: Policy,
                  direct: Callable[[EvidenceSentence], str | None], unanswered: frozenset[str] = frozenset(),
                  read: list[EvidenceSentence] | None = None) -> Composed:
    """`best` leads, with close sentences that add a fact; a revised figure puts the newest first.
    `read`: further sentences the reader found a span in, checked for a revised figure only."""
    passing = [best, *rest]
    known = {s.key for s in passing}
    candidates = passing[: policy.revision_candidates] + [s for s in read or [] if s.key not in known]
    revision = _revision(question, best, candidates, policy.revision_shared_words, unanswered)
    if revision is not None:
        newest = revision[0]
        passing = [newest] + [s for s in passing if s is not newest]
    groups = _groups(passing[0], passing[1:], policy)
    if revision is not None:
        groups = _with_earlier(groups, revision[1], policy)
    return _assemble(groups, revision, direct)


def _assemble(groups: list[list[EvidenceSentence]], revision: tuple[EvidenceSentence, EvidenceSentence] | None,
              direct: Callable[[EvidenceSentence], str | None]) -> Composed:
    """The answer text with a marker per citation, in reading order after the lead."""
    lead = groups[0][0]
    short = direct(lead)
    groups = _readable_order(groups, pinned=2 if revision is not None else 1)
    parts, citations, used, markers_of = [], [], [], {}
    for group in groups:
        markers = []
        for sent in group:
            citations.append(citation(len(citations) + 1, sent))
            markers.append(f"[{len(citations)}]")
            used.append(sent)
        markers_of[id(group[0])] = "".join(markers)
        parts.append(f"{group[0].text.strip()} {''.join(markers)}")
    note = None
    if revision is not None:
        newest, earlier = revision
        note = compose_revision(_claim(newest), _claim(earlier), cite=(f" {markers_of[id(newest)]}", f" {markers_of[id(earlier)]}"))
    return Composed(" ".join(parts), citations, False, [], short, used, note)


def _score(sent: EvidenceSentence) -> float:
    return sent.score or 0.0


def _claim(sent: EvidenceSentence) -> Claim:
    return Claim(sent.text, sent.source, sent.published_on, _score(sent))


def _revision(
    question: Question, best: EvidenceSentence, candidates: list[EvidenceSentence], shared_words: int,
    unanswered: frozenset[str] = frozenset(),
) -> tuple[EvidenceSentence, EvidenceSentence] | None:
    """(newest, earlier) sentences giving different figures for the best sentence's quantity from
    articles of different dates, or None. Only a figure the best sentence disagrees with, in a
    sentence of the same story, counts, so an unrelated amount does not displace the answer. Words
    of a town's stories ('Riverton', 'Marsh Vale Council') can make a budget's '£1.2 million for
    flood defences' look like the library renovation's cost revised; a newer figure of the same
    story needs the reader to have found it a likely answer. Whatever the reader's doubt, a figure
    whose headline, chunk and sentence name every word the question asks about, as the answer's do,
    is the same quantity ('Kellford tram extension over budget ... Its cost has risen to €48
    million'); the budget names no pool refurbishment. An earlier figure is only mentioned after
    the answer."""
    mine = _claim(best)
    if mine.published is None:
        return None
    topic = _story_words(best) - question.stems
    asked = bool(question.stems) and question.stems <= _context_stems(best)

    def revises(s: EvidenceSentence) -> bool:
        theirs = _claim(s)
        if conflicting_figures(mine, theirs) is None:
            return False
        if asked and question.stems <= _context_stems(s):
            return True
        newer = theirs.published is not None and theirs.published > mine.published
        return len(topic & _story_words(s)) >= shared_words and not (newer and s.source in unanswered)

    rivals = {id(s): s for s in candidates if s is not best and revises(s)}
    if not rivals:
        return None
    by_claim = {id(best): best, **rivals}
    claims = {key: _claim(s) for key, s in by_claim.items()}
    pair = latest_revision(list(claims.values()))
    if pair is None:
        return None
    back = {id(claim): key for key, claim in claims.items()}
    return by_claim[back[id(pair[0])]], by_claim[back[id(pair[1])]]


def _context_stems(sent: EvidenceSentence) -> set[str]:
    """The content stems of a sentence's headline, chunk and itself: what it is about."""
    return stems(f"{sent.title} {sent.context} {sent.text}")


def _story_words(sent: EvidenceSentence) -> set[str]:
    """The content stems of a sentence and its title, figures ('£2.1 billion', '12 people') left out."""
    text = sent.text
    for figure in extract_figures(text):
        text = text.replace(figure.text, " ")
    return {w for w in stems(f"{sent.title} {text}") if not any(ch.isdigit() for ch in w)}


def _with_earlier(groups: list[list[EvidenceSentence]], earlier: EvidenceSentence, policy: Policy) -> list[list[EvidenceSentence]]:
    """The earlier figure's sentence right after the lead, shown even when it scored below the
    usual cut; a runner-up gives way if the answer is full."""
    own = next((g for g in groups[1:] if g[0] is earlier), None)
    rest = [[s for s in g if s is not earlier] for g in groups[1:] if g is not own]
    rest = [g for g in rest if g]
    kept = [groups[0], own or [earlier], *rest]
    return kept[: max(policy.max_sentences, 2)]


def _groups(best: EvidenceSentence, rest: list[EvidenceSentence], policy: Policy) -> list[list[EvidenceSentence]]:
    """The best sentence, its twins in other articles, and close runners-up that add a new fact."""
    groups: list[list[EvidenceSentence]] = [[best]]
    for sent in rest:
        if not policy.close(_score(best), _score(sent)):
            break
        twin = next((g for g in groups if _same_fact(g[0], sent, policy)), None)
        if twin is not None:
            if sent.source not in {s.source for s in twin}:
                twin.append(sent)  # the same fact in another article: cite it too
            continue
        said = set().union(*(stems(g[0].text) for g in groups))
        if len(groups) < policy.max_sentences and len(stems(sent.text) - said) >= policy.min_new_words:
            groups.append([sent])
    return groups


def related_passages(sentences: list[EvidenceSentence], limit: int = 3) -> list[Passage]:
    passages, seen = [], set()
    for sent in sentences:
        if sent.chunk_id in seen:
            continue
        seen.add(sent.chunk_id)
        passages.append(Passage(sent.source, sent.title, sent.chunk_id, sent.text, round(_score(sent), 4)))
        if len(passages) == limit:
            break
    return passages


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\[\d+\]", " ", text)).strip().casefold()


def _same_fact(a: EvidenceSentence, b: EvidenceSentence, policy: Policy) -> bool:
    if conflicting_figures(_claim(a), _claim(b)) is not None:
        return False  # alike but for the figure: a revision, not a copy
    if float(np.dot(a.vector, b.vector)) >= policy.duplicate_cosine:
        return True
    sa, sb = stems(a.text), stems(b.text)
    return bool(sa and sb) and len(sa & sb) / len(sa | sb) >= policy.duplicate_overlap


def _readable_order(groups: list[list[EvidenceSentence]], pinned: int = 1) -> list[list[EvidenceSentence]]:
    """The first `pinned` groups as they are (the answer, and an earlier figure); the others by
    article, each in the order the article tells it."""
    order: dict[str, int] = {}
    for group in groups:
        order.setdefault(group[0].source, len(order))
    return groups[:pinned] + sorted(groups[pinned:], key=lambda g: (order[g[0].source], g[0].start))
