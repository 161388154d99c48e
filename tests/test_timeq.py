"""Time phrases in questions resolve to date ranges relative to a reference 'now'."""

from __future__ import annotations

import datetime as dt

import pytest

from rag.answering.timeq import TimeScope, format_day, format_range, resolve_time

WED = dt.date(2025, 4, 16)  # a Wednesday


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def scope(question: str, now: dt.date = WED) -> TimeScope:
    result = resolve_time(question, now)
    assert result is not None, question
    return result


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("Who won a cup final in February 2025?", "2025-02-01", "2025-02-28"),
        ("Who won a cup final in February 2024?", "2024-02-01", "2024-02-29"),  # leap year
        ("What opened in Feb. 2025?", "2025-02-01", "2025-02-28"),
        ("What happened in February?", "2025-02-01", "2025-02-28"),
        ("What happened in April?", "2025-04-01", "2025-04-30"),  # the month holding now
        ("What happened in December?", "2024-12-01", "2024-12-31"),  # most recent December <= now
        ("What was built in 2024?", "2024-01-01", "2024-12-31"),
        ("What changed this year?", "2025-01-01", "2025-12-31"),
        ("What changed this month?", "2025-04-01", "2025-04-30"),
        ("What changed this week?", "2025-04-14", "2025-04-20"),
        ("What changed last year?", "2024-01-01", "2024-12-31"),
        ("What changed last month?", "2025-03-01", "2025-03-31"),
        ("What festival was announced last week?", "2025-04-07", "2025-04-13"),
        ("What happened yesterday?", "2025-04-15", "2025-04-15"),
        ("What happened today?", "2025-04-16", "2025-04-16"),
        ("What happened on 9 March 2025?", "2025-03-09", "2025-03-09"),
        ("What happened on March 9, 2025?", "2025-03-09", "2025-03-09"),
        ("What happened on 2025-03-09?", "2025-03-09", "2025-03-09"),
        ("What happened between 3 and 9 March 2025?", "2025-03-03", "2025-03-09"),
        ("What happened between 28 February and 3 March 2025?", "2025-02-28", "2025-03-03"),
        ("What happened between December and February?", "2024-12-01", "2025-02-28"),
        ("What happened between 2023 and 2024?", "2023-01-01", "2024-12-31"),
        ("What happened from 1 March to 10 March?", "2025-03-01", "2025-03-10"),
        ("What happened over the past 3 days?", "2025-04-14", "2025-04-16"),
        ("What happened in the last two weeks?", "2025-04-03", "2025-04-16"),
        ("What happened in the past week?", "2025-04-10", "2025-04-16"),  # rolling, not calendar
        ("What happened over the past 2 months?", "2025-02-17", "2025-04-16"),
        ("Was a fire reported in the last few days?", "2025-04-14", "2025-04-16"),
    ],
)
def test_closed_ranges(question: str, since: str, until: str) -> None:
    result = scope(question)
    assert (result.since, result.until) == (d(since), d(until))
    assert result.to_dict() == {"since": since, "until": until}


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("Which bus has run since Monday?", "2025-04-14", None),
        ("What happened since Wednesday?", "2025-04-09", None),  # today is Wednesday: the one before
        ("What changed since 3 March?", "2025-03-03", None),
        ("What changed since March 2025?", "2025-03-01", None),
        ("What changed since last week?", "2025-04-07", None),
        ("What happened after March 2025?", "2025-04-01", None),
        ("What happened after 28 February 2025?", "2025-03-01", None),
        ("What happened before 3 March 2025?", None, "2025-03-02"),
        ("What happened before 2025?", None, "2024-12-31"),
    ],
)
def test_open_ranges(question: str, since: str | None, until: str | None) -> None:
    assert scope(question).to_dict() == {"since": since, "until": until}


def test_phrase_is_removed_from_the_question() -> None:
    result = scope("Which football club won a cup final in February 2025?")
    assert result.phrase == "in February 2025"
    assert result.question == "Which football club won a cup final?"
    reported = scope("Which company will build a base at the docks, as reported in March 2025?")
    assert reported.phrase == "in March 2025"
    assert reported.question == "Which company will build a base at the docks?"
    possessive = scope("Which film won at this year's Berlin festival?")
    assert possessive.phrase == "this year's" and possessive.question == "Which film won at Berlin festival?"
    middle = scope("Since Monday, which bus has been running?")
    assert middle.question == "which bus has been running?"


def test_longest_phrase_wins() -> None:
    assert scope("What changed since last week?").phrase == "since last week"
    assert scope("What happened in the last week?").phrase == "in the last week"


