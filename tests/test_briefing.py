"""Briefings (#22): open questions get a dated, cited account over several articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from fake_openai import fake_openai  # noqa: F401 - a fixture
from rag.answering.openq import open_ask

ROOT = Path(__file__).resolve().parents[1]
DATED = ROOT / "evals" / "corpora" / "dated"


@pytest.mark.parametrize("question, topic, newest", [
    ("What happened ?", "", False),
    ("Summarize the news about Ukraine.", "Ukraine", False),
    ("What is happening with the Vale Line rail link?", "the Vale Line rail link", False),
    ("What's the latest on the flood wall?", "the flood wall", True),
    ("What do we know about Parmalat?", "Parmalat", False),
    ("Give me a timeline of the WorldCom trial", "the WorldCom trial", False),
    ("Any news on Fiat?", "Fiat", True),
    ("Tell me about Kilroy-Silk so far", "Kilroy-Silk", False),
])
def test_open_questions_are_recognised_with_their_topic_and_order(question, topic, newest):
    found = open_ask(question)
    assert found is not None and found.topic == topic and found.newest_first is newest


@pytest.mark.parametrize("question", [
    "How many troops will the coalition send?", "Who is the US envoy?", "What did Macron say?",
    "When will the wall be built?", "What is the cost of the rail link?", "Did the ferry resume?",
])
def test_a_lookup_stays_a_lookup(question):
    assert open_ask(question) is None


@pytest.fixture(scope="module")
def dated(tmp_path_factory, onnx_embedder, cross_encoder):
    """The in-repo dated corpus with the real embedder and cross-encoder (the relevance cut needs them)."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    a = Assistant(Settings(data_dir=tmp_path_factory.mktemp("briefing"), corpus_dir=DATED),
                  embedder=onnx_embedder, reranker=cross_encoder)
    a.ingest(progress=False)
    return a


def _verbatim(assistant, answer) -> bool:
    return all(assistant.article(c.source)["text"][c.start:c.end] == c.quote for c in answer.citations)


@pytest.mark.slow
def test_a_period_question_lists_its_stories_oldest_first_one_item_per_wire_story(dated):
    answer = dated.ask("What happened in February 2025?")
    assert answer.kind == "briefing" and not answer.abstained
    dates = [i.published for i in answer.items]
    assert dates == sorted(dates) and all("2025-02-01" <= d <= "2025-02-28" for d in dates)
    flood = [i for i in answer.items if "flood-wall" in i.source]
    assert len(flood) == 1 and flood[0].also_in, answer.items  # the wire story once, its copy named
    assert answer.time_range == {"since": "2025-02-01", "until": "2025-02-28"}
    assert _verbatim(dated, answer)
    markers = [s.marker for i in answer.items for s in i.sentences]
    assert markers == [c.marker for c in answer.citations] == list(range(1, len(markers) + 1))
    assert answer.text.splitlines()[1].startswith("- 3 February 2025 · ")  # dated bullets


@pytest.mark.slow
def test_latest_is_newest_first_and_a_story_s_course_spans_its_articles(dated):
    since = dated.ask("What's new since 1 March 2025?")
    dates = [i.published for i in since.items]
    assert since.kind == "briefing" and dates == sorted(dates, reverse=True) and min(dates) >= "2025-03-01"
    course = dated.ask("What is happening with the Vale Line rail link?")
    sources = [i.source for i in course.items]
    assert {"rail-link-announced.html", "rail-link-cost-revised.md"} <= set(sources)
    assert sources.index("rail-link-announced.html") < sources.index("rail-link-cost-revised.md")
    lead = course.items[sources.index("rail-link-announced.html")].sentences[0].text
    assert lead.startswith("A new railway linking Riverton")  # the lead, not the headline
    assert all(1 <= len(i.sentences) <= 2 for i in course.items) and _verbatim(dated, course)


@pytest.mark.slow
def test_an_open_question_about_something_not_covered_abstains(dated):
    answer = dated.ask("What is happening with the Riverton zoo?")
    assert answer.abstained and answer.kind == "fact" and not answer.items


