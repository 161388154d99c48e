"""Different figures for one quantity are ordered newest first; recency breaks ranking ties."""

from __future__ import annotations

import datetime as dt

import pytest

from rag.answering.recency import (
    Claim,
    compose_revision,
    conflicting_figures,
    extract_figures,
    latest_revision,
    order_conflicting,
    recency_tiebreak,
)
from rag.settings import Settings

FEB, MAR, APR = dt.date(2025, 2, 3), dt.date(2025, 3, 25), dt.date(2025, 4, 2)
FIRST = Claim("The new stadium will cost £1.8 billion, the club said.", "first.txt", FEB, 0.9)
REVISED = Claim("The estimated cost of the stadium has risen to £2.1 billion, the club said on Monday.", "revised.md", MAR, 0.7)


def figures(text: str) -> list[tuple[str, float, str, bool]]:
    return [(f.text, f.value, f.key, f.own) for f in extract_figures(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It will cost £1.8 billion.", [("£1.8 billion", 1.8e9, "£", True)]),
        ("It will cost £1,800 million.", [("£1,800 million", 1.8e9, "£", True)]),
        ("Sales reached $3.5bn and 40% of it came from Asia.", [("$3.5bn", 3.5e9, "$", True), ("40%", 40.0, "%", True)]),
        ("At least 12 people were injured.", [("12 people", 12.0, "people", True)]),
        ("Forty firefighters from five stations attended.",
         [("Forty firefighters", 40.0, "firefighter", True), ("five stations", 5.0, "station", True)]),
        ("The school has 1,150 pupils.", [("1,150 pupils", 1150.0, "pupil", True)]),
        ("A 2-mile section will be in a cutting.", [("2-mile", 2.0, "mile", True)]),
        ("Inflation was 3.4 per cent.", [("3.4 per cent", 3.4, "%", True)]),
        # a change, and a value referred back to, are not the sentence's own figure
        ("The new figure is £300 million higher than the £1.8 billion announced in February.",
         [("£300 million", 3e8, "£", False), ("£1.8 billion", 1.8e9, "£", False)]),
        ("The toll rose from 9 people to 12 people.", [("9 people", 9.0, "people", False), ("12 people", 12.0, "people", True)]),
        # years, dates, times and bare counts name no quantity
        ("The line opens in 2031 and the fire started after 7pm on 3 March.", []),
        ("One of the 28 was closed at 10:30.", []),
    ],
)
def test_extract_figures(text: str, expected: list[tuple[str, float, str, bool]]) -> None:
    assert figures(text) == expected


def test_different_figures_for_one_quantity_conflict() -> None:
    pair = conflicting_figures(REVISED, FIRST)
    assert pair is not None and (pair[0].text, pair[1].text) == ("£2.1 billion", "£1.8 billion")
    same = Claim("The stadium is expected to cost £1.8bn.", "copy.txt", MAR, 0.5)
    assert conflicting_figures(FIRST, same) is None  # same value, other spelling
    other_quantity = Claim("The stadium will hold 60,000 fans.", "fans.txt", MAR, 0.5)
    assert conflicting_figures(FIRST, other_quantity) is None


def test_order_conflicting_is_newest_first() -> None:
    earliest = Claim("Officials first said 12 people had been hurt.", "a.txt", FEB, 0.95)
    latest = Claim("The number of injured has risen to 15 people.", "c.txt", APR, 0.6)
    middle = Claim("Hospitals said 14 people were still being treated.", "b.txt", MAR, 0.8)
    unrelated = Claim("The bridge reopened to traffic.", "d.txt", APR, 0.99)
    assert order_conflicting([earliest, unrelated, latest, middle]) == [latest, middle, earliest]
    assert order_conflicting([earliest, unrelated]) == []
    assert order_conflicting([]) == []


def test_undated_claims_come_last_and_equal_dates_by_score() -> None:
    undated = Claim("The stadium will cost £2.5 billion.", "undated.txt", None, 0.99)
    rival = Claim("A rival estimate puts the cost at £2.3 billion.", "rival.txt", MAR, 0.9)
    assert order_conflicting([undated, FIRST, REVISED, rival]) == [rival, REVISED, FIRST, undated]


