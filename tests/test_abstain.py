"""Answerability: the general answer-type checks (relevance itself is the cross-encoder's)."""

from __future__ import annotations

import pytest

from rag.answering.answerability import Kind, counted_agrees, holds_kind, names_covered, new_names, question_kind, role_agrees, same_word, span_fits
from rag.answering.question import Question

Q = Question.analyse  # the checks read the analysed question


@pytest.mark.parametrize(
    "question, kind",
    [
        ("How many bridges did the council open?", Kind.NUMBER),
        ("How much did the hall cost?", Kind.NUMBER),
        ("How long did the strike last?", Kind.DURATION),
        ("When did the ferry stop?", Kind.DATE),
        ("On what calendar date did the mayor resign?", Kind.DATE),
        ("Who opened the library?", Kind.PERSON),
        ("Where will the summit take place?", Kind.PLACE),
        ("In which city will the summit take place?", Kind.PLACE),
        ("Which newspaper broke the story?", Kind.NAME),
        ("What is the name of the ferry's captain?", Kind.NAME),  # 'non grata' is no name
        ("Did the council approve the budget?", Kind.YES_NO),
        ("And is the bridge open?", Kind.YES_NO),
        ("What did the report recommend?", Kind.OTHER),
    ],
)
def test_question_kinds(question, kind):
    assert question_kind(question) is kind


@pytest.mark.parametrize(
    "question, kind",
    [
        ("Who is Gwen Tilley?", Kind.OTHER),  # what she is: 'harbour master'
        ("Who was Ursula von der Leyen?", Kind.OTHER),
        ("Who are Busted?", Kind.OTHER),
        ("Who is the harbour master?", Kind.PERSON),
        ("Who is Riverton's harbour master?", Kind.PERSON),
        ("Who is Kell Boats Manager?", Kind.PERSON),  # a role, capitalised
        ("Who is NATO Secretary-General?", Kind.PERSON),
        ("who is gwen tilley?", Kind.PERSON),  # no capitals, no name to tell
    ],
)
def test_regression_who_is_a_named_person_wanted_a_name_and_abstained_on_a_description(question, kind):
    """'Who is Steve Witkoff?' abstained: the reader's span 'envoy' (in "Trump's envoy Steve
    Witkoff") named nobody new, so it was the wrong kind for a "who". Asked about a named person,
    the question wants what the person is."""
    assert question_kind(question) is kind


def test_number_questions_need_a_number():
    q = "How many bridges did the council open?"
    assert holds_kind(Kind.NUMBER, "The council opened three bridges last year.", Q(q))
    assert holds_kind(Kind.NUMBER, "The council opened 12 bridges.", Q(q))
    assert not holds_kind(Kind.NUMBER, "The council opened several bridges.", Q(q))


def test_durations_and_dates():
    assert holds_kind(Kind.DURATION, "The strike lasted two weeks.", Q("How long did the strike last?"))
    assert not holds_kind(Kind.DURATION, "The strike ended.", Q("How long did the strike last?"))
    assert holds_kind(Kind.DATE, "The ferry stopped on March 11.", Q("When did the ferry stop?"))
    assert holds_kind(Kind.DATE, "The ferry stopped on Monday.", Q("When did the ferry stop?"))
    assert not holds_kind(Kind.DATE, "The ferry may stop soon.", Q("When did the ferry stop?"))  # 'may' the verb


def test_who_needs_a_name_the_question_lacks():
    q = "Who opened the Kestrel library in Dunmore?"
    assert holds_kind(Kind.PERSON, "Mayor Alice Brennan opened the Kestrel library in Dunmore.", Q(q))
    assert not holds_kind(Kind.PERSON, "The Kestrel library in Dunmore was opened on a rainy day.", Q(q))


def test_a_title_the_question_uses_is_trimmed_from_the_name():
    q = "Who is the President of the Harbour Board?"
    assert new_names("Harbour Board President Ana de la Cruz spoke first.", q) == ["Ana de la Cruz"]
    # A name sharing words with the question is the question's own subject, not an answer.
    assert new_names("Prime Minister Jan Kowal will host the talks in Gdansk.", "Where will Jan Kowal host the talks?") == ["Gdansk"]


