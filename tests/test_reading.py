"""PassageReader: what it reads, what it cites, and when it declines (fakes: no model)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answering.calibrator import FEATURES, Calibrator
from rag.answering.question import Question
from rag.answering.reading import PassageReader as _PassageReader
from rag.answering.reading import ReadingPolicy, same_answer
from rag.evidence import RetrievedPassage
from rag.models.reader import Span

BODY = "Work starts in April. The repairs cost 4.7 million euros, the city engineer said."
REPAIRS = RetrievedPassage(
    chunk_id="c1", source="bridge.txt", title="Kellford bridge to close", text=BODY, start=100, score=1.0, rank=1,
    spans=((0, 21), (22, len(BODY))), vectors=np.zeros((2, 3), dtype=np.float32),
)


class FakeReader:
    """Answers with the first occurrence of `answer` in each passage it is given, margin fixed."""

    def __init__(self, answer: str, margin: float) -> None:
        self.answer, self.margin, self.seen = answer, margin, []

    def read(self, question, passages, evidence_from=None):
        self.seen.append((list(passages), list(evidence_from or [])))
        out = []
        for i, text in enumerate(passages):
            at = text.find(self.answer)
            out.append(None if at < 0 else Span(i, at, at + len(self.answer), self.answer, 10.0, 10.0 + self.margin))
        return out


class FakeRelevance:
    def __init__(self, logit: float) -> None:
        self.logit, self.seen = logit, []

    def score(self, query, passages):
        self.seen += list(passages)
        return np.full(len(passages), self.logit, dtype=np.float32)


POLICY = ReadingPolicy(passages=4, direct_max_words=6)


def _sigmoid(z: float) -> float:
    import math
    return 1.0 / (1.0 + math.exp(-z))


def calibrator(reader: float = 1.0, relevance: float = 0.25, fits: float = 6.0, names: float = 6.0,
               answer_at: float = 3.5, direct_at: float = 9.0) -> Calibrator:
    """A calibrator with plain weights, so each test's arithmetic is its own: p = sigmoid(score -
    answer_at), score = reader + 0.25 relevance - 6 for a span not of the kind asked - 6 for
    missing names (the hand-set sum the learned model replaced); bold from score 9."""
    coef = {"reader": reader, "relevance": relevance, "fits": fits, "names": names}
    n = len(FEATURES)
    return Calibrator(FEATURES, (0.0,) * n, (1.0,) * n, tuple(coef.get(f, 0.0) for f in FEATURES), -fits - names,
                      0.5, _sigmoid(direct_at - answer_at))


def PassageReader(reader, relevance, policy, calibrated: Calibrator | None = None) -> _PassageReader:
    """The reader with the test calibrator unless a test gives another, and the intercept shifted
    so p = 0.5 sits at score 3.5."""
    c = calibrated or calibrator()
    c = Calibrator(c.features, c.mean, c.scale, c.coef, c.intercept - 3.5, c.answer_at, c.direct_at)
    return _PassageReader(reader, relevance, policy, c)


def score(reading) -> float:
    """The test calibrator's score of a reading (its log-odds, plus the 3.5 of the shift)."""
    import math
    return math.log(reading.probability / (1.0 - reading.probability)) + 3.5


def test_the_headline_is_read_in_front_and_the_sentence_holding_the_span_is_cited():
    reader = FakeReader("4.7 million euros", margin=-10.0)
    relevance = FakeRelevance(2.0)
    reading = PassageReader(reader, relevance, POLICY).run(Question.analyse("How much did the Kellford repairs cost?"), [REPAIRS], [])
    (texts, starts), = reader.seen
    assert texts[0].startswith("Kellford bridge to close. ") and starts[0] == len("Kellford bridge to close. ")
    assert reading.sentence.text == BODY[22:] and reading.sentence.start == 122
    assert BODY[reading.start - 100:reading.end - 100] == "4.7 million euros"
    assert relevance.seen == ["Kellford bridge to close. " + BODY[22:]]  # relevance judged under the headline
    question = Question.analyse("How much did the Kellford repairs cost?")
    assert PassageReader(reader, relevance, POLICY).direct(reading, question) == "4.7 million euros"


def test_a_span_the_reader_is_unsure_of_is_no_answer():
    reading = PassageReader(FakeReader("April", margin=-2.0), FakeRelevance(1.0), POLICY).run(Question.analyse("When?"), [REPAIRS], [])
    assert reading is None  # score 2 + 0.25 = 2.25 < 3.5