@pytest.mark.parametrize(
    "question",
    [
        "How many homes will the flood wall protect?",
        "May the council approve the plan?",
        "Who organised the Mayday parade?",
        "Why were the bands marching?",
        "Who wrote Decembrists?",
        "How many people were on 2,000 boats?",
        "What happened on 30 February?",
        "What happened between 9 and 3 March 2025?",  # an empty range
        "What happened in the last zero days?",
        # an event 'on Thursday' is often reported the day after: a weekday alone is no filter
        "Where did the ministers meet on Thursday?",
        "What happened last Wednesday?",
    ],
)
def test_no_time_phrase(question: str) -> None:
    assert resolve_time(question, WED) is None


def test_may_the_month() -> None:
    verb = scope("The council may decide in June whether it may go ahead")
    assert verb.phrase == "in June" and verb.to_dict() == {"since": "2024-06-01", "until": "2024-06-30"}
    assert scope("What opened in May?").to_dict() == {"since": "2024-05-01", "until": "2024-05-31"}
    assert scope("What opened in may 2025?", dt.date(2025, 6, 1)).until == d("2025-05-31")
    assert scope("What happened on 5 May?", dt.date(2025, 6, 1)).since == d("2025-05-05")
    assert scope("What happened since May 2025?", dt.date(2025, 6, 1)).since == d("2025-05-01")


def test_year_boundaries() -> None:
    new_year = dt.date(2025, 1, 2)  # a Thursday
    assert scope("What happened last week?", new_year).to_dict() == {"since": "2024-12-23", "until": "2024-12-29"}
    assert scope("What happened this week?", new_year).to_dict() == {"since": "2024-12-30", "until": "2025-01-05"}
    assert scope("What happened last month?", new_year).to_dict() == {"since": "2024-12-01", "until": "2024-12-31"}
    assert scope("What happened yesterday?", dt.date(2025, 1, 1)).since == d("2024-12-31")
    assert scope("What happened in December?", new_year).since == d("2024-12-01")
    assert scope("What happened since Monday?", new_year).since == d("2024-12-30")


def test_leap_days() -> None:
    assert scope("What happened yesterday?", dt.date(2024, 3, 1)).since == d("2024-02-29")
    assert scope("What happened on 29 February?", dt.date(2025, 4, 16)).since == d("2024-02-29")
    assert resolve_time("What happened on 29 February 2025?", WED) is None
    assert scope("What happened last month?", dt.date(2024, 3, 15)).until == d("2024-02-29")


def test_since_weekday_when_now_is_that_weekday() -> None:
    monday = dt.date(2025, 4, 14)
    assert scope("since Monday", monday).since == d("2025-04-07")
    assert scope("since Tuesday", monday).since == d("2025-04-08")
    assert scope("since Sunday", monday).since == d("2025-04-13")


def test_overlaps_tells_event_times_from_article_times() -> None:
    earliest, latest = d("2025-01-08"), WED
    assert not scope("Which singer did he manage between 1960 and 1973?").overlaps(earliest, latest)
    assert not scope("What happened before 2025?").overlaps(earliest, latest)
    assert scope("What happened in February?").overlaps(earliest, latest)
    assert scope("What happened since Monday?").overlaps(earliest, latest)
    assert scope("What happened in 2024?").overlaps(d("2024-12-31"), latest)


def test_contains() -> None:
    feb = scope("in February 2025")
    assert feb.contains(d("2025-02-01")) and feb.contains(d("2025-02-28"))
    assert not feb.contains(d("2025-03-01")) and not feb.contains(None)
    since = scope("since Monday")
    assert since.contains(d("2030-01-01")) and not since.contains(d("2025-04-13"))


@pytest.mark.parametrize(
    ("since", "until", "text"),
    [
        ("2025-02-01", "2025-02-28", "1–28 February 2025"),
        ("2025-03-03", "2025-03-09", "3–9 March 2025"),
        ("2025-02-28", "2025-03-03", "28 February – 3 March 2025"),
        ("2024-12-30", "2025-01-05", "30 December 2024 – 5 January 2025"),
        ("2025-03-09", "2025-03-09", "9 March 2025"),
        ("2025-04-14", None, "since 14 April 2025"),
        (None, "2025-03-02", "up to 2 March 2025"),
    ],
)
def test_format_range(since: str | None, until: str | None, text: str) -> None:
    assert format_range(d(since) if since else None, d(until) if until else None) == text


def test_format_day() -> None:
    assert format_day(d("2025-03-03")) == "Monday 3 March 2025"
    assert format_day(d("2024-02-29")) == "Thursday 29 February 2024"
