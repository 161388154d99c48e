"""What an x86 CPU without VNNI computes for a U8S8 `MatMulInteger`, on any CPU.

onnxruntime's AVX2 kernel multiplies uint8 activations by int8 weights with `VPMADDUBSW`: the
products of neighbouring bytes (k = 2j, 2j + 1) are summed in int16, with saturation, and only then
accumulated in int32. `saturating(model)` rewrites each such node of a model as exactly that
arithmetic in plain int32 ONNX ops (which every kernel computes exactly), so a VNNI machine, or an
arm64 one, can run a model as an AVX2 laptop would. A `MatMulInteger` with uint8 weights runs on
the U8U8 kernel, which widens before multiplying and never saturates: it is left as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

_INT16_MIN, _INT16_MAX = -32768, 32767


def _opset(model: Any) -> int:
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


class _Builder:
    def __init__(self, model: Any, prefix: str) -> None:
        self.model, self.prefix, self.nodes, self.count = model, prefix, [], 0
        self.new_axes_as_input = _opset(model) >= 13

    def name(self) -> str:
        self.count += 1
        return f"{self.prefix}/{self.count}"

    def const(self, array: np.ndarray) -> str:
        name = self.name()
        self.model.graph.initializer.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        out = self.name()
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out

    def unsqueeze_last(self, x: str) -> str:
        if self.new_axes_as_input:
            return self.op("Unsqueeze", x, self.const(np.array([-1], dtype=np.int64)))
        return self.op("Unsqueeze", x, axes=[-1])

    def sum_axis(self, x: str, axis: int) -> str:
        if self.new_axes_as_input:
            return self.op("ReduceSum", x, self.const(np.array([axis], dtype=np.int64)), keepdims=0)
        return self.op("ReduceSum", x, axes=[axis], keepdims=0)

    def every_other(self, x: str, first: int, axis: int) -> str:
        big = np.iinfo(np.int64).max
        ints = lambda v: self.const(np.array([v], dtype=np.int64))  # noqa: E731
        return self.op("Slice", x, ints(first), ints(big), ints(axis), ints(2))


def _emulate(b: _Builder, node: Any) -> None:
    """Nodes computing `node` (a U8S8 MatMulInteger) as the AVX2 kernel does, into its output."""
    a32 = b.op("Cast", node.input[0], to=onnx.TensorProto.INT32)
    w32 = b.op("Cast", node.input[1], to=onnx.TensorProto.INT32)
    # Raw pair sums of the unshifted bytes, clipped to int16: the kernel's arithmetic ...
    pairs = [
        b.op("Mul", b.unsqueeze_last(b.every_other(a32, k, -1)), b.every_other(w32, k, 0)) for k in (0, 1)
    ]
    # Clipped in float32 (exact: a pair sum is below 2**17), since older opsets have no int32 Max.
    as_float = b.op("Cast", b.op("Add", *pairs), to=onnx.TensorProto.FLOAT)
    bounds = [b.const(np.array(v, dtype=np.float32)) for v in (_INT16_MIN, _INT16_MAX)]
    clipped = b.op("Cast", b.op("Clip", as_float, *bounds), to=onnx.TensorProto.INT32)
    saturated = b.sum_axis(clipped, -2)
    # ... whose zero points the kernel then corrects exactly: result = exact + (saturated - raw).
    a_zero = b.op("Cast", node.input[2], to=onnx.TensorProto.INT32) if len(node.input) > 2 and node.input[2] else None
    w_zero = b.op("Cast", node.input[3], to=onnx.TensorProto.INT32) if len(node.input) > 3 and node.input[3] else None
    exact = b.op("MatMul", b.op("Sub", a32, a_zero) if a_zero else a32, b.op("Sub", w32, w_zero) if w_zero else w32)
    raw = b.op("MatMul", a32, w32)
    b.nodes.append(helper.make_node("Add", [exact, b.op("Sub", saturated, raw)], [node.output[0]], name=b.name()))


def saturating(model: Any) -> Any:
    """A copy of `model` whose U8S8 `MatMulInteger` nodes compute as on AVX2 without VNNI."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    int8 = {t.name for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8}
    nodes = list(model.graph.node)
    del model.graph.node[:]
    for index, node in enumerate(nodes):
        if node.op_type == "MatMulInteger" and node.input[1] in int8:
            builder = _Builder(model, f"avx2/{index}")
            _emulate(builder, node)
            model.graph.node.extend(builder.nodes)
        else:
            model.graph.node.append(node)
    return model


def session(model: Any, threads: int = 2) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"])
