"""Followed topics and their digests: "what is new on this story since I last looked".

What "new" means: an article the index holds now that this topic has not seen, whatever its
publication date. Seen is kept as a ledger of every (source, content hash) this data folder has
shown any topic, each with the sequence number it was first noticed at; a topic's mark is the
sequence number at its follow or last digest, and its new stories are the indexed ones noticed
after it. Why not the manifest: it is the index's current state, not its history (a rebuild
writes it afresh, a removal forgets a document), so it cannot say what a topic saw before; the
pair is what identifies a version of an article across rebuilds. So:
- a re-ingested unchanged file, a rebuild, or a removed file ingested again unchanged: not new;
- a changed file (a revision: same source, new hash) is new, as is a new file, unless it is a
  wire copy of a story already seen (the same report printed by another outlet);
- following a topic notices everything indexed at that moment: none of it is new to the topic.

A digest matches a topic's new articles with the briefing machinery (`Briefer`, restricted to
them by a `DocFilter`), so each story is a dated, cited `BriefingItem`, and it then marks every
new article it looked at as seen (those that matched and those about something else), so a
second digest straight after it is empty. The store is one JSON file in the data folder (beside
the index, not inside one of its collections, so it survives `ingest --rebuild`), replaced
atomically under a file lock: the CLI and a running server may both use it.
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from rag.answering.answerability import Kind
from rag.answering.openq import OpenAsk
from rag.answering.question import Question
from rag.errors import InvalidRequest, NotFound
from rag.filters import DocFilter
from rag.index.atomic import atomic_write_text
from rag.types import BriefingItem, NewsragError

if TYPE_CHECKING:
    from rag.answering.briefing import Briefer
    from rag.index.manifest import DocEntry

TOPICS_FILE = "topics.json"
STORE_VERSION = 1


def topic_key(topic: str) -> str:
    """Topics compare case- and space-insensitively: "Vale Line rail link" is "vale line  rail link"."""
    return " ".join(topic.split()).casefold()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _seen_key(doc: "DocEntry") -> str:
    return f"{doc.source}\t{doc.content_hash}"


@dataclass
class Followed:
    topic: str  # as the user first wrote it (spaces tidied)
    followed_at: str
    last_digest: str | None
    mark: int  # ledger sequence numbers up to this one are seen


@dataclass
class _State:
    topics: dict[str, Followed]  # by topic_key
    ledger: dict[str, int]  # "source\thash" -> sequence number it was first noticed at
    counter: int

    def notice(self, docs: dict[str, "DocEntry"]) -> bool:
        """Give every indexed version not yet in the ledger the next number; True if any was new."""
        fresh = [key for key in sorted(map(_seen_key, docs.values())) if key not in self.ledger]
        for key in fresh:
            self.counter += 1
            self.ledger[key] = self.counter
        return bool(fresh)

    def unseen(self, followed: Followed, docs: dict[str, "DocEntry"]) -> list[str]:
        """The indexed sources this topic has not seen (every version is in the ledger: `notice` ran),
        but for a wire copy of a story it has seen: another outlet's print of one report is no news."""
        new = [d for d in docs.values() if self.ledger[_seen_key(d)] > followed.mark]
        fresh = {d.source for d in new}
        seen_stories = {d.group or d.source for d in docs.values() if d.source not in fresh}
        return sorted(d.source for d in new if (d.group or d.source) not in seen_stories)


class TopicStore:
    """The followed topics and the seen ledger, in one file, read and replaced under a lock."""

    def __init__(self, data_dir: Path, max_topic_chars: int) -> None:
        self.path = Path(data_dir) / TOPICS_FILE
        self.max_topic_chars = max_topic_chars

    @contextmanager
    def state(self, docs: dict[str, "DocEntry"]) -> Iterator[_State]:
        """The state with the index's current versions noticed, saved back when the block ends."""
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path.with_name(f".{TOPICS_FILE}.lock"))):
            state = self._load()
            before = self._dump(state)
            state.notice(docs)
            yield state
            after = self._dump(state)
            if after != before:
                atomic_write_text(self.path, after)

    def checked(self, topic: Any) -> str:
        if not isinstance(topic, str) or not topic.strip():
            raise InvalidRequest("the topic is empty: name a story to follow, e.g. \"Vale Line rail link\"")
        tidy = " ".join(topic.split())
        if len(tidy) > self.max_topic_chars:
            raise InvalidRequest(f"the topic is {len(tidy)} characters long; the limit is {self.max_topic_chars}")
        return tidy

    def _load(self) -> _State:
        if not self.path.exists():
            return _State({}, {}, 0)
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            topics = {key: Followed(**row) for key, row in raw["topics"].items()}
            return _State(topics, {str(k): int(v) for k, v in raw["ledger"].items()}, int(raw["counter"]))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise NewsragError(f"the followed topics at {self.path} are unreadable ({exc}); "
                               "delete the file to start again (the index is not affected)") from None

    @staticmethod
    def _dump(state: _State) -> str:
        return json.dumps({"version": STORE_VERSION, "counter": state.counter, "ledger": state.ledger,
                           "topics": {key: vars(f) for key, f in state.topics.items()}},
                          ensure_ascii=False, sort_keys=True, indent=1)


