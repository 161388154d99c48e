"""Briefings: the answer to an open question, one dated item per story, each sentence verbatim and cited.

Stories are articles (a wire story printed by several outlets is one story, its other copies in
`also_in`). With a topic ("what is happening with the rail link"), the retriever's candidates are
cut to each article's best chunk and the cross-encoder scores those against the topic: an article
below `briefing_min_logit` is about something else, and when none is left the briefing abstains
like a lookup. Without a topic ("what happened in February"), every article the time phrase
admits is a story. Each item gets its lead (the article's first real sentence) and, with a topic,
the sentence chosen by maximal marginal relevance over the stored sentence vectors: relevant to
the topic and unlike what the briefing already says. No sentence is written by us.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from rag.answering.coverage import count_coverage
from rag.answering.eventdates import StatedDate, UndatedAsk, dates_within
from rag.answering.extractive import NOT_IN_CORPUS, Composed, related_passages
from rag.answering.question import Question
from rag.answering.sentences import citation
from rag.answering.timeq import format_date
from rag.evidence import EvidenceSentence, RetrievedPassage
from rag.filters import DocFilter
from rag.settings import BriefingSettings, Settings
from rag.sources import is_derived_title
from rag.types import BriefingItem, Citation, ItemSentence

if TYPE_CHECKING:
    from rag.answering.sentences import SentenceEvidence
    from rag.embeddings import Embedder
    from rag.live_index import LiveIndex


@dataclass(frozen=True)
class BriefingPolicy:
    max_stories: int
    sentences: int
    candidates: int
    min_logit: float
    mmr_lambda: float
    lead_min_words: int
    duplicate_cosine: float  # a sentence this close to one already said adds nothing
    reranked: bool  # without the cross-encoder there is no relevance to cut on: every candidate is a story
    coverage_day_span: int  # a coverage over at most this many days counts per day, else per week

    @classmethod
    def from_settings(cls, s: BriefingSettings, duplicate_cosine: float, reranked: bool) -> "BriefingPolicy":
        return cls(s.briefing_max_stories, s.briefing_sentences, s.briefing_candidates, s.briefing_min_logit,
                   s.briefing_mmr_lambda, s.briefing_lead_min_words, duplicate_cosine, reranked,
                   s.briefing_coverage_day_span)

    def configured(self, settings: Settings) -> "BriefingPolicy":
        """The same policy under new settings (the models, and so `reranked`, stay)."""
        return self.from_settings(settings.briefing, settings.answer.duplicate_cosine, self.reranked)


@dataclass(frozen=True)
class _Story:
    source: str
    relevance: float  # the cross-encoder's logit of its best chunk against the topic (0 without a topic)
    best: RetrievedPassage | None  # the chunk that matched the topic


class Briefer:
    def __init__(self, live: "LiveIndex", embedder: "Embedder", evidence: "SentenceEvidence", policy: BriefingPolicy) -> None:
        self.live, self.embedder, self.evidence, self.policy = live, embedder, evidence, policy

    def run(self, asked: Question, flt: DocFilter) -> tuple[Composed, list[RetrievedPassage]]:
        """The briefing, and the passages it looked at (the answer's retrieved sources)."""
        assert asked.open is not None
        topic = asked.open.topic
        if topic:
            passages = self.live.retrieve(topic, top_k=self.policy.candidates, doc_filter=flt, per_article=True)
            stories = [_Story(p.source, p.score, p) for p in self.on_topic(passages)]
            if not stories:
                return Composed(NOT_IN_CORPUS, [], True, related_passages(self.evidence.cut(passages))), passages
        else:
            passages, stories = [], self._in_period(flt)
            if not stories:
                return Composed(NOT_IN_CORPUS, [], True, []), passages
        shown = self._ordered(stories[: self.policy.max_stories], asked.open.newest_first)
        items, cited = self._items(shown, topic)
        text = _text(items, len(stories) - len(shown), asked.open.newest_first)
        docs = self.live.manifest().docs
        coverage = count_coverage([docs[s.source].published for s in stories], self.policy.coverage_day_span)
        return Composed(text, cited, False, [], kind="briefing", items=items, coverage=coverage), passages

    def on_topic(self, passages: list[RetrievedPassage]) -> list[RetrievedPassage]:
        """The articles' best chunks that are about the topic (all of them without a cross-encoder)."""
        return [p for p in passages if not self.policy.reranked or p.score >= self.policy.min_logit]

    def event_dated(self, ask: UndatedAsk, flt: DocFilter) -> tuple[Composed, list[RetrievedPassage]]:
        """A date question over undated articles, answered from the dates their text gives: one
        item per story whose sentences date something in the period, in the order of those dates,
        each labelled an event date. Says first that no publication date can filter them."""
        passages: list[RetrievedPassage] = []
        sources = sorted(s for s in self.live.manifest().docs if flt.sources is None or s in flt.sources)
        if ask.topic:
            passages = self.live.retrieve(ask.topic, top_k=self.policy.candidates, doc_filter=DocFilter(flt.sources),
                                          per_article=True)
            sources = [p.source for p in passages if not self.policy.reranked or p.score >= self.policy.min_logit]
        dated = self._event_stories(sources, ask)
        shown = dated[: self.policy.max_stories]
        items, cited = self._event_items(shown, ask)
        if not items:
            return Composed(f"{ask.notice} Their text gives no date in {ask.period} either, so the corpus does not say.",
                            [], True, []), passages
        return Composed(_event_text(items, len(dated) - len(shown), ask), cited, False, [], kind="briefing",
                        items=items), passages

    def _event_stories(self, sources: list[str], ask: UndatedAsk) -> list[tuple[StatedDate, str]]:
        """(its first date in the period, source) per story whose text dates something in it,
        earliest first; one copy of a wire story. Read from the article text: no model runs."""
        docs, groups, found = self.live.manifest().docs, set(), []
        for source in sources:
            doc = docs.get(source)
            if doc is None or (doc.group and doc.group in groups):
                continue
            dates = dates_within(self.live.article(source).get("text") or "", ask)
            if dates:
                groups.add(doc.group)
                found.append((min(dates, key=lambda d: d.key(_year(ask))), source))
        return sorted(found, key=lambda pair: (pair[0].key(_year(ask)), pair[1]))

    def _event_items(self, stories: list[tuple[StatedDate, str]], ask: UndatedAsk) -> tuple[list[BriefingItem], list[Citation]]:
        copies, docs = self.live.wire_copies(), self.live.manifest().docs
        items: list[BriefingItem] = []
        cited: list[Citation] = []
        for _, source in stories:
            sentences = [s for s in self.evidence.cut(self.live.article_passages(source))
                         if dates_within(s.text, ask)][: self.policy.sentences]
            if not sentences:  # the date was in a heading or boilerplate, not in the evidence
                continue
            first = min((d for s in sentences for d in dates_within(s.text, ask)),
                        key=lambda d: d.key(_year(ask)))
            marks = []
            for sent in sentences:
                cited.append(citation(len(cited) + 1, sent))
                marks.append(ItemSentence(sent.text.strip(), len(cited)))
            doc = docs[source]
            items.append(BriefingItem(source=source, title=doc.title, published=None, sentences=marks,
                                      also_in=list(copies.get(source, [])), url=doc.url, event_date=first.label()))
        return items, cited

    def _in_period(self, flt: DocFilter) -> list[_Story]:
        """Every article the filter admits, one per wire group (its earliest copy), in date order."""
        manifest = self.live.manifest()
        docs = sorted((d for d in manifest.docs.values() if flt.admits(d.source, d.published)),
                      key=lambda d: (d.published or "9999", d.source))
        first: dict[str, str] = {}
        for d in docs:
            first.setdefault(d.group or d.source, d.source)
        return [_Story(source, 0.0, None) for source in first.values()]

    def _ordered(self, stories: list[_Story], newest_first: bool) -> list[_Story]:
        """Dated stories in the promised order, then the undated ones by relevance."""
        docs = self.live.manifest().docs
        dated = [s for s in stories if docs[s.source].published]
        undated = [s for s in stories if not docs[s.source].published]
        dated.sort(key=lambda s: (docs[s.source].published, s.source), reverse=newest_first)
        return dated + sorted(undated, key=lambda s: -s.relevance)

    def _items(self, stories: list[_Story], topic: str) -> tuple[list[BriefingItem], list[Citation]]:
        leads = self.live.lead_passages([s.source for s in stories])
        qvec = np.asarray(self.embedder.embed([topic])[0], dtype=np.float32) if topic else None
        said: list[np.ndarray] = []
        picked: list[list[EvidenceSentence]] = []
        for story in stories:
            lead_passage = leads.get(story.source)
            candidates = self.evidence.cut([p for p in (lead_passage, story.best) if p is not None])
            lead = self._lead(candidates, lead_passage)
            chosen = [lead] if lead is not None else []
            said += [s.vector for s in chosen]
            if qvec is not None:
                chosen += self._relevant(candidates, chosen, qvec, said)
                said += [s.vector for s in chosen[1:]]
            picked.append(sorted(chosen, key=lambda s: s.start))
        copies = self.live.wire_copies()
        docs = self.live.manifest().docs
        items, cited = [], []
        for story, sentences in zip(stories, picked):
            if not sentences:
                continue
            marks = []
            for sent in sentences:
                cited.append(citation(len(cited) + 1, sent))
                marks.append(ItemSentence(sent.text.strip(), len(cited)))
            doc = docs[story.source]
            items.append(BriefingItem(source=story.source, title=doc.title, published=doc.published, sentences=marks,
                                      also_in=list(copies.get(story.source, [])), url=doc.url))
        return items, cited

    def _lead(self, candidates: Sequence[EvidenceSentence], lead_passage: RetrievedPassage | None) -> EvidenceSentence | None:
        """The first sentence of the article's first chunk long enough to say something (a dateline,
        a byline or a repeated headline is no lead)."""
        if lead_passage is None:
            return None
        title = " ".join(lead_passage.title.split()).casefold()
        for sent in candidates:
            words = sent.text.split()
            if sent.chunk_id == lead_passage.chunk_id and len(words) >= self.policy.lead_min_words \
                    and " ".join(words).casefold() != title:
                return sent
        return None

    def _relevant(
        self, candidates: Sequence[EvidenceSentence], chosen: list[EvidenceSentence], qvec: np.ndarray,
        said: list[np.ndarray],
    ) -> list[EvidenceSentence]:
        """Up to `sentences - len(chosen)` more, by maximal marginal relevance to the topic."""
        out: list[EvidenceSentence] = []
        pool = [s for s in candidates if s not in chosen and len(s.text.split()) >= self.policy.lead_min_words]
        lam = self.policy.mmr_lambda
        while pool and len(chosen) + len(out) < self.policy.sentences:
            seen = said + [s.vector for s in out]

            def redundancy(s: EvidenceSentence) -> float:
                return max((float(np.dot(s.vector, v)) for v in seen), default=0.0)

            best = max(pool, key=lambda s: lam * float(np.dot(qvec, s.vector)) - (1 - lam) * redundancy(s))
            pool.remove(best)
            if redundancy(best) < self.policy.duplicate_cosine:
                out.append(best)
        return out


def _year(ask: UndatedAsk) -> int:
    """The year a date without one is read in (it matched only a period inside one year)."""
    return (ask.since or ask.until or dt.date.min).year


def _named(item: BriefingItem) -> str:
    """Its title, with the file name beside a title made from the lead (the file had none)."""
    return f"{item.title} [{item.source}]" if is_derived_title(item.title) else item.title


def _event_text(items: list[BriefingItem], more: int, ask: UndatedAsk) -> str:
    """The notice, then one bullet per story under its event date."""
    count = f"{len(items)} {'story' if len(items) == 1 else 'stories'}"
    lines = [f"{ask.notice} Going by the dates their text gives (event dates, not publication dates), "
             f"{count} {'tells' if len(items) == 1 else 'tell'} of {ask.period}:"]
    lines += [_bullet(item, f"{item.event_date} (event date)") for item in items]
    return "\n".join(lines + _more(more))


def _bullet(item: BriefingItem, when: str) -> str:
    body = " ".join(f"{s.text} [{s.marker}]" for s in item.sentences)
    also = f" (also in {', '.join(item.also_in)})" if item.also_in else ""
    return f"- {when} · {_named(item)}{also}: {body}"


def _more(more: int) -> list[str]:
    return [f"{more} more {'story' if more == 1 else 'stories'} matched; ask about one, or narrow the dates."] if more > 0 else []


def _text(items: list[BriefingItem], more: int, newest_first: bool) -> str:
    """Dated bullets, in the items' order; what the CLI prints and an API client reads."""
    count = f"{len(items)} {'story' if len(items) == 1 else 'stories'}"
    order = "newest first" if newest_first else "oldest first"
    lines = [f"{count}, {order}:" if len(items) > 1 else f"{count}:"]
    lines += [_bullet(item, format_date(dt.date.fromisoformat(item.published)) if item.published else "undated")
              for item in items]
    return "\n".join(lines + _more(more))