def test_an_answer_likely_enough_to_show_but_not_to_bold_is_cited_without_bold():
    """Score 4 + 0.25 x 6 = 5.5: above the answer's operating point (3.5), below bold's (9)."""
    passage_reader = PassageReader(FakeReader("April", margin=-4.0), FakeRelevance(6.0), POLICY)
    reading = passage_reader.run(Question.analyse("When does work start on the Kellford bridge?"), [REPAIRS], [])
    assert reading is not None and reading.sentence.text == "Work starts in April."
    assert passage_reader.direct(reading, Question.analyse("When does work start on the Kellford bridge?")) is None


def test_no_passages_no_reading():
    assert PassageReader(FakeReader("x", -10), FakeRelevance(5), POLICY).run(Question.analyse("Who?"), [], []) is None


def test_a_bold_answer_must_be_the_kind_asked_for():
    """A 'when' is answered in bold by a date only: a span without one leaves the sentence to speak."""
    passage_reader = PassageReader(FakeReader("the city engineer", margin=-12.0), FakeRelevance(5.0), POLICY)
    reading = passage_reader.run(Question.analyse("When do the repairs start?"), [REPAIRS], [])
    assert reading is not None
    assert passage_reader.direct(reading, Question.analyse("When do the repairs start?")) is None
    official = Question.analyse("What kind of official spoke about the repairs?")
    assert passage_reader.direct(passage_reader.run(official, [REPAIRS], []), official) == "the city engineer"
    # A "who" wants a name in bold: a description is cited, not shown as the answer.
    assert passage_reader.direct(reading, Question.analyse("Who said what the repairs cost?")) is None


def test_regression_a_description_was_the_bold_answer_to_which_company():
    """'Which company will build the base?' showed 'offshore wind company' in bold: the reader was
    sure of the span, but a "which" asks for a name."""
    text = "An offshore wind company, Northsea Breeze, will build the base."
    passage = RetrievedPassage(chunk_id="c9", source="docks.txt", title="Docks plan", text=text, start=0, score=1.0, rank=1,
                               spans=((0, len(text)),), vectors=np.zeros((1, 3), dtype=np.float32))
    question = Question.analyse("Which company will build the base?")
    for span, shown in (("offshore wind company", None), ("Northsea Breeze", "Northsea Breeze")):
        passage_reader = PassageReader(FakeReader(span, margin=-14.0), FakeRelevance(8.0), POLICY)
        assert passage_reader.direct(passage_reader.run(question, [passage], []), question) == shown


SECOND = RetrievedPassage(
    chunk_id="c2", source="chips.txt", title="Chip plant planned", text="The plant opens in 2005 in Texas, the firm said.",
    start=0, score=0.9, rank=2, spans=((0, 48),), vectors=np.zeros((1, 3), dtype=np.float32),
)


class ScriptedReader:
    """Gives each passage the span scripted for it, with its own margin."""

    def __init__(self, script: dict[str, tuple[str, float]]) -> None:
        self.script = script

    def read(self, question, passages, evidence_from=None):
        out = []
        for i, text in enumerate(passages):
            answer, margin = next(((a, m) for a, m in self.script.values() if a in text), (None, 0.0))
            at = text.find(answer) if answer else -1
            out.append(None if at < 0 else Span(i, at, at + len(answer), answer, 10.0, 10.0 + margin))
        return out


def test_regression_a_year_was_the_answer_to_which_state():
    """'In which US state ...' read '2005' with a sure margin: a span that is not the kind asked
    for loses its `fits` signal, so the reader abstains rather than answer with a year."""
    reader = ScriptedReader({"year": ("2005", -7.0)})
    question = Question.analyse("In which US state will the firm build its plant?")
    assert PassageReader(reader, FakeRelevance(2.5), POLICY).run(question, [SECOND], []) is None
    # The same span answers a question that asks for a year.
    assert PassageReader(reader, FakeRelevance(2.5), POLICY).run(Question.analyse("In what year does the plant open?"), [SECOND], []) is not None


