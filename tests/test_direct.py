"""Direct answers: the short answer, verbatim from the sentence, only when the sentence plainly holds it."""

from __future__ import annotations

from rag.answering.answerability import Kind
from rag.answering.direct import date_answer, direct_answer, duration_answer, number_answer, person_answer, yes_no
from rag.answering.question import Question

Q = Question.analyse  # the answerers read the analysed question

YES, NO = 0.8, 0.3


def test_number_with_the_counted_noun():
    assert number_answer(Q("How many bridges were built?"), "Crews built 14 bridges and 3 tunnels in 2 years.") == "14 bridges"
    assert number_answer(Q("How many tunnels were dug?"), "Crews built 14 bridges and 3 tunnels.") == "3 tunnels"
    assert number_answer(Q("How many nations joined?"), "It costs 2.5% of GDP for 26 nations.") == "26 nations"
    assert number_answer(Q("How many seats are there?"), "A hall of 5-8 seats.") == "5-8 seats"


def test_amounts_keep_currency_and_scale():
    assert number_answer(Q("How much did the town receive?"), "The town received EUR1.1 billion last year.") == "EUR1.1 billion"
    assert number_answer(Q("How much will the wall cost?"), "The wall will cost £6.5 million.") == "£6.5 million"


def test_numbers_the_question_states_are_not_answers():
    assert number_answer(Q("How many of the 40 staff left?"), "Of the 40 staff, 12 left.") == "12"


def test_no_number_no_answer():
    assert direct_answer(Kind.NUMBER, Q("How many left?"), "Several staff left.", YES, NO) is None


def test_durations_and_dates():
    assert duration_answer("The talks had gone on for more than three years.") == "three years"
    assert date_answer("The mayor on March 11 called for calm.") == "March 11"
    assert date_answer("It reopened on Tuesday, 4 March 2025, at noon.") == "Tuesday, 4 March 2025"


def test_person_drops_the_title_and_prefers_the_one_near_the_echo():
    q = "Who is the harbour envoy?"
    s = "According to the Courier, talks included Mayor Alice Brennan and the harbour envoy, Tom Okafor."
    assert person_answer(Q(q), s) == "Tom Okafor"
    assert person_answer(Q("Who countered the claim?"), "Board Chair Ana de la Cruz countered that only Kent and Sussex agreed.") == "Ana de la Cruz"


def test_yes_no_reads_negation():
    q = "Did the Harbour Board send a delegate to the Dunmore summit?"
    assert yes_no(Q(q), "The Harbour Board did not send a delegate.", YES, NO) == "No"
    assert yes_no(Q(q), "The Harbour Board declined to send anyone to the summit.", YES, NO) == "No"
    assert yes_no(Q(q), "The Harbour Board sent a delegate to the Dunmore summit.", YES, NO) == "Yes"
    # About someone else: decides nothing.
    assert yes_no(Q(q), "The Dunmore summit brought together delegates from 30 towns.", YES, NO) is None


def test_regression_refrained_from_giving_details_was_no_no():
    """'he refrained from divulging further details' denies that he gave them; verbs that deny
    what follows them count in the tenses news uses."""
    q = Q("Did the mayor give details of the harbour tender?")
    assert yes_no(q, "The mayor thanked the board, though she refrained from divulging details of the harbour tender.", YES, NO) == "No"
    assert yes_no(q, "The mayor refuses to give details of the harbour tender.", YES, NO) == "No"
    assert yes_no(q, "The mayor stopped short of giving details of the harbour tender.", YES, NO) == "No"
    assert yes_no(q, "The mayor gave details of the harbour tender on Monday.", YES, NO) == "Yes"
    # The question's own verb is no denial: "Did X refuse ...?" is answered yes by 'X refuses ...'.
    assert yes_no(Q("Did the mayor refuse to sign the harbour tender?"), "The mayor refuses to sign the harbour tender.", YES, NO) == "Yes"


