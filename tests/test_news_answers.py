"""News-aware answers: the newest figure first when articles disagree, recency breaks ties, and
"on Monday" in a "when" answer becomes the calendar day of the article's week."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from dataclasses import replace

from fakes import FakeCrossEncoder, passages, sentence_evidence
from llama_index.core.schema import NodeWithScore
from test_postprocess import chunk

from rag.answering import nodes as N
from rag.answering.answerability import Kind
from rag.answering.calibrator import Signals
from rag.answering.direct import direct_answer, when_answer
from rag.answering.extractive import Policy, answering_sentences, compose
from rag.answering.question import Question
from rag.evidence import EvidenceSentence
from rag.settings import Settings

COST = "How much will the Vale Line rail link cost?"
# The older article echoes the question more closely, so it outscores the newer one.
OLD = chunk("old", "The Vale Line rail link will cost £1.8 billion, the Riverton and Kellford transport authority announced.",
            source="announced.html", published="2025-02-03")
NEW = chunk("new", "Its estimated price has risen to £2.1 billion, the Vale Line transport authority for Riverton and Kellford said.",
            start=0, source="revised.md", published="2025-03-25")


def signals(reader: float, relevance: float) -> Signals:
    """A sure reading's signals: the kind asked for, its names near, no rival answer."""
    return Signals(reader=reader, relevance=relevance, fits=1.0, names=1.0, agree=0.0, gap=20.0, rank=1.0, retrieval=1.0, words=2.0)


def sentences(question: str, chunks: list[NodeWithScore]) -> list[EvidenceSentence]:
    return sentence_evidence(FakeCrossEncoder(), candidates=10).run(question, passages(chunks))


def ask(question: str, chunks: list[NodeWithScore], **settings):
    policy = Policy.from_settings(Settings(**{"answer_min_logit": -10.0, **settings}), reranked=True)
    return compose(Question.analyse(question), sentences(question, chunks), policy)


def test_the_old_article_scores_higher_on_its_own():
    scored = sentences(COST, [OLD, NEW])
    assert scored[0].source == "announced.html" and scored[0].score > scored[1].score


def test_a_revised_figure_is_answered_newest_first_with_the_earlier_one_after_it():
    answer = ask(COST, [OLD, NEW])
    assert answer.text == (
        "Its estimated price has risen to £2.1 billion, the Vale Line transport authority for Riverton and Kellford said. [1] "
        "The Vale Line rail link will cost £1.8 billion, the Riverton and Kellford transport authority announced. [2]"
    )
    assert [c.source for c in answer.citations] == ["revised.md", "announced.html"]
    assert answer.direct == "£2.1 billion"
    assert answer.revision == "£2.1 billion (25 March 2025) [1]; earlier reported as £1.8 billion (3 February 2025) [2]"


def test_the_earlier_figure_is_added_even_below_the_usual_cut():
    # The newer sentence scores best here; the older one is far below the margin of further sentences.
    new = chunk("new", "The Vale Line rail link will now cost £2.1 billion, the Riverton and Kellford transport authority said.",
                start=0, source="revised.md", published="2025-03-25")
    old = chunk("old", "Riverton and Kellford transport officials put the price of the Vale Line at £1.8 billion.",
                source="announced.html", published="2025-02-03")
    scored = sentences(COST, [old, new])
    assert scored[0].score - scored[1].score > 0.5
    answer = ask(COST, [old, new], answer_relative_margin=0.5)
    assert [c.source for c in answer.citations] == ["revised.md", "announced.html"]
    assert answer.text.startswith("The Vale Line rail link will now cost £2.1 billion") and answer.direct == "£2.1 billion"
    # Without a date on the older article there is no revision to tell: the usual cut applies.
    undated = chunk("old", N.text(old), source="announced.html")
    assert [c.source for c in ask(COST, [undated, new], answer_relative_margin=0.5).citations] == ["revised.md"]


def test_articles_of_one_date_are_not_a_revision():
    same_day = chunk("new", N.text(NEW), start=0, source="revised.md", published="2025-02-03")
    answer = ask(COST, [OLD, same_day])
    assert answer.citations[0].source == "announced.html" and answer.revision is None
    assert answer.direct == "£1.8 billion"