def test_a_span_of_the_kind_asked_for_beats_a_surer_span_of_another_kind():
    reader = ScriptedReader({"year": ("2005", -12.0), "state": ("Texas", -9.0)})
    third = RetrievedPassage(
        chunk_id="c3", source="move.txt", title="New plant", text="Production moves to Texas next year.",
        start=0, score=0.8, rank=3, spans=((0, 36),), vectors=np.zeros((1, 3), dtype=np.float32))
    readings = PassageReader(reader, FakeRelevance(2.0), POLICY).candidates(Question.analyse("Which state gets the plant?"), [SECOND, third], [])
    assert [r.span for r in readings] == ["Texas", "2005"]
    assert [(r.signals.fits, r.signals.rank, r.signals.agree) for r in readings] == [(1.0, 3.0, 0.0), (0.0, 2.0, 0.0)]
    assert [score(r) for r in readings] == [pytest.approx(9.0 + 0.5), pytest.approx(12.0 + 0.5 - 6.0)]


@pytest.mark.parametrize("question, read_as", [
    ("According to the council's report, how many bridges need repair?", "How many bridges need repair?"),
    ("In the article on the tram strike, who led the drivers?", "Who led the drivers?"),
    ("Which firm won the contract, as reported by the Gazette?", "Which firm won the contract?"),
    ("How much did the hall cost, according to the mayor?", "How much did the hall cost?"),
    ("How many trams, according to the operator, were cancelled?", "How many trams, according to the operator, were cancelled?"),
    ("According to whom?", "According to whom?"),  # the clause is the question
    ("Who reported the leak?", "Who reported the leak?"),
])
def test_the_reader_reads_the_question_without_where_it_was_said(question, read_as):
    """A SQuAD reader grew unsure (no-answer margin 0.6 against -10.4 without it) when a question
    began 'According to the report on the Paris meeting, ...': it reads the question's core, while
    retrieval and the cross-encoder keep the whole question."""
    asked = Question.analyse(question)
    assert asked.read_as == read_as
    assert asked.query == question


def test_regression_a_follow_up_was_read_as_its_topic_question_and_answered_it_again():
    """'How many nations pledged troops?' then 'And how many countries attended it?': joined to
    the topic question, the reader answered the topic again (bold '26'). It reads the user's own
    words; retrieval and the cross-encoder keep the joined question."""
    history = [{"role": "user", "content": "How many nations pledged troops to the reassurance force?"},
               {"role": "assistant", "content": "26 nations have pledged to deploy troops. [1]"}]
    asked = Question.analyse("And how many countries attended it?", history)
    assert asked.follow_up and asked.read_as == "And how many countries attended it?"
    assert asked.query == "How many nations pledged troops to the reassurance force? And how many countries attended it?"
    attributed = Question.analyse("And how many attended it, according to the Elysee?", history)
    assert attributed.read_as == "And how many attended it?"


def test_regression_a_follow_up_with_no_word_of_its_own_is_read_with_its_topic():
    """'And what is it now?' read alone gave the reader nothing to look for: it abstained where
    the joined question found '2.5%' (tests/test_concurrency.py caught it)."""
    history = [{"role": "user", "content": "To what share of GDP is the UK aiming to raise its defense budget?"},
               {"role": "assistant", "content": "2.5% of GDP. [1]"}]
    asked = Question.analyse("And what is it now?", history)
    assert asked.read_as == "To what share of GDP is the UK aiming to raise its defense budget? And what is it now?"


def test_the_span_reader_gets_the_core_and_the_cross_encoder_the_whole_question():
    class Recording(FakeReader):
        def read(self, question, passages, evidence_from=None):
            self.question = question
            return super().read(question, passages, evidence_from)

    class RecordingRelevance(FakeRelevance):
        def score(self, query, passages):
            self.query = query
            return super().score(query, passages)

    reader, relevance = Recording("4.7 million euros", margin=-10.0), RecordingRelevance(2.0)
    question = Question.analyse("According to the city engineer, how much did the Kellford repairs cost?")
    assert PassageReader(reader, relevance, POLICY).run(question, [REPAIRS], []) is not None
    assert reader.question == "How much did the Kellford repairs cost?"
    assert relevance.query == question.query


def test_a_bold_answer_needs_the_cross_encoder_too():
    """A reader sure of its span (margin -11) in a sentence the cross-encoder finds off the point
    (logit -10) cites the sentence, but shows no bold answer: bold needs both signals."""
    question = Question.analyse("How much did the Kellford repairs cost?")
    for logit, shown in ((-10.0, None), (-6.0, "4.7 million euros")):
        passage_reader = PassageReader(FakeReader("4.7 million euros", margin=-11.0), FakeRelevance(logit), POLICY)
        reading = passage_reader.run(question, [REPAIRS], [])
        assert reading is not None and passage_reader.direct(reading, question) == shown