@pytest.mark.slow
def test_a_briefing_says_how_many_more_stories_matched(dated):
    dated.settings = dated.settings.with_values(briefing_max_stories=2)
    try:
        answer = dated.ask("What happened in February 2025?")
    finally:
        dated.settings = dated.settings.with_values(briefing_max_stories=6)
    assert len(answer.items) == 2 and "3 more stories matched" in answer.text


def _briefing_answer():
    from rag.types import Answer, BriefingItem, Citation, ItemSentence

    cites = [Citation(1, "a.md", "A <b>", "c1", "Lead one.", 0, 9, 1.0, published="2025-02-03"),
             Citation(2, "b.md", "B", "c2", "Lead <script>two</script>.", 0, 26, 1.0)]
    items = [BriefingItem("a.md", "A <b>", "2025-02-03", [ItemSentence("Lead one.", 1)], also_in=["copy.md"]),
             BriefingItem("b.md", "B", None, [ItemSentence("Lead <script>two</script>.", 2)])]
    text = "2 stories, oldest first:\n- 3 February 2025 · A <b>: Lead one. [1]\n- undated · B: Lead two. [2]"
    return Answer("q", text, cites, False, "extractive", kind="briefing", items=items)


def test_the_ui_shows_a_briefing_as_an_escaped_dated_timeline_whose_markers_open_the_cards():
    from ui import render

    html = render.answer_message(_briefing_answer(), turn=3)
    assert html.count('class="nr-tl-item"') == 2 and '<time datetime="2025-02-03">3 February 2025</time>' in html
    assert "<script>" not in html and "&lt;b&gt;" in html and "(also in copy.md)" in html
    assert f'href="#{render.card_id(3, 1)}"' in html and f'href="#{render.card_id(3, 2)}"' in html
    assert html.index("2025-02-03") < html.index("undated")


def test_the_api_and_the_cli_carry_the_items():
    from ui.api import completion
    from ui.cli import format_answer

    body = completion(_briefing_answer(), "newsrag")
    assert body["kind"] == "briefing" and [i["source"] for i in body["items"]] == ["a.md", "b.md"]
    assert body["items"][0]["sentences"] == [{"text": "Lead one.", "marker": 1}]
    printed = format_answer(_briefing_answer())
    assert "- 3 February 2025 · A <b>: Lead one. [1]" in printed and "[2] b.md" in printed


# ------------------------------------------------------------------ LLM mode summarises the items
@pytest.fixture
def llm_dated(dated, fake_openai):
    before = dated.settings
    dated.settings = before.model_copy(update={"llm_base_url": fake_openai.base_url, "llm_model": "fake-model",
                                               "llm_timeout_s": 10})
    yield dated
    dated.settings = before


@pytest.mark.slow
def test_llm_mode_summarises_the_items_in_date_order_and_verifies_them(llm_dated, fake_openai):
    import re

    from fake_openai import text_of

    def reply(messages):
        prompt = text_of(messages[-1])
        n = {f: int(i) for i, f in re.findall(r'<source id="(\d+)"[^>]*file="([^"]+)"', prompt)}
        return (f"On 20 February 2025 a fire badly damaged the 150-year-old Market Hall [{n['market-hall-fire.md']}]. "
                f"On 24 February 2025 Rovers won the Vale Cup 9-0 [{n['cup-final.md']}].")  # 9-0 is invented

    fake_openai.reply = reply
    answer = llm_dated.ask("What happened in February 2025?", mode="llm")
    prompt = text_of(fake_openai.requests[-1]["messages"][-1])
    dates = re.findall(r"\((\d+ \w+ 2025)\)\" file=", prompt)
    assert dates[0] == "3 February 2025" and "27 February 2025" in dates  # the items, in date order, dated
    assert answer.kind == "briefing" and "Market Hall" in answer.text and "9-0" not in answer.text
    assert "Removed 1 sentence" in answer.notice
    assert _verbatim(llm_dated, answer) and len(answer.items) == 5
    markers = {c.marker for c in answer.citations}
    assert all(s.marker in markers for i in answer.items for s in i.sentences)


@pytest.mark.slow
def test_llm_mode_never_worse_a_declining_model_leaves_the_extractive_briefing(llm_dated, fake_openai):
    from rag.answering.llm import DECLINED
    from rag.answering.verify import REFUSAL

    fake_openai.reply = REFUSAL
    answer = llm_dated.ask("What is happening with the Vale Line rail link?", mode="llm")
    assert answer.kind == "briefing" and answer.notice == DECLINED and answer.text.startswith(("2 stories", "3 stories"))


