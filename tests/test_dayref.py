"""Day references in article sentences resolve against the article's publication date."""

from __future__ import annotations

import datetime as dt

import pytest

from rag.answering.dayref import format_day, resolve_day, resolve_day_reference

TUE = dt.date(2025, 3, 25)  # a Tuesday
MON = dt.date(2025, 3, 24)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("sentence", "published", "phrase", "day"),
    [
        ("The cost has risen, the transport authority said on Monday.", TUE, "on Monday", "2025-03-24"),
        ("The cost has risen, the transport authority said on Monday.", MON, "on Monday", "2025-03-24"),
        ("The strike began on Wednesday.", TUE, "on Wednesday", "2025-03-19"),
        ("The strike began on Tuesday night.", TUE, "on Tuesday night", "2025-03-25"),
        ("A fire broke out on Monday evening, the fire service said.", d("2025-02-20"), "on Monday evening", "2025-02-17"),
        ("The shop was raided last Friday.", TUE, "last Friday", "2025-03-21"),
        ("The shop was raided last Tuesday.", TUE, "last Tuesday", "2025-03-18"),  # not today
        ("Teachers walked out yesterday over class sizes.", TUE, "yesterday", "2025-03-24"),
        ("Police were called yesterday afternoon.", TUE, "yesterday afternoon", "2025-03-24"),
        ("Police were called last night.", TUE, "last night", "2025-03-24"),
        ("The minister resigned today.", TUE, "today", "2025-03-25"),
        ("The minister resigned this morning.", TUE, "this morning", "2025-03-25"),
        ("A fundraising page had raised £20,000 by Sunday night.", TUE, "Sunday night", "2025-03-23"),
        ("The results will be published next Monday.", TUE, "next Monday", "2025-03-31"),
        ("The bridge will reopen on Monday.", TUE, "on Monday", "2025-03-31"),
        ("The bridge is due to reopen on Tuesday.", TUE, "on Tuesday", "2025-04-01"),
    ],
)
def test_relative_days(sentence: str, published: dt.date, phrase: str, day: str) -> None:
    assert resolve_day_reference(sentence, published) == (phrase, d(day))


def test_year_and_month_boundaries() -> None:
    new_year = dt.date(2025, 1, 1)  # a Wednesday
    assert resolve_day_reference("Fireworks were let off yesterday.", new_year) == ("yesterday", d("2024-12-31"))
    assert resolve_day_reference("It opened on Friday.", new_year) == ("on Friday", d("2024-12-27"))
    assert resolve_day_reference("It opened yesterday.", d("2024-03-01")) == ("yesterday", d("2024-02-29"))
    assert resolve_day_reference("It opened yesterday.", d("2025-03-01")) == ("yesterday", d("2025-02-28"))


def test_every_weekday_is_on_or_before_publication() -> None:
    for offset in range(7):
        published = MON + dt.timedelta(days=offset)
        for name in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
            _, day = resolve_day_reference(f"It happened on {name}.", published)  # type: ignore[misc]
            assert published - dt.timedelta(days=6) <= day <= published
            assert format_day(day).startswith(name)


@pytest.mark.parametrize(
    ("sentence", "phrase", "day"),
    [
        ("The council met on 3 March to approve the plan.", "3 March", "2025-03-03"),
        ("The council met on March 3 to approve the plan.", "March 3", "2025-03-03"),
        ("The council met on Monday, March 3, to approve it.", "Monday, March 3", "2025-03-03"),
        ("The council met on 3 Mar. and approved it.", "3 Mar.", "2025-03-03"),
        ("The deal was signed on 30 December 2024, officials said on Monday.", "30 December 2024", "2024-12-30"),
        ("The report, dated 2025-03-01, was released yesterday.", "2025-03-01", "2025-03-01"),
    ],
)
def test_explicit_dates_win(sentence: str, phrase: str, day: str) -> None:
    assert resolve_day_reference(sentence, TUE) == (phrase, d(day))


def test_dateline_is_not_the_event_day() -> None:
    sentence = "RIVERTON, March 11, 2025 — Teachers at Northgate Academy walked out yesterday in a strike."
    assert resolve_day_reference(sentence, d("2025-03-11")) == ("yesterday", d("2025-03-10"))


