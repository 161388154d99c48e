"""Corroboration (#35 item 1): other articles stating a cited fact in their own words; wire copies
and revised figures never count. Fixtures: tests/data/corroboration (the Saltley harbour bridge
in two outlets, a wire copy of one, a later revised cost, and the same amount in another story)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.answering.corroboration import Article, CorroborationPolicy, corroborates, reported_line
from rag.evidence import EvidenceSentence
from rag.settings import Settings
from rag.sources.outlet import outlet
from rag.types import Corroboration

FIXTURES = Path(__file__).resolve().parent / "data" / "corroboration"
HERALD, GAZETTE, POST = "herald-bridge-repairs.html", "gazette-bridge-repairs.html", "post-bridge-bill.html"
REVISED, LEISURE = "bridge-cost-rises.md", "leisure-centre.txt"
COST = "How much will the Saltley harbour bridge repairs cost?"


def policy(**changes) -> CorroborationPolicy:
    return CorroborationPolicy.from_settings(Settings(**changes).corroboration)


def sentence(text: str, source: str = "a.html", vector: np.ndarray | None = None) -> EvidenceSentence:
    vec = vector if vector is not None else np.zeros(4, dtype=np.float32)  # no vector agreement: words decide
    return EvidenceSentence(source, "", text, 0, len(text), source, 1, text, vec)


# ------------------------------------------------------------------ one pair
def test_the_same_figure_in_other_words_corroborates():
    a = sentence("Repairs to the harbour bridge in Saltley will cost £4.2 million, the council said.")
    b = sentence("The council has put the bill for mending Saltley's harbour bridge at £4.2m.", "b.html")
    assert corroborates(a, b, policy())


def test_a_different_figure_for_the_quantity_is_a_revision_not_corroboration():
    a = sentence("Repairs to the harbour bridge in Saltley will cost £4.2 million, the council said.")
    b = sentence("The cost of repairing the harbour bridge in Saltley has risen to £5.1 million.", "b.html")
    assert not corroborates(a, b, policy())


def test_the_same_figure_in_another_story_does_not_corroborate():
    a = sentence("Repairs to the harbour bridge in Saltley will cost £4.2 million, the council said.")
    b = sentence("A new leisure centre for Upper Leven will cost £4.2 million, with a pool.", "b.html")
    assert not corroborates(a, b, policy())


def test_a_bracketed_conversion_at_another_rate_is_no_revision():
    a = sentence("Parmalat collapsed with debts of about 14bn euros ($19bn; £10bn) after the fraud.")
    b = sentence("After the fraud came to light Parmalat collapsed, owing 14bn euros ($18.34bn; £9.6bn).", "b.html")
    assert corroborates(a, b, policy())


def test_the_same_name_in_the_same_role_saying_the_same_corroborates_and_saying_another_thing_does_not():
    a = sentence("Highways chief Martin Osei said the bridge work could not wait another winter.")
    same = sentence("The bridge work cannot wait another winter, said Martin Osei, the council's highways chief.", "b.html")
    other = sentence("Highways chief Martin Osei apologised to traders on the quay for the disruption.", "c.html")
    assert corroborates(a, same, policy()) and not corroborates(a, other, policy())


def test_close_sentence_vectors_are_one_story_when_few_words_are_shared():
    a = sentence("Salary caps: 12 clubs back the plan.", vector=np.array([1, 0, 0, 0], dtype=np.float32))
    b = sentence("Twelve teams supported limits on wages.", "b.html", np.array([0.9, 0.1, 0, 0], dtype=np.float32))
    assert not corroborates(a, b, policy(corroboration_story_cosine=0.95))
    # 'clubs'/'teams' are different nouns: the figure's quantity must agree too
    c = sentence("Wage limits: 12 clubs voted for them.", "c.html", np.array([0.9, 0.1, 0, 0], dtype=np.float32))
    assert corroborates(a, c, policy(corroboration_story_cosine=0.8))
    assert not corroborates(a, c, policy(corroboration_story_cosine=0.95, corroboration_story_words=5))


# ------------------------------------------------------------------ the line and the outlet
def test_the_line_counts_outlets_only_when_every_article_names_one():
    others = [Corroboration("b.html", "B", "2025-02-03", "q"), Corroboration("c.md", "C", None, "q")]
    named = {"a.html": Article("A", "2025-03-01", None, "Riverton Courier"), "b.html": Article("B", "2025-02-03", None, "Vale Echo"),
             "c.md": Article("C", None, None, "riverton courier")}
    assert reported_line("a.html", others, named) == \
        "Reported in 3 articles from 2 sources; first on 3 February 2025 (b.html)."
    unnamed = {**named, "c.md": Article("C", None, None, None)}
    assert reported_line("a.html", others, unnamed) == "Reported in 3 articles; first on 3 February 2025 (b.html)."
    assert reported_line("a.html", [], named) is None


def test_the_outlet_comes_from_the_page_or_the_front_matter_never_from_a_guess():
    assert outlet(FIXTURES / HERALD) == "Northfield Herald"  # JSON-LD publisher
    assert outlet(FIXTURES / GAZETTE) == "Leven Coast Gazette"  # <title> suffix after the headline
    assert outlet(FIXTURES / POST) == "Saltley Post"  # og:site_name
    assert outlet(FIXTURES / REVISED) == "Northfield Herald"  # front matter publisher
    assert outlet(FIXTURES / LEISURE) is None and outlet(FIXTURES / "missing.html") is None


# ------------------------------------------------------------------ the pipeline
@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    from rag.assistant import Assistant

    root = tmp_path_factory.mktemp("corroboration")
    shutil.copytree(FIXTURES, root / "corpus")
    assistant = Assistant(Settings(data_dir=root / "data", corpus_dir=root / "corpus", embedding_backend="hashing",
                                   rerank=False))
    assistant.ingest(progress=False)
    return assistant


def _by_source(answer: dict) -> dict[str, dict]:
    return {c["source"]: c for c in answer["citations"]}


def test_two_outlets_giving_one_figure_corroborate_a_wire_copy_does_not_and_a_revision_stays_one(bridge):
    answer = bridge.ask(COST).to_dict()
    cited = _by_source(answer)
    first = cited.get(HERALD) or cited[GAZETTE]  # one copy of the wire story is cited, the other is in also_in
    assert set(first["also_in"]) & {HERALD, GAZETTE}
    assert [c["source"] for c in first["corroborated_by"]] == [POST]
    assert set(first["corroborated_by"][0]) == {"source", "title", "published", "quote"}
    assert "£4.2m" in first["corroborated_by"][0]["quote"]
    # the revised cost leads, newest first, and nothing corroborates it
    assert answer["citations"][0]["source"] == REVISED and answer["citations"][0]["corroborated_by"] == []
    assert answer["revision"] and answer["revision"].index("£5.1 million") < answer["revision"].index("£4.2 million")
    assert LEISURE not in {c["source"] for cit in answer["citations"] for c in cit["corroborated_by"]}


def test_a_briefing_item_carries_its_corroboration_and_says_it_in_its_bullet(bridge):
    answer = bridge.ask("What is happening with the Saltley harbour bridge?")
    items = {i.source: i for i in answer.items}
    wire = items.get(HERALD) or items[GAZETTE]
    assert [c.source for c in items[POST].corroborated_by] == [wire.source]
    assert [c.source for c in wire.corroborated_by] == [POST]
    assert items[REVISED].corroborated_by == []  # a revised cost, and the name in it says another thing
    assert LEISURE not in items or items[LEISURE].corroborated_by == []
    as_json = {i["source"]: i for i in answer.to_dict()["items"]}
    assert [c["source"] for c in as_json[POST]["corroborated_by"]] == [wire.source]
    bullet = next(line for line in answer.text.splitlines() if POST.removesuffix(".html") in line or "£4.2m" in line)
    assert bullet.endswith(f"Reported in 2 articles from 2 sources; first on 2 May 2025 ({wire.source}).")


def test_a_lookup_says_how_widely_its_lead_fact_was_reported(bridge):
    answer = bridge.ask("Who says the crossing will be shut for six weeks this summer?", sources=[POST])
    assert not answer.abstained  # a filter narrows the answer, never the search for other reports
    line = answer.text.splitlines()[-1]
    assert line.startswith("Reported in 2 articles from 2 sources; first on 2 May 2025"), answer.text
    assert answer.reported == line and answer.to_dict()["reported"] == line
    assert answer.timings["corroborate_s"] < 1.0


def test_the_llm_check_of_numbers_shown_skips_the_reported_line_only(bridge):
    """Regression: CI's LLM test read 'Reported in 3 articles' as the model claiming a 3 its quotes lack."""
    from tests.test_real_llm import shown_unheld

    answer = bridge.ask("Who says the crossing will be shut for six weeks this summer?", sources=[POST]).to_dict()
    assert answer["reported"] and shown_unheld(answer) == []
    answer["text"] += " Seventeen lanes, 99 cars."
    assert shown_unheld(answer) == ["99"]


