"""The extractive reader: the shipped model reproduces its parity fixture, reads batches and long
passages, and refuses a damaged model file."""

from __future__ import annotations

import json
import shutil

import pytest

from rag.errors import NewsragError
from rag.models.reader import PACKAGED, Reader


def _reader(path=None) -> Reader:
    return Reader(path, max_tokens=384, stride=128, max_answer_tokens=30, threads=2)


@pytest.fixture(scope="module")
def reader() -> Reader:
    return _reader()


CASES = json.loads((PACKAGED / "parity.json").read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c["question"] for c in CASES])
def test_parity_fixture_is_reproduced(reader, case):
    (span,) = reader.read(case["question"], [case["passage"]])
    assert (span.text, span.start, span.end) == (case["span"], case["start"], case["end"])
    assert abs(span.margin - case["margin"]) <= 0.5


@pytest.mark.slow
def test_a_batch_gives_each_passage_its_own_span(reader):
    answered, off_topic = CASES[0], CASES[-1]
    spans = reader.read(answered["question"], [answered["passage"], off_topic["passage"]])
    assert spans[0].passage == 0 and spans[0].text == answered["span"]
    assert spans[1].passage == 1 and spans[1].margin > 0 > spans[0].margin


@pytest.mark.slow
def test_an_answer_past_the_first_window_is_found(reader):
    filler = " ".join(f"The committee met on day {i} and discussed the routine agenda at length." for i in range(60))
    passage = filler + " The bridge repairs cost 4.7 million euros, the city engineer said."
    (span,) = reader.read("How much did the bridge repairs cost?", [passage])
    assert "4.7 million euros" in span.text
    assert passage[span.start:span.end] == span.text


def test_a_damaged_model_file_is_refused_with_one_line(tmp_path):
    copy = tmp_path / "reader"
    shutil.copytree(PACKAGED, copy)
    (copy / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(NewsragError, match="checksum mismatch"):
        _reader(copy).read("Who?", ["Nobody."])


@pytest.mark.slow
def test_a_headline_in_front_is_read_but_never_answers(reader):
    headline = "Askar Akaev backs ink for elections. "
    body = "The measure was pushed through by the country's president, who said it would stop multiple voting."
    (span,) = reader.read("Who is the Kyrgyz President?", [headline + body], evidence_from=[len(headline)])
    assert span.start >= len(headline)


@pytest.mark.slow
def test_regression_a_question_longer_than_a_window_is_clipped_not_an_error(reader):
    """A 1,000-character question raised 'Truncation error' from the tokenizer."""
    case = CASES[0]
    (span,) = reader.read(case["question"] + " w" * 600, [case["passage"]])
    assert span is not None and span.text


@pytest.mark.slow
def test_parity_fixture_is_reproduced_as_loaded_for_a_cpu_without_vnni(monkeypatch):
    """On AVX2 without VNNI the shipped U8S8 file moved three margins by 0.74-1.31 (issue #32); the
    reader now runs there with unsigned weights and must give the same numbers as everywhere."""
    from rag.models import numerics

    monkeypatch.setattr(numerics, "u8s8_is_exact", lambda *args, **kwargs: False)
    reader = _reader()
    for case in CASES:
        (span,) = reader.read(case["question"], [case["passage"]])
        assert (span.text, span.start, span.end) == (case["span"], case["start"], case["end"])
        assert abs(span.margin - case["margin"]) <= 0.5, case["question"]
