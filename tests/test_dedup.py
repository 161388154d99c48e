"""Near-duplicate articles: wire copies group together, related stories do not."""

from __future__ import annotations

import datetime as dt

import pytest

from rag.index.dedup import (
    DuplicateFinder,
    assign_groups,
    decode_signature,
    encode_signature,
    group_members,
    shingles,
    signature,
    similarity,
)
from rag.settings import Settings

S = Settings()
PARAMS = {"num_perm": S.dedup_num_perm, "k": S.dedup_shingle_words, "min_words": S.dedup_min_words}

# One agency story as two outlets print it: their own headline and byline (not in the body), one
# sentence reworded by the second outlet and its own closing line.
WIRE_BODY = (
    "Harbour authorities in Saltmarsh have closed the north pier after divers found serious cracks "
    "in three of its supporting columns during a routine inspection. The pier, built in 1932, is used "
    "by about forty fishing boats and a summer ferry to the Kell islands. Engineers said the damage had "
    "probably been caused by a winter of unusually high tides and repeated storm surges. Repairs are "
    "expected to cost about 2.4 million pounds and to take at least five months, harbour master Rosa "
    "Linden said. Fishing crews will land their catches at the south quay in the meantime, which has "
    "room for only half of the boats. The ferry operator said summer sailings would start from the "
    "town beach using a temporary landing stage. Local businesses fear a quiet season for the seafront "
    "cafes and the fish market, which depend on visitors arriving by boat."
)
WIRE_COPY = WIRE_BODY.replace(
    "Engineers said the damage had probably been caused by a winter of unusually high tides and repeated storm surges.",
    "The damage was probably caused by months of high tides and storms, according to the engineers.",
) + " Readers can send their views to the newsdesk."
# Same town, same pier, many shared names and phrases, but a different story.
RELATED_STORY = (
    "Harbour authorities in Saltmarsh have reopened the north pier after five months of repairs to its "
    "supporting columns. Harbour master Rosa Linden said the work had cost 2.6 million pounds, slightly "
    "more than expected, because two further columns needed new concrete jackets. About forty fishing "
    "boats returned to their old berths on the first morning, and crews said the south quay had been "
    "badly overcrowded all summer. The ferry to the Kell islands will resume sailings from the pier next "
    "week, ending a season of trips from a temporary landing stage on the town beach. Seafront cafes "
    "reported their worst summer in a decade and have asked the council for help with business rates."
)


def sig(text: str) -> list[int]:
    return signature(text, **PARAMS)


def test_wire_copies_are_similar_and_related_stories_are_not() -> None:
    copy, related = similarity(sig(WIRE_BODY), sig(WIRE_COPY)), similarity(sig(WIRE_BODY), sig(RELATED_STORY))
    assert copy >= S.dedup_threshold
    assert related < 0.2
    exact_copy = len(shingles(WIRE_BODY, 5) & shingles(WIRE_COPY, 5)) / len(shingles(WIRE_BODY, 5) | shingles(WIRE_COPY, 5))
    assert abs(copy - exact_copy) < 0.12  # the estimate tracks the true Jaccard similarity


def test_assign_groups_names_the_earliest_copy() -> None:
    docs = [
        ("echo/pier.html", dt.date(2025, 3, 12), sig(WIRE_COPY)),
        ("gazette/pier.html", dt.date(2025, 3, 11), sig(WIRE_BODY)),
        ("gazette/pier-reopens.md", dt.date(2025, 8, 30), sig(RELATED_STORY)),
    ]
    groups = assign_groups(docs, threshold=S.dedup_threshold, num_perm=S.dedup_num_perm)
    assert groups == {
        "gazette/pier.html": "gazette/pier.html",
        "echo/pier.html": "gazette/pier.html",
        "gazette/pier-reopens.md": "gazette/pier-reopens.md",
    }
    assert group_members(groups)["gazette/pier.html"] == ["gazette/pier.html", "echo/pier.html"]


def test_undated_copies_and_ties_fall_back_to_the_smallest_name() -> None:
    same_day = dt.date(2025, 3, 11)
    tied = assign_groups([("b.txt", same_day, sig(WIRE_BODY)), ("a.txt", same_day, sig(WIRE_COPY))],
                         threshold=S.dedup_threshold, num_perm=S.dedup_num_perm)
    assert tied == {"a.txt": "a.txt", "b.txt": "a.txt"}
    undated = assign_groups([("a.txt", None, sig(WIRE_BODY)), ("z.txt", same_day, sig(WIRE_COPY))],
                            threshold=S.dedup_threshold, num_perm=S.dedup_num_perm)
    assert undated == {"a.txt": "z.txt", "z.txt": "z.txt"}  # a dated copy is earlier than an undated one


def test_incremental_group_for_matches_a_full_assignment() -> None:
    finder = DuplicateFinder(threshold=S.dedup_threshold, num_perm=S.dedup_num_perm,
                             members=[("gazette/pier.html", sig(WIRE_BODY), "gazette/pier.html")])
    assert finder.group_for("echo/pier.html", sig(WIRE_COPY)) == "gazette/pier.html"
    assert finder.group_for("gazette/pier-reopens.md", sig(RELATED_STORY)) is None
    assert finder.group_for("gazette/pier.html", sig(WIRE_BODY)) is None  # never its own duplicate
    finder.add("echo/pier.html", sig(WIRE_COPY), "gazette/pier.html")
    finder.remove("gazette/pier.html")
    # the group keeps its name while another member remains
    assert finder.group_for("courier/pier.txt", sig(WIRE_BODY)) == "gazette/pier.html"
    assert "gazette/pier.html" not in finder and finder.group_of("echo/pier.html") == "gazette/pier.html"


def test_short_and_empty_bodies_are_never_grouped() -> None:
    short = "Council approves the flood wall."
    assert sig(short) == [] and sig("") == []
    groups = assign_groups([("a.txt", None, sig(short)), ("b.txt", None, sig(short))],
                           threshold=S.dedup_threshold, num_perm=S.dedup_num_perm)
    assert groups == {"a.txt": "a.txt", "b.txt": "b.txt"}
    assert similarity([], sig(WIRE_BODY)) == 0.0


def test_signature_round_trip_and_refusals() -> None:
    original = sig(WIRE_BODY)
    assert len(original) == S.dedup_num_perm and original == sig(WIRE_BODY)  # deterministic
    text = encode_signature(original)
    assert text.isascii() and len(text) < 800
    assert decode_signature(text) == original
    with pytest.raises(ValueError):
        decode_signature("mh0-legacy-128:AAAA")
    with pytest.raises(ValueError):
        decode_signature(text[:-8])  # truncated
    finder = DuplicateFinder(threshold=S.dedup_threshold, num_perm=S.dedup_num_perm)
    with pytest.raises(ValueError):
        finder.add("x.txt", original[:64])
    with pytest.raises(ValueError):
        DuplicateFinder(threshold=0, num_perm=S.dedup_num_perm)


def test_case_and_punctuation_do_not_matter() -> None:
    shouted = WIRE_BODY.upper().replace(",", "").replace(".", " .")
    assert similarity(sig(WIRE_BODY), sig(shouted)) == 1.0
