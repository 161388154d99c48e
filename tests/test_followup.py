"""Follow-up rewriting (rules, no model)."""

from __future__ import annotations

from rag.answering.followup import is_follow_up, standalone_question

DRONES = "How many drones did Russia fire across Ukraine overnight?"


def test_standalone_question_is_kept():
    assert standalone_question(DRONES, [{"role": "user", "content": "Who is Macron?"}]) == DRONES


def test_elliptical_follow_up_takes_the_previous_topic():
    history = [{"role": "user", "content": DRONES}, {"role": "assistant", "content": "112 [1]"}]
    assert standalone_question("And how many were intercepted?", history) == f"{DRONES} And how many were intercepted?"


def test_regression_follow_up_of_a_follow_up_keeps_the_topic():
    history = [
        {"role": "user", "content": DRONES},
        {"role": "assistant", "content": "112 [1]"},
        {"role": "user", "content": "And how many were intercepted?"},
        {"role": "assistant", "content": "84 [1]"},
    ]
    assert standalone_question("And how many were intercepted?", history).startswith(DRONES)


def test_follow_up_without_history_stays_as_is():
    assert standalone_question("And how many?", None) == "And how many?"


def test_detection():
    assert is_follow_up("What about Germany?") and is_follow_up("Why?")
    assert not is_follow_up("How many nations pledged troops to the reassurance force?")


# ------------------------------------------------------------ facets of the previous answer
from fakes import FakeCrossEncoder, passages, sentence_evidence  # noqa: E402
from test_postprocess import chunk  # noqa: E402

from rag.answering.extractive import Policy, compose  # noqa: E402
from rag.answering.question import Question  # noqa: E402
from rag.settings import Settings  # noqa: E402

BRIDGES = "How many bridges did the Kell council open this spring?"
STORY = chunk(
    "c1",
    "The Kell council opened 14 bridges this spring, mayor Alice Brennan announced. "
    "The bridges cost far less than planned. Crews from Dunmore built most of them.",
)


def answer(question: str, history: list[dict] | None = None):
    asked = Question.analyse(question, history)
    sentences = sentence_evidence(FakeCrossEncoder(), candidates=10).run(asked.query, passages([STORY]))
    policy = Policy.from_settings(Settings(answer_min_logit=-10.0), reranked=True)
    return asked, compose(asked, sentences, policy)


def test_previous_sources_travel_with_the_follow_up():
    history = [{"role": "user", "content": BRIDGES}, {"role": "assistant", "content": "x [1]", "sources": ["a.txt"]}]
    asked = Question.analyse("And who announced it?", history)
    assert asked.follow_up and list(asked.previous_sources) == ["a.txt"] and asked.query.startswith(BRIDGES)


def test_another_facet_is_answered_without_repeating_the_previous_sentence():
    _, first = answer(BRIDGES)
    assert first.direct == "14 bridges" and "mayor Alice Brennan" in first.text
    history = [{"role": "user", "content": BRIDGES}, {"role": "assistant", "content": first.text, "sources": ["a.txt"]}]
    _, second = answer("And who built them?", history)
    assert not second.abstained and second.text.startswith("Crews from Dunmore")
    assert first.citations[0].quote not in second.text


FILM = [{"role": "user", "content": "Why was the release of the film Black Friday postponed?"},
        {"role": "assistant", "content": "Because of protests by those on trial. [1]"}]


def test_a_short_question_whose_the_noun_is_the_topics_refers_back():
    assert standalone_question("Who directed the film?", FILM) == (
        "Why was the release of the film Black Friday postponed? Who directed the film?")
    # 'the election' is not a noun of the topic, and a name makes a question its own.
    assert standalone_question("Who won the election?", FILM) == "Who won the election?"
    assert standalone_question("Who directed the film Titanic?", FILM) == "Who directed the film Titanic?"


def test_a_follow_up_naming_nobody_keeps_its_topics_names_for_the_reader():
    """The reader reads a follow-up's own words ("And who directed it?"); the names a passage
    must hold near its span are the topic's, else any film's director answers."""
    assert Question.analyse("And who directed it?", FILM).subject_names == ("Black",)  # 'Friday' is a weekday word
    assert Question.analyse("And what about Germany?", FILM).subject_names == ("Germany",)
    assert Question.analyse("Who directed Titanic?", FILM).subject_names == ("Titanic",)
    assert Question.analyse("Who won the election?", FILM).subject_names == ()