def test_a_figure_of_another_quantity_is_no_revision():
    other = chunk("new", "The Vale Line rail link will need 3 new stations, the authority said.", start=0,
                  source="revised.md", published="2025-03-25")
    answer = ask(COST, [OLD, other])
    assert answer.citations[0].source == "announced.html" and answer.revision is None


def test_an_amount_from_another_story_is_no_revision():
    wall = chunk("w", "The Kell river flood wall will cost £6.5 million, with £1.2 million from the council.",
                 source="wall.html", published="2025-01-10")
    budget = chunk("b", "The council budget includes £3 million to repair potholes and £1.2 million for Kell river flood defences.",
                   start=0, source="budget.md", published="2025-01-29")
    question = "How much will the Kell river flood wall cost?"
    answer = ask(question, [wall, budget])
    assert answer.citations[0].source == "wall.html" and answer.revision is None and answer.direct == "£6.5 million"
    # The guard is what keeps it out: without it the newer amount would be taken for a revision.
    assert ask(question, [wall, budget], answer_revision_shared_words=0).citations[0].source == "budget.md"


def test_regression_a_newer_budget_amount_the_reader_found_no_answer_in_displaced_its_answer():
    """The reader answered a pool's refurbishment cost; a later council budget for the same town
    shares its story words ('Riverton', 'Marsh Vale Council') and gives another amount, so it led
    as the cost 'revised', bold '£1.2 million'. The reader had read the budget and found no answer
    there: a newer figure from such an article is no revision."""
    from rag.answering.extractive import compose_read
    from rag.answering.reading import Reading

    pool = chunk("p", "The Riverton swimming pool refurbishment, paid for by Marsh Vale Council, cost £2.4 million.",
                 source="pool.html", published="2025-01-10")
    budget = chunk("b", "Marsh Vale Council budget for Riverton includes £1.2 million for swimming lessons and flood defences.",
                   start=0, source="budget.md", published="2025-01-29")
    question = "How much did the Riverton swimming pool refurbishment cost?"
    scored = sentences(question, [pool, budget])
    lead = next(s for s in scored if s.source == "pool.html")
    at = lead.start + lead.text.index("£2.4 million")
    reading = Reading(lead, at, at + len("£2.4 million"), "£2.4 million", margin=-10.0, relevance=lead.score,
                      signals=signals(10.0, lead.score), probability=0.9)
    policy = Policy.from_settings(Settings(answer_min_logit=-10.0), reranked=True)

    def answer(unanswered):
        return compose_read(Question.analyse(question), reading, scored, policy, lambda r: r.span, unanswered)

    assert answer(frozenset()).citations[0].source == "budget.md"  # the story words alone let it through
    fixed = answer(frozenset({"budget.md"}))
    assert fixed.citations[0].source == "pool.html" and fixed.revision is None and fixed.direct == "£2.4 million"


def _titled(node: NodeWithScore, title: str) -> NodeWithScore:
    node.node.metadata["title"] = title
    return node


TRAM_Q = "How much will the tram extension cost?"
TRAM_OLD = _titled(chunk("t1", "The tram extension will cost €40 million, the council said.", source="approved.md",
                         published="2025-03-03"), "Kellford tram extension approved")
# The newer sentence names its tram only in the headline: the cross-encoder scores it low alone,
# and the reader may doubt it.
TRAM_NEW = _titled(chunk("t2", "Its cost has risen to €48 million, council officials said on Tuesday.", start=0,
                         source="rises.md", published="2025-04-22"), "Kellford tram extension over budget")


def _tram_readings(doubt: float) -> "Reading":
    from rag.answering.reading import Reading

    scored = sentences(TRAM_Q, [TRAM_OLD, TRAM_NEW])
    old, new = (next(s for s in scored if s.source == src) for src in ("approved.md", "rises.md"))
    at_old, at_new = old.start + old.text.index("€40 million"), new.start + new.text.index("€48 million")
    rival = Reading(new, at_new, at_new + 11, "€48 million", margin=-2.0, relevance=7.1, signals=signals(2.0, 7.1),
                    probability=doubt)
    return Reading(old, at_old, at_old + 11, "€40 million", margin=-12.0, relevance=8.6, signals=signals(12.0, 8.6),
                   probability=0.95, others=(rival,)), scored


