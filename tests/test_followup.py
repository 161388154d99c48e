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