def test_regression_the_finance_minister_answered_who_is_the_foreign_minister():
    """'Polish Finance Minister Andrzej ...' read as the answer to "Who is Poland's foreign
    minister?" (margin -6): the title in front names another role, so the reading loses its
    `fits` signal and the answerer abstains."""
    text = "In an interview, Freedonian Finance Minister Ana Kovac said talks were under way."
    passage = RetrievedPassage(chunk_id="c7", source="talks.txt", title="Freedonia talks", text=text, start=0, score=1.0,
                               rank=1, spans=((0, len(text)),), vectors=np.zeros((1, 3), dtype=np.float32))
    reader = FakeReader("Ana Kovac", margin=-6.0)
    assert PassageReader(reader, FakeRelevance(3.0), POLICY).run(Question.analyse("Who is Freedonia's foreign minister?"), [passage], []) is None
    reading = PassageReader(reader, FakeRelevance(3.0), POLICY).run(Question.analyse("Who is Freedonia's finance minister?"), [passage], [])
    assert reading is not None and reading.span == "Ana Kovac"


FERRY_ARTICLE = (
    "Kell ferry suspended\n\n"
    "Marsh Vale Council said the pontoon cracked. The ferry, which carries about 300 passengers on a weekday, "
    "will not run until repairs are finished.\n\n"
    "The Vale Line would carry two million passengers a year, its backers said."
)


def _ferry_passage() -> RetrievedPassage:
    # A chunk that starts mid-paragraph: the council is named only in the sentence before it.
    start = FERRY_ARTICLE.index("The ferry")
    end = FERRY_ARTICLE.index("\n\nThe Vale")
    text = FERRY_ARTICLE[start:end]
    return RetrievedPassage(chunk_id="f1", source="ferry.txt", title="Kell ferry suspended", text=text, start=start,
                            score=1.0, rank=1, spans=((0, len(text)),), vectors=np.zeros((1, 3), dtype=np.float32))


def _paragraph_of(sentence) -> str:
    first = FERRY_ARTICLE.rfind("\n\n", 0, sentence.start)
    last = FERRY_ARTICLE.find("\n\n", sentence.end)
    return FERRY_ARTICLE[first + 2:last]


def test_regression_the_ferry_weekday_count_answered_how_many_the_rail_line_carries():
    """'How many passengers a year is the Vale Line expected to carry?' was answered from the
    ferry's weekday count: no name the question uses was near the span. A missing name now costs
    the reading its `names` signal, which the calibrator weighs."""
    question = Question.analyse("How many passengers a year will the Vale Line carry?")
    sure = PassageReader(FakeReader("300", margin=-10.0), FakeRelevance(4.0), POLICY)
    unsure = PassageReader(FakeReader("300", margin=-7.0), FakeRelevance(4.0), POLICY)
    reading = sure.candidates(question, [_ferry_passage()], [], _paragraph_of)[0]
    assert reading.signals.names == 0.0 and score(reading) == pytest.approx(10.0 + 1.0 - 6.0)
    assert unsure.run(question, [_ferry_passage()], [], _paragraph_of) is None  # 7 + 1 - 6 < 3.5


def test_a_name_the_chunk_leaves_to_its_paragraph_is_no_missing_name():
    """The chunk starts after 'Marsh Vale Council said ...': the paragraph still names the council."""
    question = Question.analyse("How many passengers does the Marsh Vale Council ferry carry?")
    reader = PassageReader(FakeReader("300", margin=-7.0), FakeRelevance(4.0), POLICY)
    without = reader.candidates(question, [_ferry_passage()], [])[0]
    with_paragraph = reader.candidates(question, [_ferry_passage()], [], _paragraph_of)[0]
    assert (without.signals.names, with_paragraph.signals.names) == (0.0, 1.0)


