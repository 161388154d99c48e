"""Publication dates: HTML metadata, then front matter, then a dateline near the top; else None."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rag.sources import ReadOptions, html_date, normalize_date, read_article, text_date
from rag.settings import Settings

BODY = "The Riverton council voted 7 to 2 on Tuesday to rebuild the harbour bridge, officials said.\n"
DEFAULTS = Settings()


def dated(text: str) -> str | None:
    return text_date(text, 0, DEFAULTS.date_window_chars, DEFAULTS.date_window_lines)


@pytest.mark.parametrize(
    "top, expected",
    [
        ("RIVERTON, March 9, 2025 — The council met on Tuesday.", "2025-03-09"),
        ("NEW YORK (Reuters), Friday, Jan. 3, 2025 - Stocks rose.", "2025-01-03"),
        ("3 March 2025", "2025-03-03"),
        ("March 9, 2025", "2025-03-09"),
        ("2025-03-09", "2025-03-09"),
        ("Published: 9 Mar 2025", "2025-03-09"),
        ("Published on Monday, 9th March 2025 10:31 GMT", "2025-03-09"),
        ("Updated: 2025-03-10T10:00:00Z\nPublished: 2025-03-08", "2025-03-08"),  # published wins
        ("Updated: 2025-03-10T10:00:00Z", "2025-03-10"),  # an update date is better than none
    ],
)
def test_explicit_date_forms_near_the_top(top, expected):
    assert dated("Bridge vote\n" + top + "\n" + BODY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Bridge vote\nOn Monday the council met.\n" + BODY,  # a relative word is not a date
        "Bridge vote\nRichey Edwards vanished 10 years ago, on 1 February 1995.\n" + BODY,  # an event
        "Bridge vote\n" + BODY,  # undated
        "Bridge vote\nMarch 32, 2025\n" + BODY,  # not a calendar date
        "Bridge vote\n2999-01-01\n" + BODY,  # publication dates are never in the future
        "Bridge vote\nOne.\nTwo.\nThree.\nMarch 9, 2025\n" + BODY,  # below the first three lines
    ],
    ids=["weekday", "event", "undated", "invalid", "future", "too-far-down"],
)
def test_no_date_without_explicit_evidence(text):
    assert dated(text) is None


def test_window_is_a_setting():
    text = "Bridge vote\nOne.\nTwo.\nMarch 9, 2025\n" + BODY
    assert dated(text) is None
    assert text_date(text, 0, 300, 4) == "2025-03-09"


def page(head: str, body: str = "") -> str:
    return (f"<html><head><title>Bridge</title>{head}</head><body><article>{body}<p>{BODY}</p>"
            "<p>Copyright 2023. Updated 2022-01-05 by the web team.</p></article></body></html>")


@pytest.mark.parametrize(
    "head, body, expected",
    [
        ('<meta property="article:published_time" content="2024-05-02T10:00:00Z">', "", "2024-05-02"),
        ('<meta name="date" content="2023-11-07">', "", "2023-11-07"),
        ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
         '"datePublished": "2022-03-04T08:00:00+00:00", "dateModified": "2022-03-06"}</script>', "", "2022-03-04"),
        ("", '<time datetime="2021-02-03" pubdate>3 Feb</time>', "2021-02-03"),
        ("", "", None),  # loose dates in the body text ("Updated 2022-01-05") are not metadata
    ],
    ids=["article-published-time", "meta-date", "json-ld", "time-element", "none"],
)
def test_html_metadata_dates(head, body, expected):
    assert html_date(page(head, body)) == expected


def test_html_date_never_falls_back_to_today():
    assert html_date("<html><body><p>Nothing dated here at all, just words.</p></body></html>") is None
    today = dt.date.today().isoformat()
    assert html_date(page("")) != today


def test_html_metadata_beats_the_dateline(tmp_path):
    path = tmp_path / "p.html"
    path.write_text(page('<meta name="date" content="2023-11-07">', "<p>RIVERTON, March 9, 2025 — Council met.</p>"))
    assert read_article(path, path.name, 1_000_000).published == "2023-11-07"
    path.write_text(page("", "<p>RIVERTON, March 9, 2025 — Council met.</p>"))
    assert read_article(path, path.name, 1_000_000).published == "2025-03-09"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-03-09", "2025-03-09"),  # YAML turns this into a date
        ("2025-03-09T10:00:00Z", "2025-03-09"),
        ('"March 9, 2025"', "2025-03-09"),
        ('"last week"', None),
    ],
)
def test_front_matter_date_forms(tmp_path, value, expected):
    path = tmp_path / "a.md"
    path.write_text(f"---\ndate: {value}\n---\n# Bridge vote\n\n{BODY}")
    assert read_article(path, "a.md", 1_000_000, ReadOptions()).published == expected


def test_front_matter_beats_the_dateline(tmp_path):
    path = tmp_path / "a.md"
    path.write_text(f"---\ndate: 2024-01-02\n---\nBridge vote\nMarch 9, 2025\n{BODY}")
    assert read_article(path, "a.md", 1_000_000).published == "2024-01-02"


def test_file_mtime_is_never_a_date(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Bridge vote\n" + BODY)
    assert read_article(path, "a.txt", 1_000_000).published is None


def test_normalize_date_values():
    assert normalize_date(dt.date(2025, 3, 9)) == "2025-03-09"
    assert normalize_date(dt.datetime(2025, 3, 9, 23, 0)) == "2025-03-09"
    assert normalize_date(20250309) is None and normalize_date(None) is None


def test_seeds_are_undated():
    seeds = Path(__file__).resolve().parents[1] / "seeds"
    assert [read_article(p, p.name, 5_000_000).published for p in sorted(seeds.glob("*.txt"))] == [None] * 5