@pytest.mark.parametrize("doubt", [0.05, 0.9])
def test_regression_a_revised_cost_the_reader_doubted_came_second_with_no_revision_note(doubt):
    """'How much will the tram extension cost?' gave the older €40 million in bold and quoted the
    newer 'has risen to €48 million' second, with no revision note: the newer sentence names its
    tram only in its headline (so it was no answering sentence) and the reader doubted it (so its
    article counted as one with no answer). Newest first is a news rule: whatever the reader's
    doubt, a newer figure whose headline and sentence name all the question asks about revises."""
    from rag.answering.extractive import compose_read

    reading, scored = _tram_readings(doubt)
    policy = Policy.from_settings(Settings(), reranked=True)
    unanswered = frozenset({"rises.md"}) if doubt < 0.5 else frozenset()
    answer = compose_read(Question.analyse(TRAM_Q), reading, scored, policy, lambda r: r.span, unanswered)
    assert [c.source for c in answer.citations] == ["rises.md", "approved.md"]
    assert answer.direct == "€48 million"
    assert answer.revision == "€48 million (22 April 2025) [1]; earlier reported as €40 million (3 March 2025) [2]"


def test_near_identical_sentences_with_different_figures_are_not_merged_as_one_fact():
    a = chunk("a", "The Vale Line rail link will cost £1.8 billion, the Riverton and Kellford transport authority said.",
              source="a.txt", published="2025-02-03")
    b = chunk("b", "The Vale Line rail link will cost £2.1 billion, the Riverton and Kellford transport authority said.",
              start=0, source="b.txt", published="2025-03-25")
    answer = ask(COST, [a, b])
    assert answer.text.count("[") == 2 and "£2.1 billion" in answer.text and "£1.8 billion" in answer.text
    assert answer.text.startswith("The Vale Line rail link will cost £2.1 billion")


def _scored(text: str, score: float, published: str, source: str) -> EvidenceSentence:
    return replace(sentences(COST, [chunk(source, text, source=source, published=published)])[0], score=score)


def test_recency_breaks_near_ties_in_the_score_s_own_units():
    older = _scored("The Vale Line rail link budget was set by the council in spring.", 5.0, "2025-02-03", "a.txt")
    newer = _scored("The Vale Line rail link budget is the largest the region has seen.", 4.9, "2025-03-25", "b.txt")
    far = _scored("The Vale Line rail link budget covers stations and trains alike.", 4.0, "2025-04-01", "c.txt")
    conv = Question.analyse("What is the Vale Line rail link budget?")
    tied = Policy.from_settings(Settings(answer_min_logit=-10.0), reranked=True)
    assert tied.recency_tie == 0.25
    assert [s.source for s in answering_sentences(conv, [older, newer, far], tied)] == ["b.txt", "a.txt", "c.txt"]
    strict = Policy.from_settings(Settings(answer_min_logit=-10.0, answer_recency_tie_logit=0.0), reranked=True)
    assert [s.source for s in answering_sentences(conv, [older, newer, far], strict)] == ["a.txt", "b.txt", "c.txt"]
    # The pre-score (no reranker) has its own, smaller unit.
    assert Policy.from_settings(Settings(), reranked=False).recency_tie == Settings().answer_recency_tie_prescore


# ------------------------------------------------------------------ dates inside answers
MONDAY = "Inspectors found cracks in two of the pontoon's floats on Monday morning, the council said."
JAN_8 = dt.date(2025, 1, 8)  # a Wednesday


def test_a_weekday_becomes_the_calendar_day_of_the_article_s_week():
    assert when_answer(MONDAY, JAN_8) == "Monday 6 January 2025"
    assert when_answer("The ferry stopped running yesterday.", JAN_8) == "Tuesday 7 January 2025"
    assert when_answer("The mayor visited last Friday.", JAN_8) == "Friday 3 January 2025"
    assert when_answer("The ferry will run again on Monday.", JAN_8) == "Monday 13 January 2025"


def test_explicit_dates_stay_as_written_and_undated_articles_keep_the_weekday():
    assert when_answer("The ferry returned on 3 March, the council said on Monday.", JAN_8) == "3 March"
    assert when_answer("The line will open in 2031, officials said on Monday.", JAN_8) == "2031"
    assert when_answer(MONDAY, None) == "Monday morning"
    # A dateline is the paper's date, not the event's.
    assert when_answer("RIVERTON, January 8, 2025 — The ferry was suspended yesterday.", JAN_8) == "Tuesday 7 January 2025"


