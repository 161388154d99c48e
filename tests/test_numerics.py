"""Same numbers on every CPU: the int8 models run in a form whose integer products are exact.

This machine may have VNNI and so never saturate; these tests do not depend on that. They check
the format of every model as onnxruntime runs it for a CPU without VNNI, reproduce each model's
parity fixture both ways, and run the shipped files through the AVX2 kernel's arithmetic
(`tests/avx2.py`) to show that the fixtures catch the drift it causes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from rag.models import numerics
from rag.models.numerics import saturating_weights, u8s8_is_exact, unsigned_weights
from tests import avx2

PARITY = Path(__file__).resolve().parents[1] / "rag" / "models" / "data" / "parity"
ZEN3 = {"avx", "avx2", "fma", "bmi2"}  # AVX2, no VNNI: the CPU of the report
ZEN4 = ZEN3 | {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni"}


# ---------------------------------------------------------------------------- the CPU decision
@pytest.mark.parametrize(
    ("flags", "machine", "exact"),
    [
        (ZEN3, "x86_64", False),
        (ZEN4, "x86_64", True),
        (ZEN3 | {"avx_vnni"}, "x86_64", True),  # Alder Lake: VNNI on AVX2
        (ZEN3 | {"avx512f", "avx512_vnni"}, "x86_64", False),  # VNNI without AVX512 BW/DQ/VL: not used by onnxruntime
        (set(), "x86_64", False),  # flags unreadable: rewrite, the safe side
        (set(), "aarch64", True),  # arm64 kernels widen before they multiply
    ],
)
def test_u8s8_is_trusted_only_where_the_kernel_sums_in_32_bits(flags, machine, exact):
    assert u8s8_is_exact(flags, machine) is exact


# ---------------------------------------------------------------------------- the rewrite, on a small model
def _matmul_integer(weights: np.ndarray, zero_point: np.ndarray | None, opset: int = 17) -> Any:
    inputs = ["a", "w", "a_zero"] + (["w_zero"] if zero_point is not None else [])
    inits = [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(np.array(3, dtype=np.uint8), "a_zero")]
    if zero_point is not None:
        inits.append(numpy_helper.from_array(zero_point, "w_zero"))
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", inputs, ["y"])], "g",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, ["m", weights.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, ["m", weights.shape[1]])], inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _run(model: Any, a: np.ndarray) -> np.ndarray:
    return avx2.session(model).run(None, {"a": a})[0]


@pytest.fixture
def extreme() -> tuple[np.ndarray, np.ndarray]:
    """Activations and weights at the edges of their ranges: the AVX2 kernel saturates on them."""
    rng = np.random.default_rng(7)
    a = rng.integers(200, 256, size=(4, 32), dtype=np.uint8)
    w = rng.choice(np.array([-128, -127, 127, 100, -90], dtype=np.int8), size=(32, 5))
    return a, w


def _exact(a: np.ndarray, w: np.ndarray, w_zero: np.ndarray | int = 0) -> np.ndarray:
    return (a.astype(np.int64) - 3) @ (w.astype(np.int64) - np.asarray(w_zero, dtype=np.int64))


@pytest.mark.parametrize("zero_point", ["absent", "scalar", "per-channel"])
def test_unsigned_weights_give_the_same_integers(extreme, zero_point):
    a, w = extreme
    zp = {"absent": None, "scalar": np.array(-2, dtype=np.int8), "per-channel": np.arange(-2, 3, dtype=np.int8)}[zero_point]
    model = _matmul_integer(w, zp)
    assert saturating_weights(model) == ["w"]
    assert unsigned_weights(model) == (1 if zp is None else 2)
    assert saturating_weights(model) == []
    assert {t.name: t.data_type for t in model.graph.initializer}["w"] == TensorProto.UINT8
    np.testing.assert_array_equal(_run(model, a), _exact(a, w, 0 if zp is None else zp))


def test_weights_within_64_cannot_saturate_and_are_left_as_shipped():
    """bge-small's file was quantized to [-64, 64]: 255 x 64 x 2 fits in int16, so it keeps U8S8."""
    w = np.full((8, 3), -64, dtype=np.int8)
    model = _matmul_integer(w, None)
    assert saturating_weights(model) == []
    assert unsigned_weights(model) == 0


def test_model_for_this_cpu_hands_the_file_over_untouched_where_u8s8_is_exact(tmp_path, extreme):
    path = tmp_path / "model.onnx"
    onnx.save(_matmul_integer(extreme[1], None), str(path))
    assert numerics.model_for_this_cpu(path, exact_u8s8=True) == str(path)
    rewritten = onnx.ModelProto.FromString(numerics.model_for_this_cpu(path, exact_u8s8=False))
    assert saturating_weights(rewritten) == []