def test_regression_is_there_a_consensus_was_answered_yes_by_a_sentence_without_one():
    """'Is there a consensus among the towns on X?' asks whether the consensus exists: a sentence
    that says two towns explored X, with most of the question's words, does not say it does."""
    q = Q("Is there a consensus among the coastal towns on building a sea wall?")
    assert yes_no(q, "Kent and Dunmore have explored building a sea wall, and talks took place among the coastal towns.", YES, NO) is None
    assert yes_no(q, "There is a consensus among the coastal towns on building a sea wall.", YES, NO) == "Yes"
    assert yes_no(q, "No consensus exists among the coastal towns on building a sea wall.", YES, NO) == "No"


def test_yes_no_negation_the_question_itself_uses_is_not_a_no():
    assert yes_no(Q("Did Kent rule out new taxes?"), "Kent ruled out new taxes this year.", YES, NO) == "Yes"
    assert yes_no(Q("Is the bridge likely to reopen this year?"), "The bridge is unlikely to reopen this year.", YES, NO) == "No"


def test_open_questions_have_no_direct_answer():
    assert direct_answer(Kind.OTHER, Q("What did the report say?"), "The report said 12 bridges need repair.", YES, NO) is None


def test_regression_a_yes_no_whose_subject_is_only_in_the_headline_got_no_answer():
    """'The five-year funding ...' leaves the country to its headline: the headline names it and
    holds its words, while only the sentence can negate."""
    q = Q("Does the Harbour Board grant for Dunmore fishermen run for three years?")
    sentence = "The three-year Harbour Board grant will pay for new nets and a cold store."
    assert yes_no(q, sentence, YES, NO) is None  # alone, the sentence does not name Dunmore
    assert yes_no(q, sentence, YES, NO, title="Dunmore fishermen win grant") == "Yes"
    assert yes_no(q, "The Harbour Board grant will not run for three years.", YES, NO, title="Dunmore fishermen win grant") == "No"
    assert yes_no(q, sentence, YES, NO, title="Harbour Board cuts budget") is None  # the headline must name it


def test_regression_the_united_states_in_the_question_and_the_us_in_the_sentence_were_two_names():
    q = Q("Did the United Kingdom sign the Dunmore fishing pact?")
    assert yes_no(q, "The UK signed the Dunmore fishing pact on Friday.", YES, NO) == "Yes"
    assert yes_no(Q("Did the UK sign the Dunmore fishing pact?"), "The United Kingdom signed the Dunmore fishing pact.", YES, NO) == "Yes"
    # Initials are not a licence: another body's acronym is still another body.
    assert yes_no(q, "The UN signed the Dunmore fishing pact on Friday.", YES, NO) is None


def test_regression_a_yes_no_answered_by_a_pronoun_sentence_got_no_answer():
    q = Q("Did Mayor Brennan criticise the harbour board for its late accounts?")
    sentence = "She also criticised the harbour board for its late accounts."
    assert yes_no(q, sentence, YES, NO) is None  # alone, the sentence names nobody
    assert yes_no(q, sentence, YES, NO, context=f"Mayor Alice Brennan opened the meeting. {sentence}") == "Yes"
    # A denial must name the subject itself: the passage's other sentences may deny something else.
    assert yes_no(q, "It did not criticise the harbour board.", YES, NO, context="Mayor Brennan spoke first.") is None


def test_a_sentence_that_leaves_the_fact_open_answers_neither_yes_nor_no():
    q = Q("Did the council approve the Dunmore ferry plan?")
    assert yes_no(q, "It remains unclear whether the council approved the Dunmore ferry plan.", YES, NO) is None
    assert yes_no(q, "The council has yet to decide whether to approve the Dunmore ferry plan.", YES, NO) is None
    # ... but an open question about something else in the same sentence does not hide the answer.
    s = "It is unclear whether the mayor attended, and the council did not approve the Dunmore ferry plan."
    assert yes_no(q, s, YES, NO) == "No"


def test_an_attribution_clause_does_not_hide_a_yes_no_question():
    q = Q("According to the Courier, did the council approve the Dunmore ferry plan?")
    assert q.kind is Kind.YES_NO
    assert yes_no(q, "The council approved the Dunmore ferry plan on Monday.", YES, NO) == "Yes"