def test_people_and_country_forms_are_one_name_without_alias_tables():
    assert same_word("estonia", "estonian") and same_word("ukrain", "ukrainian")
    assert not same_word("paris", "parish") and not same_word("franc", "frankfurt")
    assert not names_covered(Q("What did Paris decide?"), "The parish council decided.")
    assert not names_covered(Q("What does Poland spend on defence?"), "The UK spends 2.5% of GDP on defence.")
    assert names_covered(Q("What did the Estonian envoy say?"), "Estonia's envoy said no.")


def test_sentence_initial_capital_is_grammar_not_a_name():
    assert new_names("Furthermore, the mayor resigned.", "Who resigned?") == []


def test_the_questions_own_figures_pick_the_passage():
    q = "How many towns attended the meeting where 14 towns signed?"
    assert names_covered(Q(q), "Officials said 14 towns signed. The meeting drew 35 towns.")
    assert not names_covered(Q(q), "The meeting drew 34 towns.")
    assert not names_covered(Q(q), "The meeting drew 34 towns.", lenient=True)
    assert names_covered(Q("Which three towns signed?"), "Dunmore, Kent and Sussex signed.")


@pytest.mark.parametrize("question, span, fits", [
    ("How many trams does the city run?", "forty", True),
    ("How many trams does the city run?", "half", True),
    ("How much will the tram pass cost?", "free", False),
    ("When does the new line open?", "next Tuesday", True),
    ("When does the new line open?", "the mayor", False),
    ("Which gadget topped the chart?", "iPod", True),
    ("Which country leads the mission?", "U.K.", True),
    ("In which US state is the plant?", "2005", False),
    ("Who runs the Tramway Authority?", "Tramway Authority", False),  # names only what was asked about
    ("Who runs the Tramway Authority?", "its chairman, Ana Ruiz", True),
    ("What did the council decide?", "to wait", True),  # an open question takes any span
    # What a number question counts: money, a share, a count.
    ("How much did the fair take at the gate?", "12%", False),
    ("How much did the fair take at the gate?", "£40,000", True),
    ("How much will the second phase cost?", "half-hourly", False),
    ("How much have ticket sales fallen?", "12%", True),  # a change is a share
    ("How much land does the fair use?", "12 hectares", True),  # not every 'how much' is money
    ("How many stalls did the fair have?", "12%", False),
    ("What percentage of stalls sold food?", "a third", True),
    ("What percentage of stalls sold food?", "1998", False),
    # The grain asked for: a day, a year, a month, a time.
    ("On what date will the march take place?", "1984", False),
    ("On what date will the march take place?", "14 June", True),
    ("On what date will the march take place?", "Saturday", True),
    ("In what year was the mill built?", "June", False),
    ("In what year was the mill built?", "1887", True),
    ("Which month did the mill close?", "October", True),
    ("What time does the ferry leave?", "7.15am", True),
    ("When does the ferry leave?", "2026", True),
])
def test_a_reader_span_fits_the_kind_of_question(question, span, fits):
    asked = Question.analyse(question)
    assert span_fits(asked.kind, span, asked) is fits


@pytest.mark.parametrize("question, before_span, agrees", [
    ("Who is Dunmore's harbour master?", "Kellford harbour master ", False),  # another owner's
    ("Who is Dunmore's harbour master?", "Dunmore harbour master ", True),
    ("Who is the finance minister of Freedonia?", "Freedonian Trade Minister ", False),  # another ministry
    ("Who is the finance minister of Freedonia?", "Freedonian Finance Minister ", True),
    ("Who is France's culture minister?", "French Culture Minister ", True),  # an adjective of the place
    ("Who is the coach of the Rovers?", "But its coach ", True),  # a capitalised stopword names no one
    ("Who is the coach of the Rovers?", "said the club had signed ", True),  # no title in front: nothing to judge
    ("Who scored the winner?", "United striker ", True),  # not a role question
])
def test_the_title_in_front_of_a_name_must_be_the_role_asked_about(question, before_span, agrees):
    assert role_agrees(Question.analyse(question), before_span) is agrees