def test_switched_off_nothing_is_looked_for(bridge):
    before = bridge.settings
    bridge.settings = before.with_values(corroboration_enabled=False)
    try:
        answer = bridge.ask("What is happening with the Saltley harbour bridge?")
    finally:
        bridge.settings = before
    assert answer.items and all(not i.corroborated_by for i in answer.items) and "Reported in" not in answer.text


def test_a_second_copy_of_another_wire_story_is_not_a_second_report():
    from rag.answering.corroboration import corroborating

    claim = sentence("Eastmoor County Council has put the bill for mending Saltley's harbour bridge at £4.2m.", "post.html")
    copy = "Repairs to the harbour bridge in Saltley will cost £4.2 million, Eastmoor County Council said."
    pool = [sentence(copy, "herald.html"), sentence(copy, "gazette.html")]
    articles = {"post.html": Article("P", "2025-05-05", None, None), "herald.html": Article("H", "2025-05-02", "g", None),
                "gazette.html": Article("G", "2025-05-02", "g", None)}
    assert [c.source for c in corroborating(claim, pool, articles, policy())] == ["herald.html"]
    # ... and the claim's own wire copies never corroborate it
    mine = {**articles, "post.html": Article("P", "2025-05-05", "g", None)}
    assert corroborating(claim, pool, mine, policy()) == []


