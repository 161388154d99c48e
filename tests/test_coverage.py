"""A briefing's coverage (#35 item 3): its stories per day or week, counted over every story it
found, undated ones apart; shown as one line of bars in the CLI and carried by the API."""

from __future__ import annotations

from pathlib import Path

import pytest

from fake_openai import fake_openai  # noqa: F401 - a fixture
from rag.answering.coverage import count_coverage

DATED = Path(__file__).resolve().parents[1] / "evals" / "corpora" / "dated"


def test_a_short_span_counts_per_day_with_empty_days_at_zero():
    cov = count_coverage(["2025-02-03", "2025-02-05", "2025-02-05", None], day_span=21)
    assert cov.unit == "day" and cov.undated == 1 and cov.stories == 4
    assert [(b.start, b.label, b.count) for b in cov.bins] == [
        ("2025-02-03", "3 Feb", 1), ("2025-02-04", "4 Feb", 0), ("2025-02-05", "5 Feb", 2)]
    assert cov.span == "3–5 February 2025"


def test_three_weeks_is_the_last_span_counted_per_day_then_iso_weeks():
    assert count_coverage(["2025-02-03", "2025-02-23"], day_span=21).unit == "day"  # 21 days, 21 bars
    weekly = count_coverage(["2025-02-05", "2025-02-24", "2025-02-26", "2025-03-02"], day_span=21)
    assert weekly.unit == "week"
    # Each bin is an ISO week, named by its Monday; 2 March 2025 is a Sunday, in the week of 24 February.
    assert [(b.start, b.count) for b in weekly.bins] == [("2025-02-03", 1), ("2025-02-10", 0), ("2025-02-17", 0),
                                                          ("2025-02-24", 3)]
    assert weekly.span == "5 February – 2 March 2025"


def test_only_undated_stories_have_no_bins_and_no_stories_no_coverage():
    cov = count_coverage([None, None], day_span=21)
    assert cov.bins == [] and cov.undated == 2 and cov.stories == 2 and cov.span == ""
    assert count_coverage([], day_span=21) is None


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    from rag.assistant import Assistant
    from rag.settings import Settings

    a = Assistant(Settings(data_dir=tmp_path_factory.mktemp("coverage"), corpus_dir=DATED,
                           embedding_backend="hashing", rerank=False))
    a.ingest(progress=False)
    return a


def test_a_briefing_counts_every_story_it_found_not_only_those_shown(dated):
    answer = dated.ask("What happened?")
    cov = answer.coverage
    assert answer.kind == "briefing" and answer.topic == "" and "more stories matched" in answer.text
    # 15 files, one wire story in two outlets: 14 stories, 6 shown; one has no publication date.
    assert len(answer.items) == 6 and cov.stories == 14 and cov.undated == 1
    assert cov.unit == "week" and cov.span == "8 January – 16 April 2025"
    assert sum(b.count for b in cov.bins) == 13


def test_a_topic_briefing_carries_its_topic_and_a_lookup_no_coverage(dated):
    briefing = dated.ask("What is happening with the Vale Line rail link?")
    assert briefing.topic == "the Vale Line rail link" and briefing.coverage is not None
    data = briefing.to_dict()
    assert data["topic"] == "the Vale Line rail link"
    assert data["coverage"]["stories"] == briefing.coverage.stories
    assert {"start", "label", "count"} == set(data["coverage"]["bins"][0])
    lookup = dated.ask("How much will the rail link cost?")
    assert lookup.kind == "fact" and lookup.coverage is None and lookup.topic is None
    assert lookup.to_dict()["coverage"] is None


def test_the_cli_prints_one_line_of_bars_under_a_briefing(dated):
    from ui.cli import format_answer
    from ui.render import coverage_line

    answer = dated.ask("What happened in February 2025?")
    line = coverage_line(answer.coverage)
    # 3, 11 (its wire copy of 12 is the same story), 20, 24 and 27 February: two in the week of the 24th.
    assert line == "coverage (per week, 3–27 February 2025): ▅▅▅█  5 stories"
    printed = format_answer(answer).split("\n")
    assert line in printed and printed.index(line) > printed.index(next(p for p in printed if p.startswith("- ")))
    assert "coverage" not in format_answer(dated.ask("How much will the rail link cost?"))


def test_bars_scale_to_the_busiest_bin_and_an_empty_bin_is_the_lowest():
    from ui.render import coverage_bars, coverage_line

    cov = count_coverage(["2025-02-03"] * 8 + ["2025-02-05"], day_span=21)
    assert coverage_bars(cov) == "█▁▂"
    assert coverage_line(count_coverage([None], day_span=21)) == "coverage: 1 story, none with a publication date"
    assert coverage_line(count_coverage(["2025-02-03", None], day_span=21)).endswith("█  2 stories, 1 undated")


def test_the_api_and_mcp_carry_the_counts_and_the_topic(dated):
    from fastapi.testclient import TestClient

    from ui.mcp_server import _ask
    from ui.server import create_app

    question = "What is happening with the Vale Line rail link?"
    expected = dated.ask(question).to_dict()["coverage"]
    with TestClient(create_app(dated), raise_server_exceptions=False) as http:
        body = http.post("/v1/chat/completions", json={"model": "newsrag", "messages": [
            {"role": "user", "content": question}]}).json()
    assert body["kind"] == "briefing" and body["topic"] == "the Vale Line rail link" and body["coverage"] == expected
    mcp = _ask(dated, question, None, None, None)
    assert mcp["coverage"] == expected and mcp["topic"] == "the Vale Line rail link"
    assert _ask(dated, "How much will the rail link cost?", None, None, None)["coverage"] is None