def test_latest_revision_and_its_wording() -> None:
    newest, earlier = latest_revision([FIRST, REVISED])  # type: ignore[misc]
    assert (newest, earlier) == (REVISED, FIRST)
    assert compose_revision(newest, earlier) == "£2.1 billion (25 March 2025); earlier reported as £1.8 billion (3 February 2025)"
    assert compose_revision(newest, earlier, fmt=dt.date.isoformat, cite=(" [1]", " [2]")) == (
        "£2.1 billion (2025-03-25) [1]; earlier reported as £1.8 billion (2025-02-03) [2]"
    )


def test_no_revision_without_dates_or_disagreement() -> None:
    assert latest_revision([FIRST, Claim(REVISED.text, "same-day.txt", FEB, 0.5)]) is None  # same date: no "earlier"
    undated = Claim(REVISED.text, "undated.txt", None, 0.5)
    assert latest_revision([FIRST, undated]) is None
    assert compose_revision(undated, FIRST) is None
    assert compose_revision(REVISED, Claim("The club said the cost was £2.1 billion.", "x", FEB, 0.1)) is None


def test_a_revision_sentence_that_quotes_the_old_figure_still_leads() -> None:
    both = Claim("The cost has risen from £1.8 billion to £2.1 billion.", "revised.md", MAR, 0.7)
    assert compose_revision(both, FIRST) == "£2.1 billion (25 March 2025); earlier reported as £1.8 billion (3 February 2025)"


def test_recency_tiebreak() -> None:
    eps = Settings().recency_tie_epsilon
    items = [("old", 0.0300, FEB), ("new", 0.0300 - eps / 2, APR), ("undated", 0.0300, None),
             ("low", 0.0200, APR), ("mid", 0.0299 - eps * 2, MAR)]
    ranked = recency_tiebreak(items, key_score=lambda i: i[1], key_date=lambda i: i[2], epsilon=eps)
    assert [i[0] for i in ranked] == ["new", "old", "undated", "mid", "low"]
    exact = recency_tiebreak(items, key_score=lambda i: i[1], key_date=lambda i: i[2], epsilon=0.0)
    assert [i[0] for i in exact] == ["old", "undated", "new", "mid", "low"]  # only exact ties reorder
    assert recency_tiebreak([], key_score=float, key_date=lambda i: None, epsilon=eps) == []


TRAM_ARTICLES = {
    "tram-approved.md": "---\ntitle: Kellford tram extension approved\ndate: 2025-03-03\n---\n"
    "Kellford council approved the tram extension to Riverside on Monday. The tram extension will cost €40 million, "
    "the council said. Work is due to start in the autumn and the line should open in 2027.\n",
    "tram-cost-rises.md": "---\ntitle: Kellford tram extension over budget\ndate: 2025-04-22\n---\n"
    "The Kellford tram extension is running over budget. Its cost has risen to €48 million, council officials told a "
    "meeting on Tuesday, blaming higher steel prices. The opening date of 2027 is unchanged.\n",
    "pool.md": "---\ntitle: Riverton pool reopens\ndate: 2025-01-10\n---\nThe Riverton swimming pool reopened on Saturday. "
    "The Riverton swimming pool refurbishment, paid for by Marsh Vale Council, cost £2.4 million.\n",
    "budget.md": "---\ntitle: Marsh Vale Council sets its budget\ndate: 2025-01-29\n---\nMarsh Vale Council budget for "
    "Riverton includes £1.2 million for swimming lessons and flood defences. Council tax will rise by 3%.\n",
}


@pytest.mark.slow
def test_regression_the_tram_extension_cost_is_newest_first_with_and_without_the_older_article(tmp_path, onnx_embedder):
    """'How much will the tram extension cost?' gave the older €40 million in bold, the newer
    'has risen to €48 million' second and no revision note; with --since after the first article
    it said 'the corpus does not say'. The real models on invented articles: the newer figure
    leads both times, with the revision note when both are in scope; a council budget for the
    pool's town is still no revision of the pool's cost."""
    from rag.assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in TRAM_ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    assistant = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=corpus), embedder=onnx_embedder)
    assistant.ingest(progress=False)
    both = assistant.ask("How much will the tram extension cost?")
    assert both.citations[0].source == "tram-cost-rises.md" and "€48 million" in both.text.split("[1]")[0]
    assert both.revision is not None and both.revision.startswith("€48 million (22 April 2025)")
    later = assistant.ask("How much will the tram extension cost?", since="2025-04-01")
    assert not later.abstained and later.citations[0].source == "tram-cost-rises.md"
    pool = assistant.ask("How much did the Riverton swimming pool refurbishment cost?")
    assert pool.citations[0].source == "pool.md" and pool.revision is None
