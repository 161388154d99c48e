"""Tests of the answer scorer and of the real gold file (evals/gold/seeds.jsonl).

The gold checks matter as much as the unit tests: a gold string that does not
literally occur in its source article can never be produced by an extractive
answerer, so it would silently cap the measured accuracy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # tests/ has no package; make `evals` importable
    sys.path.insert(0, str(REPO_ROOT))

from evals.scoring import (  # noqa: E402
    GoldFileError,
    GoldItem,
    Turn,
    contains,
    is_correct,
    load_gold,
    normalize,
)

# The seed questions, split into dev and test (evals/README.md).
GOLD_PATHS = [REPO_ROOT / "evals" / "gold" / split / "seeds.jsonl" for split in ("dev", "test")]


def _seeds_dir() -> Path:
    return REPO_ROOT / "seeds"


# --------------------------------------------------------------------------
# normalize
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Twenty-six nations", "26 nations"),
        ("twenty six", "26"),
        ("one", "1"),
        ("ninety-nine", "99"),
        ("eighty four", "84"),
        ("thirteen", "13"),
        ("one hundred and twelve drones", "112 drones"),
        ("two thousand three hundred", "2300"),
        ("one and two", "1 and 2"),  # not summed into 3
        ("a hundred", "a hundred"),  # bare scale word stays a word
        ("1.1 billion", "1.1 billion"),
        ("nearly three-year war", "nearly 3 year war"),
        ("someone often", "someone often"),  # no number words inside words
    ],
)
def test_normalize_numbers(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_thousands_separators() -> None:
    assert normalize("1,000 and 1,000,000") == "1000 and 1000000"
    assert normalize("2,5 and 1,2345") == "2,5 and 1,2345"  # not thousands groups


def test_normalize_accents_and_case() -> None:
    assert normalize("Élysée Türkiye Sébastien") == "elysee turkiye sebastien"
    assert normalize("Đo đạc") == "do dac"


def test_normalize_quotes_and_dashes() -> None:
    assert normalize("\u201cquoted\u201d \u2018x\u2019 Russia\u2019s") == "\"quoted\" 'x' russia's"
    assert normalize("a \u2014 b \u2013 c") == "a - b - c"


def test_normalize_percent_acronyms_hyphens_spaces() -> None:
    assert normalize("2.5 %") == normalize("2.5 percent") == normalize("2.5 per cent") == "2.5%"
    assert normalize("U.K. and U.S.") == "uk and us"
    assert normalize("long-range") == "long range"
    assert normalize("5-8 countries") == "5-8 countries"  # numeric range kept
    assert normalize("  a \n\t b  ") == "a b"


# --------------------------------------------------------------------------
# contains / is_correct
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "acceptable"),
    [
        ("26 nations pledged", "26"),
        ("twenty-six nations pledged", "26"),
        ("26 nations pledged", "twenty-six"),
        ("attended by 35 countries.", "35"),
        ("(26)", "26"),
        ("to 2.5 % of GDP", "2.5%"),
        ("received EUR1.1 billion in fuel sales", "1.1 billion"),  # currency prefix
        ("France and the U.K. agreed", "UK"),
        ("the Élysée Palace", "Elysee Palace"),
        ("a ‘dictator’", "dictator"),
        ("long range missiles", "long-range missiles"),
        ("WARSAW", "Warsaw"),
    ],
)
def test_contains_positive(answer: str, acceptable: str) -> None:
    assert contains(answer, acceptable)


@pytest.mark.parametrize(
    ("answer", "acceptable"),
    [
        ("126 drones", "26"),
        ("in 2026", "26"),
        ("26th", "26"),
        ("26.5 million", "26"),
        ("1,126 drones", "126"),
        ("12.5%", "2.5%"),
        ("2.5%", "2"),
        ("2.5%", "2%"),
        ("Russia", "US"),
        ("Warsawa", "Warsaw"),
        ("anything", ""),
        ("anything", "  "),
    ],
)
def test_contains_negative(answer: str, acceptable: str) -> None:
    assert not contains(answer, acceptable)


def test_is_correct_groups_are_and_strings_are_or() -> None:
    groups = [["Hungary"], ["Slovakia", "Slovak Republic"]]
    assert is_correct("only Hungary and Slovakia import directly", groups)
    assert not is_correct("only Hungary imports directly", groups)
    assert is_correct("Hungary and the Slovak Republic", groups)


def test_is_correct_empty() -> None:
    assert not is_correct("anything", [])
    assert not is_correct("anything", [["x"], []])


# --------------------------------------------------------------------------
# load_gold
# --------------------------------------------------------------------------

GOOD = {
    "id": "a",
    "question": "How many?",
    "answers": [["26"]],
    "sources": ["004.txt"],
    "answerable": True,
}
UNANSWERABLE = {"id": "u", "question": "Who?", "answers": [], "sources": [], "answerable": False}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_gold_valid(tmp_path: Path) -> None:
    follow = {
        **GOOD,
        "id": "f",
        "kind": "follow-up",
        "history": [
            {"role": "user", "content": "How many drones?"},
            {"role": "assistant", "content": "112."},
        ],
    }
    path = _write(tmp_path, [json.dumps(GOOD), "", "   ", json.dumps(UNANSWERABLE), json.dumps(follow)])
    items = load_gold(path)
    assert [i.id for i in items] == ["a", "u", "f"]
    assert items[0] == GoldItem("a", "How many?", (("26",),), ("004.txt",), True, (), "fact")
    assert items[1].kind == "unanswerable"  # derived when not given
    assert items[2].history == (Turn("user", "How many drones?"), Turn("assistant", "112."))
    assert items[2].history_dicts()[1] == {"role": "assistant", "content": "112."}
    assert items[0].is_correct("twenty-six nations")


BAD_LINES: list[tuple[str, str]] = [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "JSON object"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "sources"}), "missing field 'sources'"),
    (json.dumps({**GOOD, "answerable": 1}), "'answerable' must be bool"),
    (json.dumps({**GOOD, "question": 5}), "'question' must be str"),
    (json.dumps({**GOOD, "answer": [["x"]]}), "unknown field"),
    (json.dumps({**GOOD, "question": "  "}), "empty 'question'"),
    (json.dumps({**GOOD, "answers": []}), "no answer groups"),
    (json.dumps({**GOOD, "answers": [["26"], []]}), "empty group"),
    (json.dumps({**GOOD, "answers": [["26", ""]]}), "blank string"),
    (json.dumps({**GOOD, "answers": ["26"]}), "list of strings"),
    (json.dumps({**GOOD, "sources": []}), "no sources"),
    (json.dumps({**UNANSWERABLE, "answers": [["x"]]}), "empty 'answers'"),
    (json.dumps({**UNANSWERABLE, "sources": ["004.txt"]}), "empty 'sources'"),
    (json.dumps({**GOOD, "history": [{"role": "system", "content": "x"}]}), "bad role"),
    (json.dumps({**GOOD, "history": [{"role": ["user"], "content": "x"}]}), "bad role"),
    (json.dumps({**GOOD, "history": [{"role": "user"}]}), "history[0]"),
    (json.dumps({**GOOD, "history": [{"role": "user", "content": ""}]}), "empty or non-string"),
    (json.dumps({**GOOD, "kind": "trivia"}), "unknown kind"),
    (json.dumps({**GOOD, "kind": "unanswerable"}), "answerable is true"),
    (json.dumps(GOOD), "duplicate id 'a' (first on line 1)"),
]


@pytest.mark.parametrize(("bad", "fragment"), BAD_LINES)
def test_load_gold_errors_name_file_and_line(tmp_path: Path, bad: str, fragment: str) -> None:
    # Line 1 is valid, line 2 is blank, the bad line is line 3.
    path = _write(tmp_path, [json.dumps(GOOD), "", bad])
    with pytest.raises(GoldFileError) as exc_info:
        load_gold(path)
    err = exc_info.value
    assert err.line == 3
    assert str(err).startswith(f"{path}:3: ")
    assert fragment in str(err)
    assert isinstance(err, ValueError)


def test_load_gold_empty_file(tmp_path: Path) -> None:
    with pytest.raises(GoldFileError, match="no gold items"):
        load_gold(_write(tmp_path, [""]))


# --------------------------------------------------------------------------
# The real gold file
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gold() -> list[GoldItem]:
    return [item for path in GOLD_PATHS for item in load_gold(path)]


def test_gold_counts(gold: list[GoldItem]) -> None:
    assert len(gold) >= 40
    assert sum(not i.answerable for i in gold) >= 8
    assert sum(bool(i.history) for i in gold) >= 4
    assert sum(i.kind == "paraphrase" for i in gold) >= 6
    assert sum(len(i.sources) >= 2 for i in gold) >= 2
    assert sum(i.kind == "disambiguation" for i in gold) >= 2


def test_gold_sources_exist(gold: list[GoldItem]) -> None:
    seeds = _seeds_dir()
    for item in gold:
        for src in item.sources:
            assert (seeds / src).is_file(), f"{item.id}: unknown source {src}"


def test_gold_strings_occur_in_sources(gold: list[GoldItem]) -> None:
    """Every acceptable string must be quotable from one of its sources."""
    seeds = _seeds_dir()
    for item in gold:
        if not item.answerable:
            continue
        texts = [(seeds / s).read_text(encoding="utf-8") for s in item.sources]
        for group in item.answers:
            for acceptable in group:
                assert any(contains(t, acceptable) for t in texts), f"{item.id}: {acceptable!r}"


def test_gold_every_source_supports_answer(gold: list[GoldItem]) -> None:
    """Each listed source alone satisfies all groups, so citing any one suffices."""
    seeds = _seeds_dir()
    for item in gold:
        for src in item.sources if item.kind != "briefing" else ():  # a briefing is judged by its stories
            text = (seeds / src).read_text(encoding="utf-8")
            assert is_correct(text, item.answers), f"{item.id}: {src} does not support the answer"