def test_a_relative_day_is_a_calendar_date_only_in_a_dated_article():
    asked = Question.analyse("On what date did the mayor visit the docks?")
    assert span_fits(asked.kind, "yesterday", asked, dated=True)  # resolved against the article's date
    assert not span_fits(asked.kind, "yesterday", asked, dated=False)
    assert span_fits(asked.kind, "12 March", asked, dated=False)
    weekday = Question.analyse("On which day of the week did the mayor visit?")
    assert span_fits(weekday.kind, "Tuesday", weekday, dated=False)  # a weekday asked for, not a date


@pytest.mark.parametrize(
    ("question", "after_span", "agrees"),
    [
        ("How many complaints did the harbour board receive?", " leaflets about the ferry but had stopped.", False),  # another count
        ("How many ferries will Dunmore buy?", " buses and three trams next year.", False),
        ("How many ferries will Dunmore buy?", " new ferries next year.", True),
        ("How many companies did the survey cover?", " firms in all.", True),  # a counting synonym
        ("How many ferries will Dunmore buy?", " in 2026.", True),  # nothing counted straight after: not judged
        ("How many of them signed?", " towns signed.", True),  # the question names no counted noun
        ("How much did the ferry cost?", " euros in all.", True),  # amounts are span_fits's concern
    ],
)
def test_the_noun_a_how_many_span_counts_must_be_the_one_asked_about(question, after_span, agrees):
    assert counted_agrees(Question.analyse(question), after_span) is agrees


SHARES = "Among ferry staff, 35% of women work part-time, compared to only 18% of men."


@pytest.mark.parametrize(
    ("question", "span", "sentence", "agrees"),
    [
        # A sentence comparing shares: the one of another population is not the answer.
        ("What percentage of men on the ferries work part-time?", "35%", SHARES, False),
        ("What percentage of men on the ferries work part-time?", "18%", SHARES, True),
        ("What percentage of women on the ferries work part-time?", "35%", SHARES, True),
        # No contrast in the sentence: another name for the same people may be meant.
        ("What percentage of voters backed the bridge?", "60%", "60% of those polled backed the bridge.", True),
        ("What percentage of GDP does Dunmore spend on ferries?", "2%",
         "Dunmore spends 2% of gross domestic product on ferries, against 1% of GDP on roads.", True),  # initials
    ],
)
def test_regression_a_share_of_women_answered_what_percentage_of_men(question, span, sentence, agrees):
    """'What percentage of men ... earn less than £20,000?' was answered '35%' in bold from "35% of
    women earn less ..., compared to only 18% of men"."""
    after = sentence[sentence.index(span) + len(span):]
    assert counted_agrees(Question.analyse(question), after, sentence) is agrees


@pytest.mark.parametrize(
    ("question", "span", "fits"),
    [
        ("What was the average house price in Dunmore last year?", "23%", False),  # a rise is no price
        ("What was the average house price in Dunmore last year?", "£182,920", True),
        ("What is the Dunmore ferry expected to cost?", "4.7 million euros", True),
        ("What is the Dunmore ferry expected to cost?", "300", False),
        ("What transfer fee did Dunmore pay for the striker?", "£1.2m", True),
        ("What is the price rise at the ferry?", "5%", True),  # a change may be a share
    ],
)
def test_regression_a_percentage_answered_what_the_average_house_price_was(question, span, fits):
    """'What was the average house price in Wales ...?' was a question of no type, so '23%' (the
    rise) fitted it; a price, cost or fee asked with "what" wants a sum, as "how much" does."""
    asked = Question.analyse(question)
    assert asked.kind is Kind.NUMBER and span_fits(asked.kind, span, asked) is fits


def test_regression_an_article_opening_the_span_was_taken_for_a_name():
    """'An offshore wind company' fitted "Which company ...?": its capital 'An' counted as a name."""
    asked = Question.analyse("Which company will build the maintenance base at Dunmore docks?")
    assert not span_fits(asked.kind, "An offshore wind company", asked)
    assert span_fits(asked.kind, "Northsea Breeze", asked)
