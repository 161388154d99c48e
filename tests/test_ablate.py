"""evals/ablate.py: a rule switched off says "fine" where it is used, and only while switched off."""

from __future__ import annotations

from evals.ablate import RULES, switched_off, table
from rag.answering import extractive, reading


def test_every_rule_names_a_function_at_its_place_of_use():
    for rule in RULES:
        for target in rule.targets:
            module, name = target.split(":")
            assert callable(getattr({"rag.answering.reading": reading, "rag.answering.extractive": extractive}[module], name))


def test_a_rule_switched_off_is_neutral_and_comes_back_after():
    rule = next(r for r in RULES if r.name == "span-fits")
    original = reading.span_fits
    with switched_off(rule):
        assert reading.span_fits(None, "anything", None) is True
    assert reading.span_fits is original


def test_the_table_shows_changes_against_all_rules_on():
    result = {"external": {"(all on)": {"correctness": 0.5, "abstention": 0.9, "direct_precision": None, "questions": 4},
                           "span-fits": {"correctness": 0.6, "abstention": 0.8, "direct_precision": None, "questions": 4}}}
    lines = table(result).splitlines()
    assert "0.500" in lines[2] and "0.900" in lines[2]
    assert "+0.100" in lines[3] and "-0.100" in lines[3]
