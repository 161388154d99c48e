"""The question, analysed once per ask: every answerer reads this value instead of re-parsing text."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rag.answering.answerability import Kind, question_kind
from rag.answering.followup import resolve
from rag.answering.openq import OpenAsk, open_ask
from rag.answering.text import content_words, fold, names, stems
from rag.answering.timeq import TimeScope, resolve_time
from rag.lexicon import NUMBER


# Where a question says its fact is found ("According to the report on X, ...", "..., as reported
# in March 2025?"): retrieval and the cross-encoder use it; a SQuAD reader, trained on questions
# about the passage in front of it, reads it as part of what is asked and grows unsure.
_ATTRIBUTION_FIRST = re.compile(r"^\s*(?:according to|as reported (?:by|in|on)|in the (?:article|report|story) (?:on|about))\b[^,?]{1,120},\s*", re.I)
_ATTRIBUTION_LAST = re.compile(
    r",\s*(?:according to|as reported (?:by|in|on)|as (?:the )?[\w' ]{1,30} (?:reports?|reported|said|says))\b[^,?]{0,120}(?=\?\s*$)", re.I)


def without_attribution(question: str) -> str:
    """The question without a leading or trailing 'according to ...' / 'as reported in ...' clause."""
    core = _ATTRIBUTION_LAST.sub("", _ATTRIBUTION_FIRST.sub("", question, count=1), count=1).strip()
    if len(core.split()) < 3:
        return question  # the clause was the question
    return core[0].upper() + core[1:]


@dataclass(frozen=True)
class Question:
    text: str  # the user's own words
    standalone: str  # a follow-up joined to the topic question it leans on; else the text
    kind: Kind
    stems: frozenset[str]  # content stems of the user's own words
    names: tuple[str, ...]  # capitalised runs: what a passage must name too
    figures: frozenset[str]  # quantities as written (folded): '14', '£2.1 billion', 'three'
    follow_up: bool = False
    previous_answer: str = ""  # the last assistant turn's text (its sentences are not repeated)
    previous_sources: tuple[str, ...] = ()
    scope: TimeScope | None = None  # the time phrase, when it is a publication filter
    open: OpenAsk | None = None  # an open question ("what happened with X"): answered by a briefing
    topic_names: tuple[str, ...] = ()  # a follow-up's: the names of the topic question it leans on

    @classmethod
    def analyse(
        cls, text: str, history: list[dict] | None = None, now: dt.date | None = None,
        dated: tuple[dt.date, dt.date] | None = None,
    ) -> "Question":
        """`now` is the date time phrases are resolved against (the reference date, or the newest
        article's); `dated` the corpus's dated span (earliest, latest): a phrase outside it
        ("in 1997" over 2025 articles) tells the time of an event, not of the articles, and is no scope."""
        conv = resolve(text, history)
        own = conv.question
        scope = resolve_time(own, now) if now is not None else None
        if scope is not None and dated is not None and not scope.overlaps(*dated):
            scope = None
        # A time phrase that became a date filter is said by the article's date, not its text:
        # 'in February 2025' asks nothing of the passage ('2025' is not a figure it must hold).
        asked = own.replace(scope.phrase, " ") if scope is not None else own
        return cls(
            text=own, standalone=conv.query, kind=question_kind(without_attribution(own)), stems=frozenset(stems(own)),
            names=tuple(names(asked)), figures=frozenset(fold(m.group(0)) for m in NUMBER.finditer(asked)),
            follow_up=conv.follow_up, previous_answer=conv.previous_answer,
            previous_sources=tuple(conv.previous_sources), scope=scope,
            open=open_ask(scope.question if scope is not None else own),
            topic_names=tuple(names(conv.topic)),
        )

    @property
    def query(self) -> str:
        """What retrieval and the cross-encoder see: the standalone question without its time phrase
        (the phrase became a date filter)."""
        return self._without_scope(self.standalone)

    @property
    def read_as(self) -> str:
        """What the span reader reads: the query without where-it-was-said clauses; for a
        follow-up, the user's own words (joined to its topic question, the reader answered the
        topic question again; retrieval has already brought the topic's passages), unless they
        hold no word of their own ("And what is it now?"): then the joined question."""
        if self.follow_up:
            own = without_attribution(self._without_scope(self.text))
            if content_words(own):
                return own
        return without_attribution(self.query)

    def _without_scope(self, text: str) -> str:
        """The text without its time phrase (the phrase became a date filter)."""
        if self.scope is None or self.scope.phrase not in text:
            return text
        return text.replace(self.scope.phrase, " ").replace("  ", " ").strip()

    @property
    def subject_names(self) -> tuple[str, ...]:
        """The names a passage answering the user's own words must hold: theirs, or, for a
        follow-up naming nobody ("And who directed it?"), its topic question's ('Black Friday');
        a follow-up that names someone ("And what about Germany?") has changed the subject."""
        return self.names or (self.topic_names if self.follow_up else ())

    @property
    def digit_figures(self) -> frozenset[str]:
        """The figures written in digits: 'which three capitals' is answered by a list that never says three."""
        return frozenset(f for f in self.figures if any(c.isdigit() for c in f))
