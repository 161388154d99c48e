"""Open questions: "what happened in March", "what's the latest on X", "summarize the news about
X". They ask for a briefing (a dated account over several articles), not for one fact.

A few phrasings, read from the question with its time phrase already taken out (that phrase is the
publication filter). What follows the opening is the topic; a period question has none. A lookup
("what happened to the shares on Monday" aside) never starts with one of these openings, so a
lookup stays a lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREP = r"(?:with|to|at|in|on|about|over|around|regarding|for|from|of)"
# (opening, newest first?): "latest" and "new" promise the newest first; a course or summary the oldest.
_OPENINGS: tuple[tuple[str, bool], ...] = (
    (rf"what(?:'s|\s+has|\s+have)?\s+happened(?:\s+so\s+far)?(?:\s+{_PREP})?", False),
    (rf"what(?:'s|\s+is|\s+are)\s+(?:happening|going\s+on)(?:\s+{_PREP})?", False),
    (rf"what(?:'s|\s+is)\s+the\s+latest(?:\s+news)?(?:\s+{_PREP})?", True),
    (rf"(?:is\s+there\s+)?any(?:thing)?\s+(?:new|news)(?:\s+{_PREP})?", True),
    (rf"what(?:'s|\s+is)\s+new(?:\s+{_PREP})?", True),
    (rf"(?:the\s+)?latest(?:\s+news)?\s+{_PREP}", True),
    (rf"(?:please\s+)?(?:summari[sz]e|recap|brief\s+me\s+on|catch\s+me\s+up\s+on|tell\s+me\s+about)", False),
    (rf"(?:(?:give|show)\s+me\s+)?(?:a|an|the)?\s*(?:summary|overview|rundown|recap|briefing|timeline|coverage)\s+{_PREP}", False),
    (rf"what\s+do\s+(?:we|you|the\s+articles|the\s+papers)\s+(?:know|say|report)\s+{_PREP}", False),
    (rf"what\s+(?:does|do)\s+the\s+(?:corpus|collection|news|articles?)\s+say\s+{_PREP}", False),
)
_OPEN = re.compile(rf"^\s*(?:so\s+|and\s+|ok(?:ay)?,?\s+)?(?:{'|'.join(f'(?P<o{i}>{p})' for i, (p, _) in enumerate(_OPENINGS))})\b(?P<topic>.*)$",
                   re.I | re.S)
# "the news about X", "the story of X": the topic is X.
_WRAPPER = re.compile(rf"^(?:(?:all\s+)?the\s+)?(?:news|coverage|stories|story|reports?|articles?|developments?)\s+{_PREP}\s+", re.I)
_TRAILER = re.compile(r"(?:\s+(?:so\s+far|recently|lately|in\s+the\s+news|please))+\s*$", re.I)


@dataclass(frozen=True)
class OpenAsk:
    """What a briefing is about and the order it promises."""

    topic: str  # '' for a period question ("what happened in March 2025?")
    newest_first: bool


def open_ask(question: str) -> OpenAsk | None:
    """The briefing a question asks for, or None for a lookup."""
    m = _OPEN.match(question.strip())
    if m is None:
        return None
    newest = next(_OPENINGS[i][1] for i in range(len(_OPENINGS)) if m.group(f"o{i}"))
    topic = m.group("topic").strip(" \t\n?.!,:;")
    topic = _TRAILER.sub("", _WRAPPER.sub("", topic)).strip(" ?.!,:;")
    return OpenAsk(topic=topic, newest_first=newest)
