"""The harness end to end on a tiny gold file (hashing embedder: fast and deterministic)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from evals.__main__ import main
from evals.metrics import check_thresholds

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def write_gold(path: Path) -> Path:
    rows = [
        {"id": "force", "question": "How many nations pledged troops to the reassurance force?", "answers": [["26"]],
         "sources": ["004_b7c3ddf9127e697c.txt"], "answerable": True, "kind": "number"},
        {"id": "drones-follow", "question": "And how many were intercepted?", "answers": [["84"]],
         "sources": ["004_b7c3ddf9127e697c.txt"], "answerable": True, "kind": "follow-up",
         "history": [{"role": "user", "content": "How many drones did Russia fire across Ukraine overnight?"}]},
        {"id": "absent", "question": "What is the population of Brazil?", "answers": [], "sources": [],
         "answerable": False, "kind": "unanswerable"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_tiny_gold_end_to_end(tmp_path, capsys):
    gold = write_gold(tmp_path / "tiny.jsonl")
    out = tmp_path / "out"
    code = main(["--gold", str(gold), "--corpus", str(SEEDS), "--out", str(out), "--embedding-backend", "hashing",
                 "--no-thresholds"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["questions"] == 3
    assert report["summary"]["citations"]["quote_validity"] == 1.0
    assert set(report["by_kind"]) == {"number", "follow-up", "unanswerable"}
    answers = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert [a["id"] for a in answers] == ["force", "drones-follow", "absent"]
    first = answers[0]
    assert first["verdicts"]["correct"] == ("26" in first["answer"]["text"] and not first["answer"]["abstained"])
    assert answers[2]["verdicts"]["correct"] == answers[2]["answer"]["abstained"]
    assert (out / "report.md").read_text().startswith("# newsrag evals")
    assert "hit@1" in capsys.readouterr().out


def test_thresholds_fail_the_run(tmp_path):
    gold = write_gold(tmp_path / "tiny.jsonl")
    strict = tmp_path / "strict.toml"
    strict.write_text('[min]\n"answers.correctness" = 1.01\n')
    code = main(["--gold", str(gold), "--corpus", str(SEEDS), "--out", str(tmp_path / "o"),
                 "--embedding-backend", "hashing", "--thresholds", str(strict)])
    assert code == 1


def test_malformed_gold_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    assert main(["--gold", str(bad), "--embedding-backend", "hashing"]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err


def test_check_thresholds_floors_and_ceilings():
    flat = {"answers.correctness": 0.8, "answers.false_abstention_rate": 0.2}
    assert check_thresholds(flat, {"min": {"answers.correctness": 0.7}}) == []
    assert check_thresholds(flat, {"min": {"answers.correctness": 0.9}})
    assert check_thresholds(flat, {"max": {"answers.false_abstention_rate": 0.1}})
    assert check_thresholds(flat, {"min": {"retrieval.mrr": 0.5}}) == ["retrieval.mrr: not measured (threshold 0.5)"]


GOLD = Path(__file__).resolve().parents[1] / "evals" / "gold"
# Questions that look alike must share a split, or tuning on one would leak into the other.
LOOK_ALIKES = [
    ("military-chiefs-meeting-count", "reassurance-meeting-count"),
    ("uk-defense-target", "nato-spending-target"),
    ("invasion-age-001", "war-age-003"),
    ("macron-trump-venue", "coalition-venue"),
    ("drones-fired", "drones-paraphrase", "drones-intercepted-followup"),
]


def split_ids() -> dict[str, set[str]]:
    from evals.scoring import load_gold

    return {split: {i.id for path in (GOLD / split).glob("*.jsonl") for i in load_gold(path)}
            for split in ("dev", "test")}


def test_dev_and_test_splits_are_disjoint_and_keep_look_alikes_together():
    ids = split_ids()
    assert ids["dev"] and ids["test"]
    assert not ids["dev"] & ids["test"]
    for group in LOOK_ALIKES:
        homes = {split for split, members in ids.items() for g in group if g in members}
        assert len(homes) == 1, f"{group} is spread over {homes}"


def test_seed_split_is_stratified_by_kind():
    from collections import Counter

    from evals.scoring import load_gold

    kinds = {split: Counter(i.kind for i in load_gold(GOLD / split / "seeds.jsonl")) for split in ("dev", "test")}
    for kind in kinds["dev"] | kinds["test"]:
        assert abs(kinds["dev"][kind] - kinds["test"][kind]) <= 2, kind
    assert kinds["test"]["unanswerable"] >= 5


def test_direct_matches_short_answers_dates_and_yes_no():
    from evals.scoring import direct_matches

    assert direct_matches("twenty-six", "26")
    assert direct_matches("Emmanuel Macron", "Macron")
    assert not direct_matches("126", "26")
    assert not direct_matches("Yes", "No") and not direct_matches(None, "No") and not direct_matches("", "No")
    assert direct_matches("Friday, 14 February 2025", "2025-02-14")
    assert direct_matches("Feb. 14, 2025", "2025-02-14")
    assert not direct_matches("15 February 2025", "2025-02-14")
    # A whole sentence that happens to hold the answer is not a direct answer.
    assert not direct_matches("Macron said that 26 nations have pledged troops to the force", "26")


def test_superseded_figure_must_not_come_first(tmp_path):
    from evals.scoring import load_gold

    row = {"id": "cost", "question": "What will the bridge cost?", "answers": [["2.1 billion"]], "sources": ["a.txt"],
           "answerable": True, "kind": "revision", "direct": "£2.1 billion", "superseded": ["1.8 billion"]}
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps(row) + "\n")
    item = load_gold(path)[0]
    assert item.is_correct("The cost is now £2.1 billion, up from £1.8 billion.")
    assert not item.is_correct("It was put at £1.8 billion; it is now £2.1 billion.")
    assert not item.is_correct("It will cost £1.8 billion.")


def read_article(corpus: str, source: str, split: str = "test") -> str:
    from evals.corpora import source_path

    raw = source_path(corpus, source, split).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # some BBC files are Latin-1 (the pound sign)
        return raw.decode("latin-1")


def all_gold() -> list[tuple[str, str, object]]:
    """(split, corpus, item) for every gold item of every corpus."""
    from evals.scoring import load_gold

    return [(split, path.stem, item) for split in ("dev", "test") for path in sorted((GOLD / split).glob("*.jsonl"))
            for item in load_gold(path)]


def test_every_split_covers_every_corpus_including_external():
    stems = {split: {p.stem for p in (GOLD / split).glob("*.jsonl")} for split in ("dev", "test")}
    assert stems["dev"] == stems["test"] and "external" in stems["test"]


def test_every_gold_answer_is_quotable_from_each_of_its_sources():
    """Gold strings must occur in every listed source (so citing any one suffices), and a `direct`
    answer must be found in the source too (dates may be written as ISO, the article's own form differs)."""
    from evals.scoring import as_iso_date, contains, is_correct

    for split, corpus, item in all_gold():
        if item.kind == "briefing":  # judged by its stories: each must be an article of the corpus
            for source in {*item.sources, *item.acceptable, *(s for g in item.story_groups for s in g)}:
                assert read_article(corpus, source, split).strip(), f"{corpus}/{item.id}: unknown story {source}"
            continue
        for source in item.sources:
            text = read_article(corpus, source, split)
            assert is_correct(text, item.answers), f"{corpus}/{item.id}: {source} does not support the answer"
            if item.direct and as_iso_date(item.direct) is None and item.direct not in ("Yes", "No"):
                assert contains(text, item.direct), f"{corpus}/{item.id}: direct {item.direct!r} not in {source}"
        for source in item.expect_also_in:
            assert read_article(corpus, source, split), f"{corpus}/{item.id}: unknown copy {source}"


@pytest.mark.parametrize(("split", "articles", "per_article_min", "n_distractors", "n_unanswerable"),
                         [("test", 30, 2, 60, 20), ("dev", 20, 1, 40, 15)])
def test_bbc_gold_covers_every_listed_article_and_only_those(
    split, articles, per_article_min, n_distractors, n_unanswerable
):
    from collections import Counter

    from evals.corpora import BBC_LISTS, bbc_articles
    from evals.scoring import load_gold

    gold_articles, distractors = bbc_articles(BBC_LISTS[split])
    items = load_gold(GOLD / split / "bbc.jsonl")
    per_article = Counter(s for i in items for s in i.sources)
    assert set(per_article) == set(gold_articles) and len(gold_articles) >= articles
    assert min(per_article.values()) >= per_article_min
    assert {a.split("/")[0] for a in gold_articles} == {"business", "entertainment", "politics", "sport", "tech"}
    assert not set(distractors) & set(gold_articles) and len(distractors) >= n_distractors
    assert sum(not i.answerable for i in items) >= n_unanswerable


def test_bbc_dev_and_test_articles_are_different_files_and_stories():
    """Tuning on dev must never ingest a test article, not even a copy of one under another name."""
    from evals.corpora import BBC_LISTS, bbc_articles

    dev, test = (set(sum(bbc_articles(BBC_LISTS[split]), [])) for split in ("dev", "test"))
    assert not dev & test
    opening = lambda rel: " ".join(read_article("bbc", rel).split()[:12]).lower()  # noqa: E731
    assert not {opening(r) for r in dev} & {opening(r) for r in test}


def test_bbc_articles_live_in_the_repository_and_each_split_ingests_only_its_own(tmp_path):
    """A fresh clone needs nothing beside it: the in-repo BBC folder holds exactly the listed articles
    (plus the one non-UTF-8 file tests/test_corpus.py decodes), and a split's copy holds only its own."""
    from evals.corpora import BBC_DIR, BBC_LISTS, bbc_articles, prepare

    listed = {split: set(sum(bbc_articles(listing), [])) for split, listing in BBC_LISTS.items()}
    assert BBC_DIR.is_relative_to(Path(__file__).resolve().parents[1])
    in_repo = {p.relative_to(BBC_DIR).as_posix() for p in BBC_DIR.glob("*/*.txt")}
    assert in_repo == listed["dev"] | listed["test"] | {"sport/199.txt"}
    for split, articles in listed.items():
        folder = prepare("bbc", tmp_path / split, split)
        copied = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        assert copied == articles, split
        assert all((folder / rel).read_bytes() == (BBC_DIR / rel).read_bytes() for rel in copied)


def test_missing_bbc_articles_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    import evals.corpora as corpora

    monkeypatch.setattr(corpora, "BBC_DIR", tmp_path / "nowhere" / "bbc")
    assert main(["--split", "test", "--embedding-backend", "hashing", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "BBC corpus is missing" in err and len(err.splitlines()) == 1


def test_dated_corpus_has_every_date_form_wire_copies_and_an_undated_article():
    import difflib
    import re

    from evals.corpora import DATED_DIR

    files = {p.name: p.read_text(encoding="utf-8") for p in DATED_DIR.iterdir() if p.is_file()}
    assert len(files) >= 12 and {n.rsplit(".", 1)[1] for n in files} == {"html", "md", "txt"}
    everything = "\n".join(files.values())
    for form in (r'property="article:published_time" content="2025-', r'<meta name="date" content="2025-',
                 r'"datePublished": "2025-', r"^date: 2025-\d\d-\d\d$", r"^RIVERTON, [A-Z][a-z]+ \d+, 2025 —",
                 r"^\d{1,2} (January|February|March|April) 2025$"):
        assert re.search(form, everything, re.M), form
    assert not re.search(r"20\d\d-\d\d-\d\d|2025", files["old-mill-history.txt"])
    strip = lambda html: re.sub(r"<[^>]+>", " ", html.split("<article>")[1].split("</article>")[0])  # noqa: E731
    a, b = strip(files["flood-wall-gazette.html"]), strip(files["flood-wall-echo.html"])
    assert difflib.SequenceMatcher(None, a, b).ratio() > 0.9


def test_dated_gold_covers_filters_time_ranges_wire_copies_revisions_and_dates():
    from evals.scoring import load_gold

    items = load_gold(GOLD / "test" / "dated.jsonl")
    assert sum(bool(i.filters) for i in items) >= 4
    assert sum(i.expect_time_range is not None for i in items) >= 4
    assert sum(bool(i.expect_also_in) for i in items) >= 2
    assert sum(bool(i.superseded) for i in items) >= 1
    assert sum(i.kind == "date" and i.direct is not None for i in items) >= 3


def gold_item(tmp_path: Path, **fields):
    from evals.scoring import load_gold

    row = {"id": "q", "question": "How much will the rail link cost?", "answers": [["2.1 billion"]],
           "sources": ["new.md"], "answerable": True, **fields}
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}.jsonl"
    path.write_text(json.dumps(row) + "\n")
    return load_gold(path)[0]


def answer_dict(text="It will cost £2.1 billion. [1]", direct=None, time_range=None, citations=None):
    cites = citations if citations is not None else [
        {"marker": 1, "source": "new.md", "quote": "x", "start": 0, "end": 1, "published": "2025-03-25", "also_in": []}]
    return {"text": text, "direct": direct, "time_range": time_range, "citations": cites, "abstained": False,
            "retrieved_sources": [c["source"] for c in cites], "timings": {"total_s": 0.01}}


def test_news_verdicts(tmp_path):
    from evals.metrics import judge, summarize

    item = gold_item(tmp_path, direct="2.1 billion", filters={"since": "2025-03-01"},
                     expect_time_range={"since": "2025-03-01", "until": None})
    good = judge(item, answer_dict(direct="£2.1 billion", time_range={"since": "2025-03-01", "until": None}), True)
    assert good.verdicts["direct_correct"] and good.verdicts["time_range_correct"]
    assert good.verdicts["citations_within_filter"] == 1.0
    old = {"marker": 2, "source": "old.html", "quote": "y", "start": 0, "end": 1, "published": "2025-02-03", "also_in": []}
    undated = {**old, "source": "mill.txt", "published": None}
    bad = judge(item, answer_dict(direct="1.8 billion", time_range={"since": "2025-03-01", "until": "2025-04-16"},
                                  citations=[answer_dict()["citations"][0], old, undated]), True)
    assert not bad.verdicts["direct_correct"] and not bad.verdicts["time_range_correct"]
    assert bad.verdicts["citations_within_filter"] == 1 / 3  # an undated article is outside any date range
    news = summarize([good, bad])["news"]
    assert news["direct_accuracy"] == 0.5 and news["time_range_accuracy"] == 0.5


def test_also_in_needs_both_copies_reported(tmp_path):
    from evals.metrics import judge

    item = gold_item(tmp_path, sources=["a.html", "b.html"], answers=[["650"]], expect_also_in=["a.html", "b.html"])
    cite = {"marker": 1, "source": "a.html", "quote": "x", "start": 0, "end": 1, "published": None}
    assert judge(item, answer_dict("650 homes [1]", citations=[{**cite, "also_in": ["b.html"]}]), True) \
        .verdicts["also_in_correct"]
    assert not judge(item, answer_dict("650 homes [1]", citations=[{**cite, "also_in": []}]), True) \
        .verdicts["also_in_correct"]


class FakeAnswer:
    def __init__(self, data):
        self.data = data

    def to_dict(self):
        return self.data


class FilteringAssistant:
    """Answers from a fixed table and records the restrictions it was asked with."""

    def __init__(self):
        self.calls = []

    def documents(self):
        return [{"source": "new.md"}]

    def article(self, source):
        return {"text": "x" * 10}

    def ask(self, question, history=None, mode=None, sources=None, since=None, until=None):
        self.calls.append({"sources": sources, "since": since, "until": until})
        return FakeAnswer(answer_dict())


def test_filters_reach_ask_and_an_api_without_them_is_reported(tmp_path):
    from evals.__main__ import evaluate

    item = gold_item(tmp_path, filters={"sources": ["new.md"], "until": "2025-03-31"})
    fake = FilteringAssistant()
    [record] = evaluate(fake, [item], "extractive")
    assert fake.calls[-1] == {"sources": ["new.md"], "since": None, "until": "2025-03-31"}
    assert record.verdicts["correct"] and record.verdicts["citations_within_filter"] == 1.0

    class Older(FilteringAssistant):
        def ask(self, question, history=None, mode=None):
            return FakeAnswer(answer_dict())

    [record] = evaluate(Older(), [item], "extractive")
    assert not record.verdicts["correct"] and "does not accept" in record.answer["error"]


def test_unknown_comparison_is_a_clear_error(capsys):
    assert main(["--compare", "hybrid,fastest", "--embedding-backend", "hashing"]) == 2
    assert "unknown configuration fastest" in capsys.readouterr().err


def test_compare_writes_one_report_per_configuration(tmp_path, capsys):
    gold = write_gold(tmp_path / "tiny.jsonl")
    out = tmp_path / "out"
    assert main(["--gold", str(gold), "--corpus", str(SEEDS), "--out", str(out), "--embedding-backend", "hashing",
                 "--compare", "hybrid,bm25"]) == 0
    assert json.loads((out / "bm25" / "report.json").read_text())["config"]["overrides"] == {"retriever": "bm25"}
    assert (out / "hybrid" / "report.json").is_file()
    printed = capsys.readouterr().out
    assert "diff" in printed and "risk-coverage operating point" in printed
    if importlib.util.find_spec("matplotlib"):  # both configurations' curves in one picture
        assert (out / "risk-coverage" / "custom.png").is_file() and (out / "bm25" / "risk-coverage" / "custom.png").is_file()


def test_reused_data_dir_keeps_corpus_paths_so_reruns_update_not_duplicate(tmp_path):
    # Regression: each run copied the BBC articles to a new temp folder; with --data-dir reused,
    # the index kept the last run's documents too and named the new ones "bbc/business/386.txt".
    import argparse

    from evals.__main__ import corpus_folder

    args = argparse.Namespace(data_dir=tmp_path / "data", split="dev", corpus=None)
    first = corpus_folder("bbc", args, tmp_path / "run1")
    (first / "stale.txt").write_text("left over from another listing")
    second = corpus_folder("bbc", args, tmp_path / "run2")
    assert first == second and second.is_relative_to(tmp_path / "data")
    assert not (second / "stale.txt").exists()
    assert corpus_folder("bbc", argparse.Namespace(data_dir=None, split="dev", corpus=None), tmp_path / "run3") == tmp_path / "run3" / "bbc"


def test_direct_precision_judges_bold_answers_where_they_are_shown(tmp_path):
    from evals.metrics import judge, summarize

    item = gold_item(tmp_path, direct="2.1 billion")
    right = judge(item, answer_dict(direct="£2.1 billion"), True)
    wrong = judge(item, answer_dict(direct="1.8 billion"), True)
    silent = judge(item, answer_dict(direct=None), True)  # the cited sentence alone: no bold claim to be wrong
    news = summarize([right, wrong, silent, silent])["news"]
    assert news["direct_precision"] == 0.5 and news["direct_coverage"] == 0.5
    assert news["direct_accuracy"] == 0.25


def test_a_bold_answer_to_an_unanswerable_question_counts_against_direct_precision(tmp_path):
    """Regression: 'Hazel Gilbert' in bold for "Who is the manager of Newcastle?" (the corpus does
    not say) was shown and wrong, yet direct precision only judged questions with a gold answer."""
    from evals.metrics import judge, summarize

    answerable = gold_item(tmp_path, direct="2.1 billion")
    unanswerable = gold_item(tmp_path, answers=[], answerable=False, sources=[])
    right = judge(answerable, answer_dict(direct="£2.1 billion"), True)
    bold_on_nothing = judge(unanswerable, answer_dict(direct="£1.8 billion"), True)
    quiet_on_nothing = judge(unanswerable, answer_dict(direct=None), True)
    news = summarize([right, bold_on_nothing, quiet_on_nothing])["news"]
    assert news["direct_precision"] == 0.5
    assert news["direct_coverage"] == 1.0 and news["direct_accuracy"] == 1.0  # over gold answers only


def test_the_stories_corpus_is_in_the_repo_and_each_split_has_its_own_stories(tmp_path):
    from evals.corpora import STORIES_DIR, STORIES_LISTS, bbc_articles, prepare

    listed = {split: bbc_articles(listing) for split, listing in STORIES_LISTS.items()}
    in_repo = {p.relative_to(STORIES_DIR).as_posix() for p in STORIES_DIR.glob("*/*.txt")}
    assert in_repo == {a for gold, distractors in listed.values() for a in gold + distractors}
    assert not set(listed["dev"][0]) & set(listed["test"][0])  # tuning never sees a test story
    folder = prepare("stories", tmp_path, "test")
    assert {p.relative_to(folder).as_posix() for p in folder.rglob("*.txt")} == set(sum(listed["test"], []))


def test_briefing_metrics_recall_precision_order_and_one_item_per_story():
    from evals.metrics import judge, summarize
    from evals.scoring import GoldItem

    gold = GoldItem(id="b", question="What happened?", answers=(), sources=("a", "b", "wire1"), answerable=True,
                    kind="briefing", acceptable=("c",), order="oldest", story_groups=(("wire1", "wire2"),))

    def answer(*items):
        return {"abstained": False, "kind": "briefing", "timings": {}, "citations": [], "retrieved_sources": [],
                "items": [{"source": s, "published": d, "also_in": []} for s, d in items]}

    good = judge(gold, answer(("a", "2025-01-01"), ("wire2", "2025-01-02"), ("c", None)), True, max_stories=6)
    assert good.verdicts["story_recall"] == 2 / 3 and good.verdicts["story_precision"] == 1.0
    assert good.verdicts["order_correct"] and good.verdicts["one_item_per_story"]
    bad = judge(gold, answer(("b", "2025-02-01"), ("wire1", "2025-01-05"), ("wire2", "2025-01-06"), ("x", None)), True, 6)
    assert bad.verdicts["story_precision"] == 0.75 and not bad.verdicts["order_correct"]
    assert not bad.verdicts["one_item_per_story"]  # two copies of one wire story
    capped = judge(gold, answer(("a", None), ("b", None)), True, max_stories=2)
    assert capped.verdicts["story_recall"] == 1.0  # recall never asks for more than the briefing shows
    off = judge(GoldItem(id="o", question="q", answers=(), sources=(), answerable=False, kind="briefing"),
                {**answer(), "abstained": True}, True)
    summary = summarize([good, bad, off])
    assert summary["briefing"]["off_topic_abstention"] == 1.0 and summary["answers"]["correctness"] is None


@pytest.mark.parametrize(("split", "years", "answerable", "unanswerable", "passages"),
                         [("dev", {"2020", "2021", "2022"}, 400, 150, 1200), ("test", {"2023", "2024"}, 199, 80, 800)])
def test_external_corpus_is_in_the_repo_each_split_its_own_years(split, years, answerable, unanswerable, passages):
    """RealTimeQA's quizzes in the repository (a fresh clone has no ../shared): dev and test from
    different years, never 2025 or later (the outside check), each split ingesting only its own."""
    import re

    from evals.corpora import EXTERNAL_DIR, prepare
    from evals.scoring import load_gold

    folder = prepare("external", Path("unused"), split)
    assert folder == EXTERNAL_DIR / split and folder.is_relative_to(Path(__file__).resolve().parents[1])
    files = sorted(folder.glob("*.txt"))
    assert len(files) == passages
    published = {re.match(r"Published: \d{1,2} \w+ (\d{4})\n", p.read_text(encoding="utf-8"))[1] for p in files}
    assert published == years
    items = load_gold(GOLD / split / "external.jsonl")
    assert sum(i.answerable for i in items) == answerable and sum(not i.answerable for i in items) == unanswerable
    assert all(i.direct for i in items if i.answerable)
    other = "test" if split == "dev" else "dev"
    assert not {p.name for p in files} & {p.name for p in (EXTERNAL_DIR / other).glob("*.txt")}


def test_external_corpus_carries_its_provenance_and_copyright_note():
    from evals.corpora import EXTERNAL_DIR

    readme = (EXTERNAL_DIR / "README.md").read_text(encoding="utf-8")
    assert "RealTimeQA" in readme and "Copyright in the passages stays with their publishers" in readme


def scored(tmp_path, score, *, right=True, shown=True, answerable=True, field="probability"):
    """A judged record whose answer carries `score` (None: no score field)."""
    from evals.metrics import judge

    item = gold_item(tmp_path) if answerable else gold_item(tmp_path, answers=[], answerable=False, sources=[])
    answer = answer_dict(text="It will cost £2.1 billion. [1]" if right else "It will cost £1.8 billion. [1]")
    answer["abstained"] = not shown
    if score is not None:
        answer[field] = score
    return judge(item, answer, True)


def test_risk_coverage_traces_precision_from_the_surest_answer_to_the_operating_point(tmp_path):
    from evals.risk import risk_coverage

    records = [scored(tmp_path, 0.9), scored(tmp_path, 0.8, right=False), scored(tmp_path, 0.7),
               scored(tmp_path, 0.6, answerable=False),  # an answer to an unanswerable question is wrong
               scored(tmp_path, 0.2, shown=False), scored(tmp_path, None, shown=False, answerable=False)]
    rc = risk_coverage(records)
    assert rc["score"] == "probability"
    assert rc["operating_point"] == {"coverage": round(4 / 6, 4), "precision": 0.5, "answered": 4, "right": 2,
                                     "questions": 6}
    assert [(s["threshold"], s["coverage"], s["precision"]) for s in rc["curve"]] == [
        (0.9, round(1 / 6, 4), 1.0), (0.8, round(2 / 6, 4), 0.5), (0.7, 0.5, round(2 / 3, 4)), (0.6, round(4 / 6, 4), 0.5)]
    assert rc["curve"][-1]["coverage"] == rc["operating_point"]["coverage"]
    assert 0 < rc["area"] < rc["operating_point"]["coverage"]


def test_risk_coverage_ties_are_one_step_and_any_score_field_can_be_read(tmp_path):
    from evals.risk import risk_coverage

    records = [scored(tmp_path, 2.0, field="confidence"), scored(tmp_path, 2.0, right=False, field="confidence")]
    assert risk_coverage(records, ["probability"])["curve"] == []  # not the field asked for: no curve
    rc = risk_coverage(records, ["probability", "confidence"])
    assert rc["score"] == "confidence" and len(rc["curve"]) == 1 and rc["curve"][0]["precision"] == 0.5


def test_risk_coverage_counts_answers_shown_without_a_score_at_every_threshold(tmp_path):
    """A yes/no decided by rules carries no probability: no threshold withholds it, so the curve starts
    from it instead of being dropped (or dropping the curve)."""
    from evals.risk import risk_coverage

    rc = risk_coverage([scored(tmp_path, None, right=False), scored(tmp_path, 0.9), scored(tmp_path, 0.5, shown=False)])
    assert rc["shown_without_score"] == 1
    assert [(s["threshold"], s["coverage"], s["precision"]) for s in rc["curve"]] == [
        (None, round(1 / 3, 4), 0.0), (0.9, round(2 / 3, 4), 0.5)]
    assert rc["operating_point"]["coverage"] == rc["curve"][-1]["coverage"]


def test_risk_coverage_without_scores_keeps_the_operating_point_and_draws_no_curve(tmp_path):
    from evals.risk import risk_coverage

    rc = risk_coverage([scored(tmp_path, None), scored(tmp_path, None, right=False)])
    assert rc["curve"] == [] and rc["area"] is None and rc["score"] is None
    assert rc["operating_point"]["precision"] == 0.5 and rc["operating_point"]["coverage"] == 1.0


def test_risk_coverage_png_marks_each_configuration(tmp_path):
    pytest.importorskip("matplotlib")
    from evals.risk import plot, risk_coverage

    rc = risk_coverage([scored(tmp_path, 0.9), scored(tmp_path, 0.4, right=False)])
    path = plot({"new": rc, "old": risk_coverage([scored(tmp_path, None)])}, "external (dev)", tmp_path / "rc.png")
    assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_has_a_risk_coverage_curve_per_corpus(tmp_path, capsys):
    gold = write_gold(tmp_path / "tiny.jsonl")
    out = tmp_path / "out"
    assert main(["--gold", str(gold), "--corpus", str(SEEDS), "--out", str(out), "--embedding-backend", "hashing",
                 "--no-thresholds"]) == 0
    rc = json.loads((out / "report.json").read_text())["corpora"]["custom"]["risk_coverage"]
    assert rc["operating_point"]["questions"] == 3
    answers = [json.loads(line)["answer"] for line in (out / "answers.jsonl").read_text().splitlines()]
    assert rc["operating_point"]["answered"] == sum(not a["abstained"] for a in answers)
    if rc["score"] is not None:  # the answers carry a score: the curve ends at the operating point
        assert rc["curve"][-1]["coverage"] == rc["operating_point"]["coverage"]
    assert "risk-coverage: answered" in capsys.readouterr().out
    assert "## Risk-coverage" in (out / "report.md").read_text()
    if rc["png"]:
        assert (out / rc["png"]).is_file()


def test_long_runs_show_progress_on_a_terminal_and_stay_quiet_in_logs(tmp_path, capsys, monkeypatch):
    """Issue #34: `newsrag evals --split dev` printed nothing for six of its eight minutes. On a
    terminal a bar names the corpus, counts the questions done and estimates the time left; in a
    log (CI, a pipe) nothing is drawn."""
    import evals.__main__ as harness

    gold = write_gold(tmp_path / "tiny.jsonl")
    run = ["--gold", str(gold), "--corpus", str(SEEDS), "--embedding-backend", "hashing", "--no-thresholds"]
    assert main(run + ["--out", str(tmp_path / "quiet")]) == 0
    assert "3/3" not in capsys.readouterr().err  # capsys is no terminal: quiet
    monkeypatch.setattr(harness, "on_terminal", lambda: True)
    assert main(run + ["--out", str(tmp_path / "shown")]) == 0
    err = capsys.readouterr().err
    assert "gold/custom" in err and "3/3" in err and "<" in err  # corpus, questions done, elapsed<left


def test_only_runs_the_named_corpora_and_an_unknown_name_is_a_clear_error(capsys):
    import argparse

    from evals.__main__ import gold_sets

    sets = gold_sets(argparse.Namespace(gold=None, split="dev", only="external,dated"))
    assert set(sets) == {"external", "dated"} and len(sets["external"]) == 550
    assert main(["--split", "dev", "--only", "externals", "--embedding-backend", "hashing"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no corpus named externals" in err and len(err.splitlines()) == 1


def test_hand_set_decision_answers_exactly_where_the_old_sum_reached_its_threshold():
    """`--compare calibrated,hand-set` sets the old decision beside the new: the file must say
    -margin + 0.25 x relevance - 6 (span unfit) - 6 (names missing) >= 3.5, as a probability >= 0.5."""
    from rag.answering.calibrator import Calibrator, Signals

    from evals.__main__ import VARIANTS

    old = Calibrator.load(Path(VARIANTS["hand-set"]["reader_calibrator"]))

    def answers(reader, relevance, fits, names):
        signals = Signals(reader=reader, relevance=relevance, fits=fits, names=names, agree=3, gap=9, rank=4,
                          retrieval=0.2, words=2)
        return old.probability(signals) >= old.answer_at

    for reader, relevance, fits, names in [(3.5, 0, 1, 1), (1.5, 8, 1, 1), (9.5, 0, 0, 1), (15.5, 0, 0, 0), (-8.5, -4, 1, 1)]:
        total = reader + 0.25 * relevance - 6 * (1 - fits) - 6 * (1 - names)
        assert answers(reader, relevance, fits, names) == (total >= 3.5)
        assert answers(reader - 0.01, relevance, fits, names) == (total - 0.01 >= 3.5)
    # Its bold rule: margin <= -8 and relevance >= -8, whatever the sum.
    bold = lambda reader, relevance: old.bold(Signals(reader, relevance, 1, 1, 0, 0, 1, 0, 1), 0.0)  # noqa: E731
    assert bold(8.0, -8.0) and not bold(7.9, 5.0) and not bold(12.0, -8.1)


def test_the_default_decision_is_the_hand_set_one_and_the_learned_model_is_opt_in():
    """On in-house dev the learned model, at the sum's abstention, answers fewer questions right, so
    the shipped default stays the hand-set sum; `--compare calibrated,hand-set` shows both."""
    from rag.answering.calibrator import HAND_SET, WEIGHTS, Calibrator
    from rag.settings import Settings

    from evals.__main__ import VARIANTS

    assert Settings().answer.reader_calibrator is None and Calibrator.load() == Calibrator.load(HAND_SET)
    assert VARIANTS["calibrated"]["reader_calibrator"] == str(WEIGHTS) and Calibrator.load(WEIGHTS) != Calibrator.load()
