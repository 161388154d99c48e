"""Corroboration: the other articles that state a cited fact in their own words.

Two sentences corroborate each other when they are about the same story (their stored sentence
vectors are close, or they share enough content words beyond their figures) and state the same
thing: the figure the cited sentence reports for a quantity ('£6.5m' and '£6.5 million', read by
`rag.answering.recency`), or, in a sentence without a figure, the same name in the same role
saying the same ('highways chief Martin Osei said the work could not wait' and 'the work cannot
wait, said Martin Osei, the council's highways chief'). A different figure for the quantity is a revision
(newest first, as `recency` tells it), never corroboration. A wire copy (the MinHash groups of the
index) is the same report printed twice: it stays in `also_in` and corroborates nothing.

The candidates are the sentences the answer already holds (its retrieved passages) and, for the
lead fact of a lookup, one more retrieval by the cited sentence itself. No model is run beyond
that retrieval's query embedding.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from rag.answering.recency import extract_figures
from rag.answering.text import fold, names, stem, stems
from rag.answering.timeq import format_date
from rag.evidence import EvidenceSentence, RetrievedPassage
from rag.lexicon import COUNT_GROUPS, ROLE_NOUNS
from rag.settings import CorroborationSettings
from rag.sources.outlet import outlet
from rag.types import BriefingItem, Citation, Corroboration

if TYPE_CHECKING:
    from rag.answering.sentences import SentenceEvidence
    from rag.live_index import LiveIndex

_ROLE_WINDOW = 4  # words between a role noun and the name it belongs to ('chief executive Dr Aisha Rahman')
_COUNT_KEY = {noun: group[0] for group in COUNT_GROUPS for noun in group}  # '12 firms' counts companies too
_ALWAYS = frozenset("£$€%")  # quantities whose every value says something (money, per cents)
_CONVERSION = re.compile(r"\((?=[^)]*\d)[^)]*\)")
_WRITTEN = re.compile(r"(?<![\w£$€.,])\d+(?:\.\d+)?(?:m|km|bn|k)\b")


@dataclass(frozen=True)
class CorroborationPolicy:
    story_cosine: float
    story_words: int
    min_value: float
    candidates: int
    enabled: bool
    who: bool = False  # the question asks who: the name in its role is the fact ('Who is the commissioner?')

    @classmethod
    def from_settings(cls, s: CorroborationSettings) -> "CorroborationPolicy":
        return cls(s.corroboration_story_cosine, s.corroboration_story_words, s.corroboration_min_value,
                   s.corroboration_candidates, s.corroboration_enabled)


# ------------------------------------------------------------------ one pair
@lru_cache(maxsize=8192)  # a pool's sentences are compared with every claim of an answer, and come back
def _quantities(text: str, min_value: float, conversions: bool = True) -> dict[str, set[float]]:
    """The sentence's own figures, their values by quantity ('£': {6.5e6}). Counts below
    `min_value` ('two men') say too little to tell one report from another; amounts of money and
    per cents always count. A distance or a count written with a scale letter and no currency
    ('the 200m title') is also known by how it is written. `conversions`: with the figures in
    brackets ('14bn euros ($19bn; £10bn)'), the paper's own arithmetic at its day's rate: another
    report may give the amount in that currency, but a different rate is no revision."""
    if not conversions:
        text = _CONVERSION.sub(" ", text)
    found: dict[str, set[float]] = {}
    for f in extract_figures(text):
        key = _COUNT_KEY.get(f.key, f.key)
        if f.own and (key in _ALWAYS or f.value >= min_value):
            found.setdefault(key, set()).add(round(f.value, 6))
    for written in _WRITTEN.findall(text):
        found.setdefault(f"written:{written.casefold()}", set()).add(0.0)
    return found


@lru_cache(maxsize=8192)
def _reported(text: str, min_value: float) -> dict[str, set[float]]:
    """What a sentence reports of each quantity: its first own figure for it (as `recency` reads a
    claim). 'It will cost £6.5 million, ... with £1.2 million from the council' reports £6.5
    million: a budget's '£1.2 million for flood defences' does not say the same; a conversion in
    brackets is the first figure of its currency."""
    found: dict[str, set[float]] = {}
    for f in extract_figures(text):
        key = _COUNT_KEY.get(f.key, f.key)
        if f.own and (key in _ALWAYS or f.value >= min_value):
            found.setdefault(key, {round(f.value, 6)})
    for written in _WRITTEN.findall(text):
        found.setdefault(f"written:{written.casefold()}", set()).add(0.0)
    return found


def _revised(mine: dict[str, set[float]], theirs: dict[str, set[float]]) -> bool:
    """A quantity both give with no value in common: a different figure for it, a revision."""
    return any(not (values & theirs[key]) for key, values in mine.items() if key in theirs)


def _shared(mine: dict[str, set[float]], theirs: dict[str, set[float]]) -> bool:
    return any(values & theirs.get(key, set()) for key, values in mine.items())


@lru_cache(maxsize=8192)
def _roles(text: str) -> set[tuple[str, str]]:
    """(surname, role noun) for each name with a role noun within a few words of it."""
    tokens = re.findall(r"[\w’'.-]+", text)
    folded = [fold(t).strip(".,’'") for t in tokens]
    pairs = set()
    for name in names(text):
        parts = name.split()
        surname = fold(parts[-1]).strip(".’'")
        at = next((i for i in range(len(tokens)) if tokens[i : i + len(parts)] == parts), None)
        if at is None:
            continue
        near = folded[max(0, at - _ROLE_WINDOW) : at] + folded[at + len(parts) : at + len(parts) + _ROLE_WINDOW + 2]
        pairs |= {(surname, word) for word in near if word in ROLE_NOUNS}
        pairs |= {(surname, fold(part)) for part in parts if fold(part) in ROLE_NOUNS}  # 'President Bush'
    return {(surname, role) for surname, role in pairs if surname != role}


@lru_cache(maxsize=8192)
def _story_stems(text: str) -> set[str]:
    for figure in extract_figures(text):
        text = text.replace(figure.text, " ")
    return {w for w in stems(text) if not any(ch.isdigit() for ch in w)}


def same_story(a: EvidenceSentence, b: EvidenceSentence, policy: CorroborationPolicy) -> bool:
    """About one story: close sentence vectors, or enough shared content words beyond the figures."""
    if a.vector is not None and b.vector is not None and a.vector.shape == b.vector.shape:
        if float(np.dot(a.vector, b.vector)) >= policy.story_cosine:
            return True
    return len(_story_stems(a.text) & _story_stems(b.text)) >= policy.story_words


def corroborates(a: EvidenceSentence, b: EvidenceSentence, policy: CorroborationPolicy) -> bool:
    """`b` states what `a` states, in a sentence of the same story; a different figure for one of
    its quantities is a revision and never counts."""
    stated = {k: v for k, v in _quantities(a.text, policy.min_value, conversions=False).items()
              if not k.startswith("written:")}
    if _revised(stated, _quantities(b.text, policy.min_value, conversions=False)):
        return False
    if policy.who and _roles(a.text) & _roles(b.text):
        return True  # a name in one role is specific enough without the rest of the story
    mine, theirs = _quantities(a.text, policy.min_value), _quantities(b.text, policy.min_value)
    # A sentence with a figure states that figure: a name it mentions on the way ('commissioner
    # Helen Marsh said the route ...') is not what it reports.
    if mine:
        return _shared(_reported(a.text, policy.min_value) or mine, theirs) and same_story(a, b, policy)
    return bool(_roles(a.text) & _roles(b.text)) and _says_alike(a.text, b.text, policy.story_words)


def _says_alike(a: str, b: str, least: int) -> bool:
    """Two sentences naming one person in one role say the same of them when they share enough
    words beyond the names and roles: 'highways chief Martin Osei apologised to traders' is not
    'highways chief Martin Osei said the work could not wait'."""
    named = {stem(fold(w)) for n in [*names(a), *names(b)] for w in n.split()} | {stem(r) for r in ROLE_NOUNS}
    return len((_story_stems(a) & _story_stems(b)) - named) >= least


# ------------------------------------------------------------------ an answer
@dataclass(frozen=True)
class Article:
    """What corroboration needs to know of an indexed article."""

    title: str
    published: str | None
    group: str | None  # its wire group; None when it has no copy
    outlet: str | None


def corroborating(claim: EvidenceSentence, pool: Iterable[EvidenceSentence], articles: dict[str, Article],
                  policy: CorroborationPolicy) -> list[Corroboration]:
    """One corroboration per other article (its first sentence in `pool` that states the claim),
    oldest first; the claim's own article and its wire copies are left out."""
    mine = articles.get(claim.source)
    group = mine.group if mine is not None else None
    found: dict[str, Corroboration] = {}
    for sent in pool:
        other = articles.get(sent.source)
        if sent.source == claim.source or other is None:
            continue
        # One wire story printed twice is one report: neither the claim's own copies nor a second
        # copy of another report count.
        report = other.group or sent.source
        if report in found or (group is not None and other.group == group):
            continue
        if corroborates(claim, sent, policy):
            found[report] = Corroboration(sent.source, other.title, other.published, sent.text.strip())
    return sorted(found.values(), key=lambda c: (c.published is None, c.published or "", c.source))