# ---------------------------------------------------------------------------- the emulator itself
def _vpmaddubsw(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """u8 x s8 products of neighbouring k, summed with int16 saturation, then in int32."""
    products = a.astype(np.int32)[:, :, None] * w.astype(np.int32)[None, :, :]
    pairs = np.clip(products[:, 0::2] + products[:, 1::2], -32768, 32767)
    return pairs.sum(axis=1)


@pytest.mark.parametrize("opset", [11, 17])
def test_the_avx2_emulation_saturates_as_the_kernel_does(extreme, opset):
    a, w = extreme
    model = _matmul_integer(w, None, opset)
    got = _run(avx2.saturating(model), a)
    want = _vpmaddubsw(a, w) - 3 * w.astype(np.int64).sum(axis=0)  # the kernel corrects zero points exactly
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got, _exact(a, w)), "these inputs must saturate, or the test proves nothing"
    unsigned_weights(model)
    np.testing.assert_array_equal(_run(avx2.saturating(model), a), _exact(a, w))  # U8U8: nothing to emulate


# ---------------------------------------------------------------------------- every model the product loads
def _cross_encoder() -> Any:
    from rag.models.reranker import CrossEncoder

    return CrossEncoder(max_tokens=256, batch_size=8, threads=2)


def _reader() -> Any:
    from rag.models.reader import Reader

    return Reader(None, max_tokens=384, stride=128, max_answer_tokens=30, threads=2)


def _embedder(backend: str, cache: Path) -> Any:
    from rag.models import make_embedder
    from rag.settings import Settings

    return make_embedder(Settings(embedding_backend=backend, model_cache_dir=cache, onnx_threads=2))


@pytest.fixture(scope="module")
def minilm_cache(tmp_path_factory) -> Path:
    """One MiniLM export for the module (torch traces it once, in a child process)."""
    cache = tmp_path_factory.mktemp("models")
    _embedder("onnx-minilm", cache).warm_up()
    return cache


def _product_models(cache: Path) -> dict[str, Any]:
    return {
        "reader": _reader(), "cross-encoder": _cross_encoder(),
        "bge-small": _embedder("onnx-bge-small", cache), "minilm": _embedder("onnx-minilm", cache),
    }


@pytest.fixture
def without_vnni(monkeypatch):
    """Load models as on an AVX2 CPU without VNNI, whatever this machine has."""
    monkeypatch.setattr(numerics, "u8s8_is_exact", lambda *args, **kwargs: False)