@pytest.mark.parametrize(
    "sentence",
    [
        "The wall is due to be built between May and December.",
        "All 5 may vote on the plan.",  # 'may' the verb
        "The Mayday parade was cancelled.",
        "Work will start in the spring.",
        "The council met on 30 February.",  # no such day, and nothing else named
        "Readers of the Mondayish newsletter complained.",
    ],
)
def test_no_day(sentence: str) -> None:
    assert resolve_day_reference(sentence, TUE) is None


def test_resolve_day_formats_and_needs_a_date() -> None:
    assert resolve_day("The authority said on Monday that costs rose.", TUE) == "Monday 24 March 2025"
    assert resolve_day("The authority said on Monday that costs rose.", None) is None
    assert resolve_day("No day here.", TUE) is None


# ------------------------------------------------------------------ event dates (#34 item 2)
@pytest.mark.parametrize(("sentence", "labels"), [
    ("French President Emmanuel Macron on March 11 called on military leaders", ["11 March"]),
    ("Talks began in early March 2025 and ended by April.", ["March 2025", "April"]),
    ("On Wednesday, 5 March, the council met; works start in mid-May", ["5 March", "May"]),
    ("The index rose on 2025-03-12.", ["12 March 2025"]),
    ("RIVERTON, March 11, 2025 — The ferry was suspended.", []),  # a dateline dates the article
    ("March organisers said all 5 may vote.", []),  # a month name alone, and 'may' the verb
    ("It happened on 31 April and 2025-13-45.", []),  # no such days
])
def test_stated_dates_are_the_dates_a_sentence_gives(sentence: str, labels: list[str]) -> None:
    from rag.answering.eventdates import stated_dates

    assert [found.label() for found in stated_dates(sentence)] == labels


def test_a_stated_date_without_a_year_falls_only_in_a_period_within_one_year() -> None:
    from rag.answering.eventdates import stated_dates

    (march_11,) = stated_dates("on March 11")
    assert march_11.within(d("2025-03-01"), d("2025-03-31"))
    assert not march_11.within(d("2025-04-01"), d("2025-04-30"))
    assert not march_11.within(d("2024-06-01"), None)  # 'since June 2024': which March 11?
    (dated,) = stated_dates("on 11 March 2024")
    assert not dated.within(d("2025-03-01"), d("2025-03-31"))
    assert dated.within(d("2025-03-01"), d("2025-03-31"), any_year=True)  # 'in March': no year was asked


@pytest.mark.parametrize(("question", "since", "until", "published", "expect"), [
    ("What happened in March 2025?", None, None, [None, None], ("2025-03-01", "2025-03-31", "", False)),
    ("What happened in March?", None, None, [None], ("2025-03-01", "2025-03-31", "", True)),
    ("What is happening with Macron in March 2025?", None, None, [None], ("2025-03-01", "2025-03-31", "Macron", False)),
    ("How many nations pledged troops?", "2025-03-01", None, [None], ("2025-03-01", None, None, False)),
    ("What happened?", "2025-03-01", "2025-03-31", [None], ("2025-03-01", "2025-03-31", "", False)),
    ("How many minutes did violence last on January 6, 2021?", None, None, [None], None),  # the event's time
    ("What happened in March 2025?", None, None, [None, "2025-03-02"], None),  # a dated article: a filter works
    ("What happened to the shares?", None, None, [None], None),  # no date asked
])
def test_a_date_question_over_undated_articles(question, since, until, published, expect) -> None:
    from rag.answering.eventdates import undated_ask

    day = lambda text: d(text) if text else None  # noqa: E731
    found = undated_ask(question, day(since), day(until), published, d("2025-12-01"))
    if expect is None:
        assert found is None
        return
    got = (found.since and found.since.isoformat(), found.until and found.until.isoformat(), found.topic, found.any_year)
    assert got == expect and found.articles == len(published)
    assert found.notice == (f"These {len(published)} articles have no publication date, so I can't filter by date."
                            if len(published) > 1 else "This article has no publication date, so I can't filter by date.")