def reported_line(source: str, others: Sequence[Corroboration], articles: dict[str, Article],
                  fmt: Callable[[dt.date], str] = format_date) -> str | None:
    """'Reported in 3 articles from 2 sources; first on 3 February 2025 (rail-link-announced.html).'
    Sources are outlets: counted only when every article names its own, else the line says
    articles alone. None when nothing corroborates."""
    if not others:
        return None
    mine = articles.get(source)
    reports = [(source, mine.published if mine else None, mine.outlet if mine else None)]
    reports += [(c.source, c.published, articles[c.source].outlet if c.source in articles else None) for c in others]
    line = f"Reported in {len(reports)} articles"
    outlets = [o for _, _, o in reports]
    if all(outlets):
        count = len({fold(o) for o in outlets if o})
        line += f" from {count} {'source' if count == 1 else 'sources'}"
    dated = sorted((d, s) for s, d, _ in reports if d)
    if dated:
        first, first_source = dated[0]
        try:
            line += f"; first on {fmt(dt.date.fromisoformat(first))} ({first_source})"
        except ValueError:
            pass
    return line + "."


def attach(citations: list[Citation], used: Sequence[EvidenceSentence], pool: Sequence[EvidenceSentence],
           articles: dict[str, Article], policy: CorroborationPolicy) -> None:
    """Each citation's `corroborated_by`, from the sentence it quotes (`used`, by offsets)."""
    by_key = {s.key: s for s in [*used, *pool]}
    for cit in citations:
        claim = by_key.get((cit.source, cit.start, cit.end))
        if claim is not None:
            cit.corroborated_by = corroborating(claim, pool, articles, policy)