@pytest.fixture
def sessions_opened(monkeypatch) -> list[tuple[Any, Any]]:
    """(model handed to onnxruntime, its session options) for every session the product opens."""
    import onnxruntime as ort

    opened: list[tuple[Any, Any]] = []
    real = ort.InferenceSession

    def recording(source, sess_options=None, **kwargs):
        opened.append((source, sess_options))
        return real(source, sess_options=sess_options, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", recording)
    return opened


def _as_run(source: Any, options: Any, folder: Path) -> Any:
    """The graph onnxruntime runs for `source` with `options`, after all its fusions."""
    import onnxruntime as ort

    dump = folder / f"optimized-{len(list(folder.iterdir()))}.onnx"
    options.optimized_model_filepath = str(dump)
    ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    return onnx.load(str(dump))


@pytest.mark.slow
def test_every_model_as_run_without_vnni_has_no_weight_that_can_saturate(minilm_cache, without_vnni, sessions_opened, tmp_path):
    for name, model in _product_models(minilm_cache).items():
        sessions_opened.clear()
        model.warm_up()
        ((source, options),) = sessions_opened
        ran = _as_run(source, options, tmp_path)
        fused = [n.op_type for n in ran.graph.node if n.op_type in numerics.INTEGER_MATMULS]
        assert fused, f"{name}: no integer matmul left to check; the format test would prove nothing"
        assert saturating_weights(ran) == [], f"{name} can still saturate on AVX2"


@pytest.mark.slow
def test_the_files_as_shipped_fail_the_format_test(minilm_cache):
    """The check has teeth: three of the four files would saturate if they ran as shipped (bge-small
    was quantized to +-64 and cannot)."""
    from rag.models.files import model_dir
    from rag.models.reader import PACKAGED

    shipped = {
        "reader": PACKAGED / "model.onnx",
        "cross-encoder": model_dir(None, "reranker_en", "NEWSRAG_RERANKER_PATH") / "model.onnx",
        "bge-small": model_dir(None, "bge_small_en", "NEWSRAG_EMBEDDING_BACKEND") / "model.onnx",
        "minilm": minilm_cache / "minilm-l6-int8" / "model.onnx",
    }
    bad = {name: len(saturating_weights(onnx.load(str(path)))) for name, path in shipped.items()}
    assert bad["reader"] == 37 and bad["cross-encoder"] == 74 and bad["minilm"] == 36
    assert bad["bge-small"] == 0


# ---------------------------------------------------------------------------- parity fixtures
def _fixture(name: str) -> dict[str, Any]:
    return json.loads((PARITY / name).read_text(encoding="utf-8"))


def _cross_encoder_logits(model: Any, fixture: dict[str, Any]) -> np.ndarray:
    pairs = fixture["pairs"]
    out = []
    for query in dict.fromkeys(p["query"] for p in pairs):  # one batch per query, as the fixture was made
        out += list(model.score(query, [p["passage"] for p in pairs if p["query"] == query]))
    return np.array(out)


def _vectors(model: Any, fixture: dict[str, Any]) -> np.ndarray:
    rows = fixture["rows"]
    return np.vstack([model.embed([r["text"] for r in rows if not r["query"]]),
                      model.embed_queries([r["text"] for r in rows if r["query"]])])


def _check_parity(name: str, model: Any) -> float:
    """The largest difference from the fixture, asserted within the fixture's stated tolerance."""
    fixture = _fixture(name)
    if "pairs" in fixture:
        want = np.array([p["logit"] for p in fixture["pairs"]])
        drift = float(np.abs(_cross_encoder_logits(model, fixture) - want).max())
        tolerance = fixture["tolerance"]
    else:
        want = np.array([r["vector"] for r in fixture["rows"]])
        drift = float(np.abs(_vectors(model, fixture) - want).max())
        tolerance = fixture["max_abs_tolerance"]
    assert drift <= tolerance, f"{name}: {drift:.4f} from the fixture (tolerance {tolerance})"
    return drift


FIXTURES = [("reranker_en.json", "cross-encoder"), ("bge_small_en.json", "bge-small"), ("minilm_l6.json", "minilm")]


@pytest.mark.slow
@pytest.mark.parametrize("cpu", ["this CPU", "without VNNI"])
@pytest.mark.parametrize(("fixture", "model"), FIXTURES)
def test_parity_fixture_is_reproduced(minilm_cache, monkeypatch, cpu, fixture, model):
    if cpu == "without VNNI":
        monkeypatch.setattr(numerics, "u8s8_is_exact", lambda *args, **kwargs: False)
    _check_parity(fixture, _product_models(minilm_cache)[model])


@pytest.fixture
def emulated_avx2(monkeypatch):
    """Every session runs its model through the AVX2 kernel's arithmetic (tests/avx2.py)."""

    def emulate(path: Path, exact_u8s8: bool | None = None) -> bytes:
        source = real(path, exact_u8s8)
        model = onnx.load(source) if isinstance(source, str) else onnx.ModelProto.FromString(source)
        return avx2.saturating(model).SerializeToString()

    real = numerics.model_for_this_cpu
    monkeypatch.setattr(numerics, "model_for_this_cpu", emulate)
    return emulate


@pytest.mark.slow
def test_cross_encoder_fixture_catches_the_avx2_drift_of_the_shipped_file(emulated_avx2, monkeypatch):
    """As shipped (U8S8 trusted), AVX2's arithmetic moves the logits out of tolerance (0.19 measured);
    as loaded for a CPU without VNNI, it computes the fixture."""
    monkeypatch.setattr(numerics, "u8s8_is_exact", lambda *args, **kwargs: True)
    with pytest.raises(AssertionError, match="from the fixture"):
        _check_parity("reranker_en.json", _cross_encoder())
    monkeypatch.setattr(numerics, "u8s8_is_exact", lambda *args, **kwargs: False)
    _check_parity("reranker_en.json", _cross_encoder())


# Parity cases whose margin the AVX2 kernel moves past the fixture's 0.5 (run under an emulated
# Haswell CPU: -0.94, -0.74 and -1.31; the other six move less than 0.3).
READER_DRIFTS = [0, 7]


@pytest.mark.slow
def test_reader_parity_catches_the_avx2_drift_of_the_shipped_file(emulated_avx2, monkeypatch):
    from rag.models.reader import PACKAGED

    cases = [json.loads((PACKAGED / "parity.json").read_text(encoding="utf-8"))[i] for i in READER_DRIFTS]
    for exact, drifts in ((True, True), (False, False)):
        monkeypatch.setattr(numerics, "u8s8_is_exact", lambda *args, exact=exact, **kwargs: exact)
        reader = _reader()
        for case in cases:
            (span,) = reader.read(case["question"], [case["passage"]])
            assert span.text == case["span"]
            assert (abs(span.margin - case["margin"]) > 0.5) is drifts, (exact, case["question"], span.margin)