class Topics:
    """Follow, unfollow, list and digest topics over the live index, matched by the briefer."""

    def __init__(self, store: TopicStore, briefer: "Briefer") -> None:
        self.store, self.briefer = store, briefer

    def _docs(self) -> dict[str, "DocEntry"]:
        return self.briefer.live.manifest().docs

    def follow(self, topic: str) -> dict[str, Any]:
        """Idempotent: following a followed topic keeps its marks (and says how many stories are new)."""
        tidy = self.store.checked(topic)
        docs = self._docs()
        with self.store.state(docs) as state:
            followed = state.topics.get(topic_key(tidy))
            if followed is None:
                followed = state.topics[topic_key(tidy)] = Followed(tidy, _now(), None, state.counter)
                unseen: list[str] = []
            else:
                unseen = state.unseen(followed, docs)
        return {"topic": followed.topic, "followed_at": followed.followed_at, "new": len(self._matching(followed, unseen))}

    def unfollow(self, topic: str) -> dict[str, Any]:
        tidy = self.store.checked(topic)
        with self.store.state(self._docs()) as state:
            followed = state.topics.pop(topic_key(tidy), None)
        if followed is None:
            raise NotFound(f"not following \"{tidy}\" (see `newsrag following`)")
        return {"topic": followed.topic}

    def following(self) -> list[dict[str, Any]]:
        """Each topic with the number of new stories about it (the models run only when some article is new)."""
        if not self.store.path.exists():  # nothing followed yet: no folder or file is made for it
            return []
        docs = self._docs()
        with self.store.state(docs) as state:
            pending = [(f, state.unseen(f, docs)) for f in state.topics.values()]
        return [{"topic": f.topic, "followed_at": f.followed_at, "last_digest": f.last_digest,
                 "new": len(self._matching(f, unseen))} for f, unseen in sorted(pending, key=lambda p: topic_key(p[0].topic))]

    def digest(self, topic: str | None = None) -> dict[str, Any]:
        """Per topic (or the one named), its new stories as briefing items; all new articles are then seen."""
        docs = self._docs()
        tidy = self.store.checked(topic) if topic is not None else None
        wanted = topic_key(tidy) if tidy is not None else None
        with self.store.state(docs) as state:
            if wanted is not None and wanted not in state.topics:
                raise NotFound(f"not following \"{tidy}\" (see `newsrag following`)")
            chosen = sorted((k for k in state.topics if wanted in (None, k)))
            pending = [(k, state.topics[k], state.unseen(state.topics[k], docs), state.counter) for k in chosen]
        # The briefing runs outside the lock (it takes seconds with the real models); the marks
        # move to what was noticed before it, so an article ingested meanwhile stays new.
        out = [(key, followed, self._items(followed, unseen), upto) for key, followed, unseen, upto in pending]
        with self.store.state(self._docs()) as state:
            for key, _, _, upto in out:
                if key in state.topics:
                    current = state.topics[key]
                    current.mark, current.last_digest = max(current.mark, upto), _now()
        return {"topics": [{"topic": followed.topic, "items": [item.to_dict() for item in items]}
                           for _, followed, items, _ in out]}

    def _briefer_for(self, unseen: list[str]) -> "Briefer":
        """The briefer for a digest: every new article a candidate, every match shown (a digest marks
        what it looked at as seen, so a story cut for length would never be shown)."""
        from rag.answering.briefing import Briefer

        b = self.briefer
        policy = replace(b.policy, max_stories=max(b.policy.max_stories, len(unseen)),
                         candidates=max(b.policy.candidates, len(unseen)))
        return Briefer(b.live, b.embedder, b.evidence, policy)

    def _matching(self, followed: Followed, unseen: list[str]) -> list[str]:
        """The new articles about the topic (one per wire story), without composing items."""
        if not unseen:
            return []
        briefer = self._briefer_for(unseen)
        passages = briefer.live.retrieve(followed.topic, top_k=briefer.policy.candidates,
                                         doc_filter=DocFilter(frozenset(unseen)), per_article=True)
        return [p.source for p in briefer.on_topic(passages)]

    def _items(self, followed: Followed, unseen: list[str]) -> list[BriefingItem]:
        if not unseen:
            return []
        asked = Question(text=followed.topic, standalone=followed.topic, kind=Kind.OTHER, stems=frozenset(),
                         names=(), figures=frozenset(), open=OpenAsk(topic=followed.topic, newest_first=False))
        composed, _ = self._briefer_for(unseen).run(asked, DocFilter(frozenset(unseen)))
        return [] if composed.abstained else list(composed.items)