def test_regression_the_year_of_a_date_filter_was_a_figure_the_passage_had_to_hold():
    """'Which ferry began sailing in March 2025?': the phrase became a publication filter, yet
    '2025' stayed a figure the passage must hold; no article text says its own year, so every
    reading lost its `names` signal and the question abstained."""
    import datetime as dt
    question = Question.analyse("How many passengers does the ferry carry, in March 2025?",
                                now=dt.date(2025, 4, 20), dated=(dt.date(2025, 1, 1), dt.date(2025, 4, 20)))
    assert question.scope is not None and question.figures == frozenset()
    reading = PassageReader(FakeReader("300", margin=-7.0), FakeRelevance(4.0), POLICY).candidates(
        question, [_ferry_passage()], [], _paragraph_of)[0]
    assert reading.signals.names == 1.0
    # A year that is no filter ('in 1997' over 2025 articles) is still a figure the passage must hold.
    old = Question.analyse("How many passengers did the ferry carry in 1997?",
                           now=dt.date(2025, 4, 20), dated=(dt.date(2025, 1, 1), dt.date(2025, 4, 20)))
    assert old.scope is None and "1997" in old.figures


def test_the_article_store_gives_the_paragraph_only_while_the_article_reads_the_same(tmp_path):
    from rag.index.articles import ArticleStore

    store = ArticleStore(tmp_path)
    store.put("h1", FERRY_ARTICLE)
    start = FERRY_ARTICLE.index("The ferry")
    end = FERRY_ARTICLE.index("finished.") + len("finished.")
    sentence = FERRY_ARTICLE[start:end]
    assert store.paragraph("h1", start, end, sentence).startswith("Marsh Vale Council said")
    assert store.paragraph("h1", start, end, sentence).endswith("finished.")
    assert store.paragraph("h1", start + 1, end, sentence) == ""  # another ingest moved the text: read the chunk alone
    assert store.paragraph("gone", start, end, sentence) == ""  # pruned by another process
    first = FERRY_ARTICLE.index("Kell ferry")
    assert store.paragraph("h1", first, first + 4, "Kell") == "Kell ferry suspended"


def test_the_articles_the_reader_read_and_found_no_answer_in_are_told():
    """`answer` gives the trusted reading and the read articles with no confident span: one
    answered, one whose only span is unsure, one with no span at all."""
    other = RetrievedPassage(chunk_id="c2", source="budget.md", title="", text="The budget includes 4.7 million euros for roads.",
                             start=0, score=0.5, rank=2, spans=((0, 48),), vectors=np.zeros((1, 3), dtype=np.float32))
    blank = RetrievedPassage(chunk_id="c3", source="weather.md", title="", text="Rain is forecast.", start=0, score=0.4,
                             rank=3, spans=((0, 17),), vectors=np.zeros((1, 3), dtype=np.float32))

    class PerPassage(FakeReader):
        def read(self, question, passages, evidence_from=None):
            spans = super().read(question, passages, evidence_from)
            return [spans[0], None if spans[1] is None else Span(1, spans[1].start, spans[1].end, spans[1].text, 10.0, 20.0), spans[2]]

    reading, unanswered = PassageReader(PerPassage("4.7 million euros", margin=-10.0), FakeRelevance(2.0), POLICY).answer(
        Question.analyse("How much did the Kellford repairs cost?"), [REPAIRS, other, blank], [])
    assert reading is not None and reading.sentence.source == "bridge.txt"
    assert unanswered == frozenset({"budget.md", "weather.md"})


def test_regression_a_follow_up_read_in_its_own_words_was_answered_from_another_story():
    """"And who directed it?" after a question on the Marsh Vale ferry: a span from a story that
    names no ferry of the Marsh Vale loses its `names` signal, as for a question naming it."""
    history = [{"role": "user", "content": "When will the Marsh Vale Council ferry resume?"},
               {"role": "assistant", "content": "In April. [1]"}]
    question = Question.analyse("And how many passengers does it carry?", history)
    assert question.read_as == "And how many passengers does it carry?"
    reading = PassageReader(FakeReader("4.7 million euros", margin=-10.0), FakeRelevance(4.0), POLICY).candidates(
        question, [REPAIRS], [])[0]
    assert reading.signals.names == 0.0


def test_regression_the_reader_took_the_share_of_another_population_from_a_comparison():
    """'35%' of "35% of women work part-time, compared to only 18% of men" answered "What
    percentage of men ...?" in bold; the sentence says which share is whose, so the span moves."""
    text = "Among ferry staff, 35% of women work part-time, compared to only 18% of men."
    passage = RetrievedPassage(chunk_id="c9", source="staff.txt", title="Ferry staff survey", text=text, start=0, score=1.0,
                               rank=1, spans=((0, len(text)),), vectors=np.zeros((1, 3), dtype=np.float32))
    reader = PassageReader(FakeReader("35%", margin=-10.0), FakeRelevance(4.0), POLICY)
    men = reader.run(Question.analyse("What percentage of men on the ferries work part-time?"), [passage], [])
    assert (men.span, text[men.start:men.end]) == ("18%", "18%")
    assert reader.direct(men, Question.analyse("What percentage of men on the ferries work part-time?")) == "18%"
    women = reader.run(Question.analyse("What percentage of women on the ferries work part-time?"), [passage], [])
    assert women.span == "35%"


