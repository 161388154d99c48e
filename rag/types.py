"""Plain result types shared by the engine, the CLI, the UI and the evals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from rag.errors import NewsragError  # noqa: F401 - re-exported: older imports name it here

Progress = Callable[[int, int, str], None]  # ingest progress: (files done, files to do, current source)


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class IngestReport:
    seen: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    chunks: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    rebuilt: bool = False  # every known document was re-read into a fresh collection

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        lines = [
            *(["rebuilt the index from every document it held"] if self.rebuilt else []),
            f"files seen {self.seen}: added {self.added}, updated {self.updated}, "
            f"removed {self.removed}, unchanged {self.unchanged}, skipped {len(self.skipped)}",
            f"chunks in index {self.chunks}, embedded now {self.chunks_embedded}, {self.seconds:.1f}s",
        ]
        lines += [f"  skipped {s.path}: {s.reason}" for s in self.skipped]
        return "\n".join(lines)


@dataclass(frozen=True)
class Corroboration:
    """Another article that states a cited fact in its own words (not a wire copy of the cited one)."""

    source: str
    title: str
    published: str | None  # ISO date of that article, when it states one
    quote: str  # its sentence, verbatim

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Citation:
    marker: int
    source: str
    title: str
    chunk_id: str
    quote: str
    start: int
    end: int
    score: float
    url: str | None = None
    published: str | None = None  # ISO YYYY-MM-DD of the cited article, when it states one
    also_in: list[str] = field(default_factory=list)  # sources holding a near-identical copy (wire stories)
    corroborated_by: list[Corroboration] = field(default_factory=list)  # other reports of the same fact

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Passage:
    """A retrieved passage shown as 'related' next to an abstention; never presented as support."""

    source: str
    title: str
    chunk_id: str
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ItemSentence:
    """A verbatim sentence of a briefing item and the marker of its citation."""

    text: str
    marker: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BriefingItem:
    """One story of a briefing: its article's date and title, its lead and most relevant sentence."""

    source: str
    title: str
    published: str | None  # ISO date; None: undated (listed after the dated stories)
    sentences: list[ItemSentence]
    also_in: list[str] = field(default_factory=list)  # the other copies of its wire story
    url: str | None = None
    # A date the article's text gives for what the item reports ('11 March'), when it is listed by
    # that (its article has no publication date): an event date, never a publication date.
    event_date: str | None = None
    corroborated_by: list[Corroboration] = field(default_factory=list)  # other reports of what it says
    # Its line: 'Reported in 2 articles from 2 sources; first on 2 May 2025 (herald.html).', or None.
    reported: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"published": self.published, "source": self.source, "title": self.title, "url": self.url,
                "sentences": [s.to_dict() for s in self.sentences], "also_in": list(self.also_in),
                "event_date": self.event_date, "corroborated_by": [c.to_dict() for c in self.corroborated_by],
                "reported": self.reported}


@dataclass
class CoverageBin:
    """One day (or ISO week) of a briefing's coverage and how many of its stories appeared in it."""

    start: str  # ISO date: the day, or the Monday of the ISO week
    label: str  # '3 Feb' (a week is labelled by its Monday)
    count: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Coverage:
    """How many of a briefing's stories (all it found, not only those shown) appeared per day or
    per ISO week, by publication date: every day or week from the first to the last, empty ones 0."""

    unit: str  # "day" or "week"
    bins: list[CoverageBin]
    undated: int  # stories without a publication date, counted apart
    span: str  # '3–12 February 2025': the first and last publication dates ("" when none is dated)

    @property
    def stories(self) -> int:
        return sum(b.count for b in self.bins) + self.undated

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "span": self.span, "stories": self.stories,
                "bins": [b.to_dict() for b in self.bins], "undated": self.undated}


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    abstained: bool
    mode: str
    standalone_question: str = ""
    related: list[Passage] = field(default_factory=list)
    retrieved_sources: list[str] = field(default_factory=list)
    notice: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    # The short answer (a number, date, name, "Yes"/"No") taken verbatim from a cited sentence, or None.
    direct: str | None = None
    # The publication-date range the answer was restricted to: {"since": "YYYY-MM-DD", "until":
    # "YYYY-MM-DD"} (an open end is None, e.g. "since Monday"), or None when unrestricted.
    time_range: dict[str, str | None] | None = None
    # When articles of different dates give different figures: "£2.1 billion (25 March 2025) [1];
    # earlier reported as £1.8 billion (<its date>) [2]" (newest first, each part cited), or None.
    revision: str | None = None
    # A lookup's corroboration line, the last line of `text`: "Reported in 3 articles from 2 sources;
    # first on 3 February 2025 (a.html)" (counts and dates from the index, not claims of the
    # articles; each report is in its citation's `corroborated_by`), or None.
    reported: str | None = None
    # "fact" (a lookup) or "briefing" (an open question: one dated item per story, in `items`).
    kind: str = "fact"
    items: list[BriefingItem] = field(default_factory=list)
    # How likely a lookup's answer is right: the answer calibrator's probability (0-1), and its word
    # for it, "likely" (sure enough for a bold answer) or "unsure"; None for briefings, abstentions
    # and answers without the reader.
    probability: float | None = None
    certainty: str | None = None
    # A briefing's topic ("the rail link"; "" for a period alone, "what happened in March") and how
    # many of its stories appeared per day or week; None for lookups.
    topic: str | None = None
    coverage: Coverage | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "kind": self.kind,
            "standalone_question": self.standalone_question,
            "direct": self.direct,
            "text": self.text,
            "time_range": dict(self.time_range) if self.time_range else None,
            "revision": self.revision,
            "reported": self.reported,
            "citations": [c.to_dict() for c in self.citations],
            "items": [i.to_dict() for i in self.items],
            "abstained": self.abstained,
            "probability": self.probability,
            "certainty": self.certainty,
            "topic": self.topic,
            "coverage": self.coverage.to_dict() if self.coverage else None,
            "mode": self.mode,
            "related": [p.to_dict() for p in self.related],
            "retrieved_sources": list(self.retrieved_sources),
            "notice": self.notice,
            "timings": dict(self.timings),
        }
