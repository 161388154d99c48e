"""The answer pipeline: one question in, one cited Answer out (streamed as it is ready).

Built once: the question is analysed once (`Question`), retrieval gives `RetrievedPassage`s, the
sentence scorer turns them into `EvidenceSentence`s, then a lookup is read by the reader (a
yes/no question by the rules), or an LLM writes the answer and every claim is verified. Stores and
file formats are the live index's business; this room only asks it for passages and documents.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Iterator

from rag.answering.answerability import Kind
from rag.answering.corroboration import CorroborationPolicy, Corroborator, with_item_lines
from rag.answering.eventdates import UndatedAsk, undated_ask
from rag.answering.extractive import NOT_IN_CORPUS, Composed, Policy, compose, compose_read
from rag.answering.question import Question
from rag.errors import IndexUnavailable
from rag.evidence import EvidenceSentence, RetrievedPassage
from rag.filters import DocFilter
from rag.live_index import EMPTY_INDEX
from rag.request import AskRequest
from rag.settings import Settings
from rag.types import Answer, Citation, Passage

if TYPE_CHECKING:
    from rag.answering.briefing import Briefer
    from rag.answering.reading import PassageReader
    from rag.answering.sentences import SentenceEvidence
    from rag.embeddings import Embedder
    from rag.live_index import LiveIndex


class AnswerPipeline:
    def __init__(
        self, settings: Settings, live: "LiveIndex", embedder: "Embedder", evidence: "SentenceEvidence",
        policy: Policy, reading: "PassageReader | None", briefer: "Briefer | None" = None,
    ) -> None:
        self.settings, self.live, self.embedder = settings, live, embedder
        self.evidence, self.policy, self.reading, self.briefer = evidence, policy, reading, briefer

    def stream(self, request: AskRequest) -> Iterator[str | Answer]:
        """Yields text pieces as they are ready, then the final Answer (whose text is authoritative)."""
        started = time.perf_counter()
        if not self.live.manifest().docs:
            raise IndexUnavailable(EMPTY_INDEX)
        flt, asked = self._scope(request)
        undated = self._undated(flt, asked)
        if undated is not None and undated.topic is not None and self.briefer is not None:
            yield from self._briefing(request, flt, asked, started, lambda: self.briefer.event_dated(undated, flt))
            return
        if asked.open is not None and self.briefer is not None:
            yield from self._briefing(request, flt, asked, started)
            return
        # The answerer cross-encodes the kept passages' sentences itself, so reordering chunks pays
        # only when the reranker also chooses which are kept (more candidates than top_k).
        r = self.settings.retrieval
        passages = self.live.retrieve(asked.query, doc_filter=flt, rerank=r.rerank_top_n > r.top_k)
        retrieved = time.perf_counter()
        sentences = self.evidence.run(asked.query, passages)
        notice, model_s = "", None
        if request.mode == "llm":
            from rag.answering.llm import answer_with_llm

            composed, notice, model_s = yield from answer_with_llm(
                self.settings, self.embedder, asked, list(request.history), passages, sentences, self.policy,
                extractive=lambda: self.compose(asked, passages, sentences))
        else:
            composed = self.compose(asked, passages, sentences)
            yield from _pieces(composed)
        cited, corroborating = self._with_copies(composed.citations), time.perf_counter()
        reported = None if composed.abstained else self._corroborator().lookup(
            cited, composed.used, sentences, who=asked.kind is Kind.PERSON)
        if reported is not None:
            composed = replace(composed, text=f"{composed.text}\n{reported}")
            yield "\n" + reported
        timings = _timings(started, retrieved, time.perf_counter())
        timings["corroborate_s"] = round(time.perf_counter() - corroborating, 4)  # a share of answer_s
        if model_s is not None:
            timings["llm_s"] = model_s  # the model's share of answer_s (absent when it was not asked)
        yield Answer(
            question=request.question, standalone_question=asked.query, text=composed.text,
            citations=cited, abstained=composed.abstained, mode=request.mode,
            related=self._titled(composed.related), retrieved_sources=list(dict.fromkeys(p.source for p in passages)),
            notice=notice or (undated.notice if undated is not None else ""), direct=composed.direct,
            time_range=_range_dict(flt) if flt.dated else None, timings=timings,
            revision=composed.revision, probability=composed.probability, certainty=composed.certainty,
            reported=reported,
        )

    def _briefing(
        self, request: AskRequest, flt: DocFilter, asked: Question, started: float,
        event_dated: Callable[[], tuple[Composed, list[RetrievedPassage]]] | None = None,
    ) -> Iterator[str | Answer]:
        """An open question: a dated briefing, streamed a story at a time. `event_dated`: over
        undated articles, the briefing by the dates their text gives (never summarised by an LLM,
        which would blur event dates into publication dates)."""
        composed, passages = event_dated() if event_dated is not None else self.briefer.run(asked, flt)
        coverage = composed.coverage  # an LLM's summary keeps the stories, so their coverage too
        retrieved = time.perf_counter()
        notice = ""
        if not composed.abstained:
            lines = self._corroborator().briefing(composed.items, self._with_copies(composed.citations), passages)
            composed = replace(composed, text=with_item_lines(composed.text, composed.items, lines))
        if composed.abstained:
            yield composed.text or NOT_IN_CORPUS
        elif request.mode == "llm" and event_dated is None:
            from rag.answering.llm_briefing import summarise_briefing

            composed, notice = yield from summarise_briefing(self.settings, self.embedder, asked.standalone, composed)
        else:
            yield from (line + "\n" for line in composed.text.split("\n"))
        yield Answer(
            question=request.question, standalone_question=asked.query, text=composed.text,
            citations=self._with_copies(composed.citations), abstained=composed.abstained, mode=request.mode,
            related=self._titled(composed.related), retrieved_sources=list(dict.fromkeys(p.source for p in passages)),
            notice=notice, time_range=_range_dict(flt) if flt.dated and event_dated is None else None,
            kind="briefing" if not composed.abstained else "fact",
            items=composed.items,
            timings=_timings(started, retrieved, time.perf_counter()),
            topic=asked.open.topic if asked.open is not None and not composed.abstained else None,
            coverage=None if composed.abstained else coverage,
        )

    def compose(self, asked: Question, passages: list[RetrievedPassage], sentences: list[EvidenceSentence]) -> Composed:
        """A lookup is read by the reader; a yes/no question (no span answers it) by the rules,
        with the sentence the reader picks among their candidates."""
        if self.reading is None:
            return compose(asked, sentences, self.policy)
        if asked.kind is Kind.YES_NO:
            return compose(asked, sentences, self.policy, self.reading.best(asked, passages, sentences, self.live.paragraph))
        reading, unanswered = self.reading.answer(asked, passages, sentences, self.live.paragraph)
        return compose_read(asked, reading, sentences, self.policy, lambda found: self.reading.direct(found, asked), unanswered)

    def _scope(self, request: AskRequest) -> tuple[DocFilter, Question]:
        """The explicit filters, narrowed by a time phrase in the user's own question ("in March
        2025", "last week") resolved against the reference date (default: the newest article's).
        A phrase is a publication filter only when some indexed articles fall in its range;
        otherwise ("in 1997" over undated articles) it describes the event and stays in the query."""
        flt = DocFilter.build(list(request.sources) if request.sources else None, request.since, request.until)
        history = list(request.history)
        dates = sorted(d.published for d in self.live.manifest().docs.values() if d.published)
        if not dates:
            return flt, Question.analyse(request.question, history)
        earliest, latest = dt.date.fromisoformat(dates[0]), dt.date.fromisoformat(dates[-1])
        asked = Question.analyse(request.question, history, self.settings.answer.reference_date or latest, (earliest, latest))
        return (flt.narrow(asked.scope.since, asked.scope.until) if asked.scope else flt), asked

    def _undated(self, flt: DocFilter, asked: Question) -> UndatedAsk | None:
        """A date question (a filter, or a period asked for) over articles in scope that all lack a
        publication date: no date can filter them (rag.answering.eventdates)."""
        docs = self.live.manifest().docs.values()
        published = [d.published for d in docs if flt.sources is None or d.source in flt.sources]
        return undated_ask(asked.text, flt.since, flt.until, published, self.settings.answer.reference_date or dt.date.today())

    def _corroborator(self) -> Corroborator:
        return Corroborator(self.live, self.evidence, CorroborationPolicy.from_settings(self.settings.corroboration))

    def _with_copies(self, citations: list[Citation]) -> list[Citation]:
        """Each citation names the other copies of its wire story (`also_in`), its article's date
        and its article's title as shown (a chunk holds the title the models read)."""
        copies = self.live.wire_copies()
        docs = self.live.manifest().docs
        for citation in citations:
            if citation.source in copies:
                citation.also_in = copies[citation.source]
            doc = docs.get(citation.source)
            if doc is not None and not citation.published:
                citation.published = doc.published
            if doc is not None:
                citation.title = doc.title
        return citations

    def _titled(self, related: list[Passage]) -> list[Passage]:
        """Related passages with their article's title as shown."""
        docs = self.live.manifest().docs
        return [replace(p, title=docs[p.source].title) if p.source in docs else p for p in related]


def _timings(started: float, retrieved: float, finished: float) -> dict[str, float]:
    return {"retrieve_s": round(retrieved - started, 4), "answer_s": round(finished - retrieved, 4),
            "total_s": round(finished - started, 4)}


def _range_dict(flt: DocFilter) -> dict[str, Any]:
    return {"since": flt.since.isoformat() if flt.since else None, "until": flt.until.isoformat() if flt.until else None}


def _pieces(composed: Composed) -> Iterator[str]:
    """Stream an extractive answer sentence by sentence (it is ready at once; this keeps one UI path)."""
    if composed.abstained:
        yield NOT_IN_CORPUS
        return
    for piece in re.split(r"(?<=\])\s+", composed.text):
        yield piece + " "
