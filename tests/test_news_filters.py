"""News awareness end to end on the dated test corpus (evals/corpora/dated): publication dates in
the listing, filters that restrict every citation and related passage, time phrases in the
question, wire copies cited once with `also_in`, the newest figure first."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.settings import Settings
from rag.types import NewsragError

DATED = Path(__file__).resolve().parents[1] / "evals" / "corpora" / "dated"


@pytest.fixture(scope="module")
def news(tmp_path_factory) -> Assistant:
    assistant = Assistant(Settings(data_dir=tmp_path_factory.mktemp("news") / "data", corpus_dir=DATED))
    assistant.ingest()
    return assistant


def _published(assistant: Assistant) -> dict[str, str | None]:
    return {d["source"]: d["published"] for d in assistant.documents()}


@pytest.mark.slow
def test_every_dated_form_is_read_and_an_undated_article_stays_null(news):
    published = _published(news)
    assert published["flood-wall-gazette.html"] == "2025-02-11"  # HTML metadata
    assert published["council-budget.md"] == "2025-01-29"  # front matter
    assert published["teachers-strike.txt"] == "2025-03-11"  # dateline "RIVERTON, March 11, 2025 —"
    assert published["old-mill-history.txt"] is None  # states no date: never the file's mtime


@pytest.mark.slow
def test_filters_restrict_every_retrieved_chunk(news):
    published = _published(news)
    hits = news.retrieve("council", sources=["council-budget.md"])
    assert hits and {h.source for h in hits} == {"council-budget.md"}
    for h in news.retrieve("council river town", since="2025-02-01", until="2025-02-28"):
        assert published[h.source] and "2025-02-01" <= published[h.source] <= "2025-02-28"
    with pytest.raises(NewsragError, match="not in the index"):
        news.retrieve("council", sources=["nope.md"])
    with pytest.raises(NewsragError, match="date like"):
        news.retrieve("council", since="last Tuesday-ish")


@pytest.mark.slow
def test_a_time_phrase_becomes_the_filter_and_is_reported(news):
    published = _published(news)
    answer = news.ask("What did the council approve in February 2025?")
    assert answer.time_range == {"since": "2025-02-01", "until": "2025-02-28"}
    for source in [c.source for c in answer.citations] + [p.source for p in answer.related]:
        assert "2025-02-01" <= (published[source] or "") <= "2025-02-28", source
    assert news.ask("How long did the old mill run?").time_range is None


@pytest.mark.slow
def test_a_wire_story_is_cited_once_with_its_copy_in_also_in(news):
    answer = news.ask("How many homes will the Kell river flood wall protect?")
    assert not answer.abstained and answer.citations
    cited = answer.citations[0]
    copies = {"flood-wall-gazette.html", "flood-wall-echo.html"}
    assert cited.source in copies and set(cited.also_in) == copies - {cited.source}
    assert not {c.source for c in answer.citations[1:]} & copies - {cited.source}


@pytest.mark.slow
def test_a_revised_figure_is_answered_newest_first(news):
    answer = news.ask("How much will the Vale Line rail link cost?")
    assert answer.direct == "£2.1 billion"
    assert answer.citations[0].source == "rail-link-cost-revised.md"
    assert answer.revision and answer.revision.index("2.1") < answer.revision.index("1.8")