# ------------------------------------------------------------------ the page (ui.handlers over a fake)
ITEM = {"published": "2025-04-22", "source": "rail-link-inquiry.md", "title": "Rail link <inquiry> opens",
        "url": None, "sentences": [{"text": "A public inquiry opened on Tuesday.", "marker": 1}], "also_in": [],
        "event_date": None}


def _briefing_turns(topic, coverage):
    return [{"role": "user", "content": "q", "shown": "q"},
            {"role": "assistant", "content": "a", "shown": "a", "topic": topic, "coverage": coverage}]


def test_the_page_shows_the_plot_and_follow_under_a_briefing_only():
    from tests.fakes import FakeFollowing
    from ui.handlers import Handlers

    h = Handlers(FakeFollowing())
    coverage = count_coverage(["2025-02-03", "2025-02-05", None], day_span=21).to_dict()
    plot, follow, topic = h.briefing_extras(_briefing_turns("the rail link", coverage))
    assert plot["visible"] and list(plot["value"]["when"]) == ["3 Feb", "4 Feb", "5 Feb"] == plot["sort"]
    assert list(plot["value"]["stories"]) == [1, 0, 1] and plot["y_lim"] == [0, 6] and plot["x_label_angle"] == 0
    assert plot["label"] == "Stories per day" and plot["caption"] == "3–5 February 2025 · 3 stories, 1 undated"
    assert plot["x_title"] == "day"
    assert follow["visible"] and follow["interactive"] and follow["value"] == "Follow “the rail link”"
    assert topic == "the rail link"
    # A period alone ("what happened in March") has a plot but nothing to follow; a lookup neither.
    plot, follow, topic = h.briefing_extras(_briefing_turns("", coverage))
    assert plot["visible"] and not follow["visible"] and topic is None
    plot, follow, topic = h.briefing_extras(_briefing_turns(None, None))
    assert not plot["visible"] and not follow["visible"] and topic is None
    assert not h.briefing_extras([])[0]["visible"]


def test_follow_then_what_s_new_counts_lists_and_marks_seen():
    from tests.fakes import FakeFollowing
    from ui.handlers import Handlers

    topics = FakeFollowing()
    h = Handlers(topics)
    assert h.whats_new_count()["label"] == "What's new · follow a briefing's topic to see its new stories here"
    button, title = h.follow("the rail link")
    assert button["value"] == "Following “the rail link” ✓" and not button["interactive"]
    assert title["label"] == "What's new · following 1 topic, up to date"
    # Followed already: the button says so when the briefing is shown again.
    assert not h.briefing_extras(_briefing_turns("The  rail LINK", None))[1]["interactive"]
    topics.land("the rail link", ITEM)
    assert h.whats_new_count()["label"] == "What's new · 1 new story"
    panel, title = h.whats_new()
    assert "22 April 2025" in panel and "Rail link &lt;inquiry&gt; opens" in panel and "rail-link-inquiry.md" in panel
    assert "<inquiry>" not in panel and title["label"] == "What's new · following 1 topic, up to date"
    panel, _ = h.whats_new()
    assert "Nothing new since you last looked." in panel and "22 April 2025" not in panel


def test_a_bad_follow_is_one_line_not_a_traceback():
    from tests.fakes import FakeFollowing
    from ui.handlers import Handlers

    with pytest.warns(UserWarning, match="^a topic to follow is needed$"):  # gr.Warning outside an event
        button, title = Handlers(FakeFollowing()).follow("   ")
    assert button == {"__type__": "update"} and title == {"__type__": "update"}


def test_the_timer_counts_again_only_when_the_index_or_the_topics_file_changed(tmp_path):
    """The count may run the cross-encoder over every new article: not every few seconds for nothing."""
    import os
    from types import SimpleNamespace

    from rag.topics import TOPICS_FILE
    from tests.fakes import FakeFollowing
    from ui.handlers import Handlers

    topics = FakeFollowing()
    topics.settings = SimpleNamespace(index=SimpleNamespace(data_dir=tmp_path))
    calls = []
    following = topics.following
    topics.following = lambda: calls.append(1) or following()
    h = Handlers(topics)
    topics.follow("the rail link")
    assert h.whats_new_count("index-1")["label"].endswith("up to date") and len(calls) == 1
    topics.land("the rail link", ITEM)
    assert h.whats_new_count("index-1")["label"].endswith("up to date") and len(calls) == 1  # nothing changed
    assert h.whats_new_count("index-2")["label"] == "What's new · 1 new story" and len(calls) == 2
    (tmp_path / TOPICS_FILE).write_text("{}", encoding="utf-8")  # a digest elsewhere (the CLI)
    os.utime(tmp_path / TOPICS_FILE, ns=(1, 1))
    topics.digest()
    assert h.whats_new_count("index-2")["label"].endswith("up to date") and len(calls) == 3


def test_llm_mode_keeps_the_briefing_s_coverage(dated, fake_openai):
    """The model summarises the items; the stories, and so their coverage, are the briefing's."""
    import re

    from fake_openai import text_of

    def reply(messages):
        n = dict((f, int(i)) for i, f in re.findall(r'<source id="(\d+)"[^>]*file="([^"]+)"', text_of(messages[-1])))
        return f"On 20 February 2025 Riverton's Market Hall was badly damaged by a fire [{n['market-hall-fire.md']}]."

    fake_openai.reply = reply
    before = dated.settings
    dated.settings = before.model_copy(update={"llm_base_url": fake_openai.base_url, "llm_model": "fake-model",
                                               "llm_timeout_s": 10})
    try:
        answer = dated.ask("What happened in February 2025?", mode="llm")
    finally:
        dated.settings = before
    assert answer.kind == "briefing" and fake_openai.requests and "Market Hall" in answer.text
    assert answer.coverage is not None and answer.coverage.stories == 5 and answer.coverage.unit == "week"
