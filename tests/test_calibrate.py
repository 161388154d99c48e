"""evals/calibrate.py: the operating points and figures it reports, on invented readings (no model)."""

from __future__ import annotations

import random

from evals.calibrate import compare_models, figures, fit, operating_point, readme
from rag.answering.calibrator import FEATURES


def _reading(reader: float, right: bool, span: str = "Texas", direct_right: bool | None = None) -> dict:
    signals = {f: 0.0 for f in FEATURES} | {"reader": reader, "fits": 1.0, "names": 1.0, "rank": 1.0, "words": 1.0}
    return {"signals": signals, "span": span, "sentence": f"It was {span}.", "source": "a.txt", "right": right,
            "direct_right": right if direct_right is None else direct_right}


def _row(i: int, readings: list[dict], answerable: bool = True, corpus: str = "external") -> dict:
    return {"corpus": corpus, "id": str(i), "answerable": answerable, "gold_direct": answerable, "kind": "place",
            "readings": readings, "product": {"correct": False, "abstained": True, "direct_correct": False,
                                              "direct_shown": False, "direct_shown_unanswerable": False}}


def test_figures_count_the_lead_reading_of_each_question_shown():
    rows = [_row(0, [_reading(9, True)]), _row(1, [_reading(5, False)]), _row(2, [_reading(2, False)], answerable=False),
            _row(3, [])]
    tops = [(0.9, rows[0]["readings"][0]), (0.6, rows[1]["readings"][0]), (0.3, rows[2]["readings"][0]), (0.0, None)]
    high = figures(rows, tops, answer_at=0.5, direct_at=0.8)
    assert high == {"correctness": round(1 / 3, 4), "abstention": 1.0, "precision": 0.5, "coverage": 0.5,
                    "direct_precision": 1.0, "bold": 1}
    low = figures(rows, tops, answer_at=0.2, direct_at=0.2)
    assert (low["abstention"], low["precision"], low["bold"]) == (0.0, round(1 / 3, 4), 3)


def test_the_operating_point_is_the_lowest_probability_that_keeps_the_stated_precision():
    rows = [_row(i, [_reading(0, right)]) for i, right in enumerate([True, True, False, True, False, False])]
    tops = [(p, r["readings"][0]) for p, r in zip([0.95, 0.9, 0.8, 0.7, 0.6, 0.5], rows)]
    # Shown from the top: 1/1, 2/2, 2/3, 3/4, 3/5, 3/6.
    assert operating_point(rows, tops, 0.75, "precision") == 0.7
    assert operating_point(rows, tops, 1.0, "precision") == 0.9


def test_a_model_fitted_on_readings_where_a_surer_reader_is_right_weighs_the_reader_up():
    rng = random.Random(3)
    rows = []
    for i in range(200):
        sure = rng.uniform(-5, 15)
        rows.append(_row(i, [_reading(sure, rng.random() < (0.9 if sure > 6 else 0.1)), _reading(sure - 8, False, "Ohio")],
                         corpus="external" if i % 2 else "bbc"))
    result = fit(rows, list(FEATURES), precision=0.8, direct_precision=0.85)
    weights = dict(zip(result["model"]["features"], result["model"]["coef"]))
    assert weights["reader"] > 1.0
    assert 0.0 < result["operating_points"]["answer"]["probability"] <= result["operating_points"]["direct"]["probability"] <= 1.0
    assert result["dev"]["pooled (out of fold)"]["precision"] >= 0.8
    assert set(result["dev"]["per_corpus"]) == {"bbc", "external"}
    result["trained_on"] = {"corpora": {"external": 100, "bbc": 100}, "readings": 400, "commit": "abc", "date": "2026-12-07"}
    text = readme(result)
    assert "`reader`" in text and "raises the odds" in text and "evals/gold/dev/external.jsonl" in text


def test_models_compares_every_form_at_the_in_house_abstention_the_shipped_decision_keeps():
    rng = random.Random(5)
    rows = []
    for i in range(160):
        sure = rng.uniform(-5, 15)
        answerable = i % 4 != 0
        corpus = "external" if i % 2 else "bbc"
        row = _row(i, [_reading(sure, answerable and rng.random() < (0.9 if sure > 6 else 0.1))], answerable, corpus)
        # The shipped decision abstained on every other unanswerable in-house question.
        row["product"]["correct"] = not answerable and i % 8 == 0
        rows.append(row)
    text = compare_models(rows, ["reader", "relevance"])
    assert "shipped 0.5" in text
    assert "hand-set sum" in text  # at its own threshold, the reference line
    for name in ("logistic", "pairwise", "boosted"):
        line = next(line for line in text.splitlines() if line.strip().startswith(name))
        assert float(line.split("in-house correctness ")[1].split()[2]) >= 0.5  # abstention reached
    assert "p >= 0.5:" in text