def test_verification_accepts_the_cited_article_s_own_date_and_no_other():
    from rag.answering.verify import _without_own_date, numbers

    claim = "On 20 February 2025 a fire damaged the hall, and 21 February 2025 it reopened"
    left = numbers(_without_own_date(claim, "2025-02-20"))
    assert "20" not in left and {"21", "2025"} <= left  # its own date only; another date still needs a source
    assert numbers(_without_own_date(claim, None)) == numbers(claim)


# ------------------------------------------------------------------ undated articles (#34 item 2)
UNDATED = "These 5 articles have no publication date, so I can't filter by date."


def test_a_period_question_on_undated_articles_says_so_and_answers_from_the_dates_their_text_gives(assistant):
    """Regression (#34 item 2): 'What happened in March 2025?' on the seeds said 'The corpus does
    not say', though a seed says 'on March 11'; nothing said the articles carry no dates."""
    answer = assistant.ask("What happened in March 2025?")
    assert not answer.abstained and answer.kind == "briefing" and answer.time_range is None
    assert answer.text.startswith(UNDATED) and "event dates, not publication dates" in answer.text
    (item,) = answer.items
    assert item.source == "001_b3a78f4a513db0c2.txt" and item.published is None and item.event_date == "11 March"
    assert "- 11 March (event date) · " in answer.text
    assert all("March 11" in c.quote for c in answer.citations) and len(answer.citations) == 2
    assert _verbatim(assistant, answer)


def test_undated_articles_a_period_they_give_no_date_in_and_an_explicit_filter(assistant):
    april = assistant.ask("What happened in April 2025?")
    assert april.abstained and april.text.startswith(UNDATED) and "no date in April 2025" in april.text
    # The API's since on a lookup: still no answer (no article is dated), but now it says why.
    filtered = assistant.ask("How many nations pledged troops to the reassurance force?", since="2025-03-01")
    assert filtered.abstained and filtered.notice == UNDATED
    # ... and on a period question, the dates the text gives.
    since = assistant.ask("What happened?", since="2025-03-01", until="2025-03-31")
    assert since.kind == "briefing" and [i.event_date for i in since.items] == ["11 March"]


def test_a_time_phrase_in_a_lookup_over_undated_articles_changes_nothing(assistant):
    """'in March' in a lookup tells the time of the event: no notice, answered as before."""
    plain = assistant.ask("Who called on military leaders to develop a credible plan?")
    timed = assistant.ask("Who called on military leaders in March to develop a credible plan?")
    assert "publication date" not in timed.text + timed.notice and timed.abstained == plain.abstained


def test_dated_articles_are_filtered_by_publication_date_as_before(tmp_path):
    from rag.assistant import Assistant
    from rag.settings import Settings

    dated = Assistant(Settings(data_dir=tmp_path / "dated", corpus_dir=DATED, embedding_backend="hashing", rerank=False))
    dated.ingest(progress=False)
    answer = dated.ask("What happened in February 2025?")
    assert answer.kind == "briefing" and answer.time_range == {"since": "2025-02-01", "until": "2025-02-28"}
    assert "publication date" not in answer.text + answer.notice
    assert answer.items and all(i.published and i.event_date is None for i in answer.items)


def test_the_page_labels_an_event_date_as_such():
    from rag.types import Answer, BriefingItem, Citation, ItemSentence
    from ui import render

    cite = Citation(1, "001_x.txt", "Macron on March 11… (first words)", "c1", "Macron on March 11 called.", 0, 26, 1.0)
    item = BriefingItem("001_x.txt", cite.title, None, [ItemSentence(cite.quote, 1)], event_date="11 March")
    text = f"{UNDATED} Going by ...:\n- 11 March (event date) · {cite.title} [001_x.txt]: {cite.quote} [1]"
    html = render.answer_message(Answer("q", text, [cite], False, "extractive", kind="briefing", items=[item]), turn=1)
    assert "11 March <span class=\"nr-event-label\">(event date)</span>" in html and UNDATED.replace("'", "'") in html
    assert "undated" not in html.split("</ol>")[0].split("<ol")[1] and "001_x.txt" in html