def test_when_questions_get_the_resolved_day_through_compose():
    story = chunk("f", "The Kell river ferry was suspended. " + MONDAY, source="ferry.txt", published="2025-01-08")
    answer = ask("On what date did inspectors find the cracks in the pontoon floats?", [story])
    assert answer.direct == "Monday 6 January 2025" and answer.citations[0].published == "2025-01-08"
    assert direct_answer(Kind.DATE, Question.analyse("When?"), MONDAY, 0.8, 0.3) == "Monday morning"  # no date given: as written


def test_a_dateline_is_not_the_answer_to_when():
    story = chunk("f", "RIVERTON, January 8, 2025 — The Kell river ferry was suspended after damage to its pontoon. "
                  "Inspectors found the damage on Monday morning.", source="ferry.txt", published="2025-01-08")
    answer = ask("On what date did inspectors find the damage to the Kell river ferry pontoon?", [story])
    assert answer.text.startswith("Inspectors found the damage on Monday morning.")
    assert answer.direct == "Monday 6 January 2025"


# ------------------------------------------------------------------ the dated corpus, real models
DATED = Path(__file__).resolve().parents[1] / "evals" / "corpora" / "dated"


@pytest.mark.slow
def test_dated_corpus_rail_link_cost_is_the_revised_figure(tmp_path):
    import shutil

    from rag.assistant import Assistant

    corpus = tmp_path / "dated"
    shutil.copytree(DATED, corpus)
    assistant = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=corpus))
    assistant.ingest(progress=False)
    answer = assistant.ask("How much will the Vale Line rail link cost?")
    assert not answer.abstained
    assert answer.text.index("£2.1 billion") < answer.text.find("£1.8 billion") or "£1.8 billion" not in answer.text
    assert answer.citations[0].source == "rail-link-cost-revised.md"
    assert answer.direct is not None and "2.1 billion" in answer.direct


def test_a_sentence_in_two_overlapping_chunks_answers_whichever_chunk_ranks_first():
    # Regression: the sentence kept the context of the first chunk it came from, so when the chunk
    # without "Kestrel Wing" ranked first (e.g. after the chunk reranker), the name check failed.
    lead = chunk("a", "The Kestrel Wing opened at St Aldhelm's. The trust recruited 85 extra nurses.", source="wing.txt")
    shared = "The trust recruited 85 extra nurses."
    tail = chunk("b", f"{shared} Parking remains a problem.", start=100 + N.text(lead).index(shared), source="wing.txt")
    question = "How many nurses did the Kestrel Wing recruit?"
    for order in ([lead, tail], [tail, lead]):
        answer = ask(question, order)
        assert not answer.abstained and answer.direct == "85 extra nurses", order


# ------------------------------------------------------------------ yes/no with the reader's sentence
def test_regression_did_the_nasdaq_close_higher_quoted_the_market_in_general():
    """'Did the Nasdaq also close higher?' quoted the cross-encoder's best sentence, on the market
    in general, and gave no verdict; the sentence the reader reads its span from names the Nasdaq
    and says it rose: it joins the candidates, scored by its relevance under its headline."""
    from rag.answering.reading import Reading

    question = "Did the Nasdaq close higher after the election?"
    general = _scored("The US stock market has closed higher in response to the election result.", 5.7, "2025-02-03", "m.txt")
    nasdaq = _scored("The Dow Jones closed 1% higher at 10,137, while the Nasdaq rose 0.9% to 2,004.", 0.5, "2025-02-03", "m.txt")
    conv = Question.analyse(question)
    policy = Policy.from_settings(Settings(), reranked=True)
    without = compose(conv, [general, nasdaq], policy)
    assert "Nasdaq" not in without.text and without.direct is None  # 0.5 is below the answer bar alone
    reading = Reading(nasdaq, nasdaq.start, nasdaq.start + 4, "0.9%", margin=-4.6, relevance=7.8, signals=signals(4.6, 7.8),
                      probability=0.7)
    answer = compose(conv, [general, nasdaq], policy, reading)
    assert answer.text.startswith("The Dow Jones closed 1% higher") and answer.direct == "Yes"