def test_newsrag_ask_json_carries_corroborated_by(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "corpus")
    env = {**os.environ, "NEWSRAG_EMBEDDING_BACKEND": "hashing", "NEWSRAG_RERANK": "false",
           "NEWSRAG_DATA_DIR": str(tmp_path / "data"), "NEWSRAG_CORPUS_DIR": str(tmp_path / "corpus")}
    subprocess.run([sys.executable, "-m", "ui.cli", "ingest"], env=env, check=True, capture_output=True, timeout=300)
    out = subprocess.run([sys.executable, "-m", "ui.cli", "ask", COST, "--json"], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    cited = _by_source(json.loads(out.stdout))
    first = cited.get(HERALD) or cited[GAZETTE]
    assert [c["source"] for c in first["corroborated_by"]] == [POST]


def test_regression_a_budget_line_sharing_only_the_councils_share_corroborated_the_flood_wall_cost():
    """Dated dev: 'It will cost £6.5 million, ... with £1.2 million from the council' was 'Reported in
    2 articles' because the budget gives '£1.2 million for flood defences along the Kell river'."""
    wall = sentence("It will cost £6.5 million, most of it from the Environment Agency, with £1.2 million from the "
                    "council, for the flood wall along the Kell river.")
    budget = sentence("The budget includes £3 million to repair potholes, £1.2 million for flood defences along the "
                      "Kell river and a freeze on parking charges.", "budget.md")
    assert not corroborates(wall, budget, policy()) and not corroborates(budget, wall, policy())


def test_the_page_timeline_shows_an_items_line(bridge):
    from ui.render import briefing_timeline

    answer = bridge.ask("What is happening with the Saltley harbour bridge?")
    post = next(i for i in answer.items if i.source == POST)
    assert post.reported and post.reported.startswith("Reported in 2 articles from 2 sources")
    assert post.to_dict()["reported"] == post.reported
    html = briefing_timeline(answer, 0)
    assert html.count("Reported in 2 articles from 2 sources") == 2  # the post's item and the wire story's


def test_the_api_and_mcp_answers_carry_corroborated_by(bridge):
    from ui.api import answer_fields
    from ui.mcp_server import _ask

    api = answer_fields(bridge.ask(COST))
    mcp = _ask(bridge, COST, None, None, None)
    for citations in (api["citations"], mcp["citations"]):
        cited = {c["source"]: c for c in citations}
        first = cited.get(HERALD) or cited[GAZETTE]
        assert [c["source"] for c in first["corroborated_by"]] == [POST]
    json.dumps(api)  # plain JSON, no dataclass left in it


def test_for_a_who_question_the_same_name_in_the_same_role_is_the_fact():
    from dataclasses import replace

    a = sentence("Regional transport commissioner Helen Marsh said the project still offered good value.")
    b = sentence("Transport commissioner Helen Marsh said the new bus route would help.", "b.html")
    c = sentence("Helen Marsh, a local teacher, said the new bus route would help.", "c.html")
    assert not corroborates(a, b, policy())  # she says another thing: no report of the same
    assert corroborates(a, b, replace(policy(), who=True)) and not corroborates(a, c, replace(policy(), who=True))


def test_a_who_lookup_counts_the_articles_naming_the_person_in_the_role(bridge):
    answer = bridge.ask("Who is the council's highways chief?")
    assert not answer.abstained and "Osei" in answer.text
    others = {c.source for c in answer.citations[0].corroborated_by}
    assert others and others <= {HERALD, GAZETTE, REVISED} and not {HERALD, GAZETTE} <= others
    assert "Reported in 2 articles from 2 sources" in answer.text.splitlines()[-1]