def unique(sentences: Iterable[EvidenceSentence]) -> list[EvidenceSentence]:
    """Each sentence once (by source and offsets), in the order first seen."""
    seen: dict[tuple[str, int, int], EvidenceSentence] = {}
    for s in sentences:
        seen.setdefault(s.key, s)
    return list(seen.values())


# ------------------------------------------------------------------ the pipeline's side
class Corroborator:
    """Finds the other reports of an answer's facts in the live index (see the module doc)."""

    def __init__(self, live: "LiveIndex", evidence: "SentenceEvidence", policy: CorroborationPolicy) -> None:
        self.live, self.evidence, self.policy = live, evidence, policy

    def _articles(self) -> dict[str, Article]:
        """Every indexed article's title, date and wire group; the outlet is read only for those a
        line names (`_outlet`)."""
        return {d.source: Article(d.title, d.published, d.group, None) for d in self.live.manifest().docs.values()}

    def _outlet(self, source: str) -> str | None:
        doc = self.live.manifest().docs.get(source)
        return outlet(doc.path, doc.content_hash) if doc is not None else None

    def lookup(self, citations: list[Citation], used: Sequence[EvidenceSentence],
               sentences: Sequence[EvidenceSentence], who: bool = False) -> str | None:
        """Sets each citation's `corroborated_by`; returns the lead fact's 'Reported in ...' line.
        The pool: the answer's own sentences and the passages retrieved by the lead sentence.
        `who`: the question asks for a person, so a name in the same role is the same fact."""
        if not self.policy.enabled or not citations:
            return None
        pool = list(sentences)
        if self.policy.candidates:
            found = self.live.retrieve(citations[0].quote, top_k=self.policy.candidates, rerank=False)
            pool = unique([*pool, *self.evidence.cut(found)])
        articles = self._articles()
        attach(citations, used, pool, articles, replace(self.policy, who=who))
        return self._line(citations[0].source, citations[0].corroborated_by, articles)

    def briefing(self, items: list[BriefingItem], citations: list[Citation],
                 passages: Sequence[RetrievedPassage]) -> dict[int, str]:
        """Sets each item's (and its citations') `corroborated_by` from the briefing's own
        passages and its stories' leads; returns the line of each corroborated item, by index."""
        if not self.policy.enabled or not items:
            return {}
        leads = self.live.lead_passages([item.source for item in items])
        pool = unique(self.evidence.cut([*passages, *leads.values()]))
        articles = self._articles()
        attach(citations, [], pool, articles, self.policy)
        by_marker = {c.marker: c for c in citations}
        lines = {}
        for i, item in enumerate(items):
            found: dict[str, Corroboration] = {}
            for sent in item.sentences:
                for c in by_marker[sent.marker].corroborated_by if sent.marker in by_marker else []:
                    found.setdefault(c.source, c)
            item.corroborated_by = sorted(found.values(), key=lambda c: (c.published is None, c.published or "", c.source))
            item.reported = self._line(item.source, item.corroborated_by, articles)
            if item.reported is not None:
                lines[i] = item.reported
        return lines

    def _line(self, source: str, others: Sequence[Corroboration], articles: dict[str, Article]) -> str | None:
        if not others:
            return None
        named = {s: replace(articles[s], outlet=self._outlet(s)) for s in [source, *(c.source for c in others)]
                 if s in articles}
        return reported_line(source, others, named)


def with_item_lines(text: str, items: Sequence[BriefingItem], lines: dict[int, str]) -> str:
    """A briefing's text with each corroborated item's line after its bullet (found by the
    bullet's last marker)."""
    if not lines:
        return text
    ends = {f"[{items[i].sentences[-1].marker}]": line for i, line in lines.items() if items[i].sentences}
    out = []
    for row in text.split("\n"):
        tail = row.rsplit(" ", 1)[-1]
        out.append(f"{row} {ends[tail]}" if row.startswith("- ") and tail in ends else row)
    return "\n".join(out)