def test_passages_that_agree_on_the_answer_are_counted_and_the_runner_up_gap_is_the_readers():
    """'Texas' read in two passages agrees once with the other; each leads the '2005' reading by
    its reader score over 2005's, and 2005 trails the surer Texas."""
    reader = ScriptedReader({"year": ("2005", -5.0), "state": ("Texas", -9.0)})
    third = RetrievedPassage(
        chunk_id="c3", source="move.txt", title="New plant", text="Production moves to Texas next year.",
        start=0, score=0.8, rank=3, spans=((0, 36),), vectors=np.zeros((1, 3), dtype=np.float32))
    both = RetrievedPassage(
        chunk_id="c4", source="texas.txt", title="Plant site", text="Texas won the plant, officials said.",
        start=0, score=0.7, rank=4, spans=((0, 36),), vectors=np.zeros((1, 3), dtype=np.float32))
    readings = PassageReader(reader, FakeRelevance(2.0), POLICY).candidates(
        Question.analyse("Which state gets the plant?"), [SECOND, third, both], [])
    by_source = {r.sentence.source: r.signals for r in readings}
    assert by_source["move.txt"].agree == 1.0 and by_source["texas.txt"].agree == 1.0
    assert by_source["chips.txt"].agree == 0.0
    assert by_source["move.txt"].gap == pytest.approx(9.0 - 5.0) and by_source["chips.txt"].gap == pytest.approx(5.0 - 9.0)


def test_a_lone_reading_leads_by_the_clip():
    from rag.answering.calibrator import CLIP
    reading = PassageReader(FakeReader("April", margin=-9.0), FakeRelevance(1.0), POLICY).candidates(
        Question.analyse("When does work start on the Kellford bridge?"), [REPAIRS], [])[0]
    assert reading.signals.gap == CLIP and reading.signals.agree == 0.0 and reading.signals.words == 1.0


@pytest.mark.parametrize("a, b, same", [
    ("SpongeBob SquarePants", "SpongeBob", True), ("Texas.", "texas", True), ("the Pentagon", "Pentagon", True),
    ("2005", "20050", False), ("Thomas Jefferson", "John Adams", False), ("", "x", False),
])
def test_same_answer_is_one_span_holding_the_other_by_whole_words(a, b, same):
    assert same_answer(a, b) is same


@pytest.mark.parametrize("which", ["learned", "default"])
def test_the_shipped_calibrators_load_and_a_surer_reader_is_likelier(which):
    from rag.answering.calibrator import WEIGHTS

    shipped = Calibrator.load(WEIGHTS if which == "learned" else None)
    if which == "learned":
        assert 0.0 < shipped.answer_at <= shipped.direct_at < 1.0
    else:  # the hand-set sum: bold by its two thresholds, not by a probability
        assert shipped.answer_at == 0.5 and dict(shipped.direct_min) == {"reader": 8.0, "relevance": -8.0}
    reader = FakeReader("April", margin=-4.0)
    question = Question.analyse("When does work start on the Kellford bridge?")
    unsure = _PassageReader(reader, FakeRelevance(1.0), POLICY, shipped).candidates(question, [REPAIRS], [])[0]
    sure = _PassageReader(FakeReader("April", margin=-12.0), FakeRelevance(1.0), POLICY, shipped).candidates(question, [REPAIRS], [])[0]
    assert sure.probability > unsure.probability


@pytest.mark.parametrize("content", [None, "{", '{"model": {}}',
                                     '{"model": {"features": ["luck"], "mean": [0], "scale": [1], "coef": [1], "intercept": 0},'
                                     ' "operating_points": {"answer": {"probability": 0.5}, "direct": {"probability": 0.9}}}'])
def test_a_missing_or_broken_weights_file_is_a_typed_error(tmp_path, content):
    from rag.errors import NotConfigured
    path = tmp_path / "weights.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(NotConfigured, match="weights"):
        Calibrator.load(path)