def test_a_sentence_saying_it_went_the_other_way_answers_no():
    q = Q("Did the harbour levy rise in Dunmore this year?")
    assert yes_no(q, "The harbour levy fell by 4% in Dunmore this year.", YES, NO) == "No"
    assert yes_no(Q("Will the Dunmore ferry budget be cut?"), "The plan would see the Dunmore ferry budget rise by £2m.", YES, NO) == "No"
    # Both ways in one sentence: no verdict from direction alone.
    assert yes_no(q, "The harbour levy fell in Dunmore this year while fees rose.", YES, NO) is None


def test_a_possibility_is_not_a_yes():
    q = Q("Will the Dunmore ferry lose its licence?")
    assert yes_no(q, "The Dunmore ferry could lose its licence after the inspection.", YES, NO) is None
    assert yes_no(q, "The Dunmore ferry will lose its licence after the inspection.", YES, NO) == "Yes"


def test_regression_a_name_elsewhere_in_the_sentence_made_a_yes():
    q = Q("Did the United States attend the Dunmore harbour summit?")
    s = "The Dunmore harbour summit was attended by officials from 30 towns, and delegates later discussed a US proposal on fishing quotas."
    assert yes_no(q, s, YES, NO) is None
    assert yes_no(q, "The US attended the Dunmore harbour summit with a small team.", YES, NO) == "Yes"


def test_surnames_and_possessives_name_the_asked_person():
    q = Q("Is Ruth Kelly in charge of Dunmore's harbour budget?")
    assert yes_no(q, "Claims that Ms Kelly was in charge of Dunmore's harbour budget were not true.", YES, NO) == "No"
    assert yes_no(Q("Can people buy Victor Wong's harbour app?"), "Mr Wong's harbour app has not yet been made available to buy.", YES, NO) == "No"
    # 'Bank of England' is not named by 'England'.
    assert yes_no(Q("Did the Bank of England raise rates?"), "England raised rates on Thursday.", YES, NO) is None


def test_regression_a_sentence_about_someone_else_under_the_asked_persons_headline_made_a_yes():
    q = Q("Does Ruth Kelly support longer harbour opening hours?")
    title = "Kelly faces harbour questions"
    s = "Harbour Users Group chair Anne Weyman said longer harbour opening hours were key."
    assert yes_no(q, s, YES, NO, title=title) is None
    # ... while a sentence that leaves the subject to the headline and names nobody new still answers.
    assert yes_no(q, "She said she supports longer harbour opening hours.", YES, NO, title=title,
                  context="Ruth Kelly spoke on Monday.") == "Yes"


def test_regression_a_negation_about_something_else_in_the_sentence_made_a_no():
    q = Q("Did the mayor phone into the Dunmore harbour meeting?")
    s = "Without the support of the council, the Dunmore harbour meeting will achieve little, the mayor said."
    assert yes_no(q, s, YES, NO) != "No"
    q = Q("Does Mayor Brennan want a meeting with the harbour board?")
    s = 'Mayor Brennan stressed the need for a meeting with the harbour board, saying: "This is not a matter of desire."'
    assert yes_no(q, s, YES, NO) != "No"
    # The denial of what is asked still answers no.
    assert yes_no(Q("Did the harbour board send a delegate?"), "The harbour board did not send a delegate.", YES, NO) == "No"


def test_hyphenated_words_count_by_their_parts():
    q = Q("Was the Dunmore harbour meeting held behind closed doors?")
    assert yes_no(q, "The Dunmore harbour meeting was held behind closed doors on Friday.", YES, NO) == "Yes"
    assert yes_no(q, "The closed-door Dunmore harbour meeting was held behind the town hall.", YES, NO) == "Yes"


def test_unchanged_is_neither_way():
    q = Q("Did the Dunmore harbour levy fall this year?")
    assert yes_no(q, "The Dunmore harbour levy was unchanged this year.", YES, NO) == "No"
    assert yes_no(q, "The Dunmore harbour levy was unchanged this year but is forecast to fall next year.", YES, NO) is None
