"""The conversation store the page keeps in the browser, and its exports (no browser needed)."""

from __future__ import annotations

import json

from ui import conversations as C

TURNS = [
    {"role": "user", "content": "How many nations pledged troops?", "shown": "<p>q</p>"},
    {"role": "assistant", "content": "26 nations have pledged to deploy troops. [1]", "shown": "<p>a</p>", "direct": "26",
     "citations": [{"marker": 1, "source": "004.txt", "title": "Paris", "quote": "26 nations have pledged", "published": None}]},
]


def test_saving_twice_updates_one_conversation_newest_first():
    store, first = C.save(C.EMPTY, None, TURNS[:1])
    store, second = C.save(store, None, TURNS)
    store, again = C.save(store, first, TURNS)
    assert again == first and [c["id"] for c in C.conversations(store)] == [first, second]
    assert C.choices(store)[0][1] == first and C.choices(store)[0][0].startswith("How many nations pledged troops?")


def test_deleting_and_damaged_stores():
    store, conv = C.save(C.EMPTY, None, TURNS)
    assert C.conversations(C.delete(store, conv)) == []
    assert C.conversations({"conversations": [{"id": "x"}, "junk", None]}) == []  # what a browser may hold
    assert C.conversations(None) == [] and C.find(None, "x") is None


def test_exports_keep_every_citation_and_leave_out_the_pages_html():
    conv = {"id": "c1", "title": C.title_of(TURNS), "turns": TURNS}
    markdown = C.to_markdown(conv)
    assert "## Q: How many nations pledged troops?" in markdown and "**26**" in markdown
    assert "[1] 004.txt: Paris" in markdown and "> 26 nations have pledged" in markdown
    data = json.loads(C.to_json(conv))
    assert data["turns"][1]["citations"][0]["quote"] == "26 nations have pledged"
    assert all("shown" not in t for t in data["turns"])
