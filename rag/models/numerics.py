"""Int8 models that compute the same numbers on every CPU.

Every int8 model newsrag runs (the reader, the cross-encoder, the bge-small embedder, the MiniLM
export) is dynamically quantized U8S8: `MatMulInteger` multiplies uint8 activations by int8
weights. onnxruntime's x86 kernel for that pairs neighbouring byte products with `VPMADDUBSW`,
whose 16-bit sum saturates (255 x -128 x 2 does not fit in int16), unless the CPU has VNNI
(`VPDPBUSD` sums in 32 bits). So one file gave one set of logits on a VNNI machine and another on
an AVX2 laptop, and different answers.

The cure keeps the arithmetic and changes only the kernel: each int8 weight `w` with zero point `z`
is stored as uint8 `w + 128` with zero point `z + 128`. `(w + 128) - (z + 128) == w - z`, so every
integer product, and so every logit, is exactly what the VNNI machine computes, and onnxruntime
then runs its U8U8 kernel, which widens to 16 bits before multiplying and cannot saturate. Where
the U8S8 kernel is already exact (VNNI, AMX, and every non-x86 CPU, whose kernels widen too) the
file runs as shipped, since there it is the faster kernel and gives the same integers.

A weight tensor whose values all lie in [-64, 64] cannot saturate (255 x 64 x 2 = 32,640 fits in
int16): the bge-small file was quantized so ("reduce_range"), and it keeps its fast kernel everywhere.

onnxruntime's own switch (`session.x64quantprecision`) was measured and not used: it is all or
nothing per CPU, and onnxruntime 1.32 left every weight of the bge-small file int8 under it.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path
from typing import Any, Iterable

# Integer matmuls of the ONNX standard (as files hold them) and onnxruntime's fusions of them (as
# sessions run them): op type -> (weight input, weight zero-point input).
INTEGER_MATMULS: dict[str, tuple[int, int]] = {
    "MatMulInteger": (1, 3),
    "ConvInteger": (1, 3),
    "DynamicQuantizeMatMul": (1, 3),
    "MatMulIntegerToFloat": (1, 5),
}
_REWRITABLE = {"MatMulInteger", "ConvInteger"}  # the standard ops a shipped file holds
_X86 = {"x86_64", "amd64", "i386", "i686", "x86"}
# CPU flags (as Linux names them) with which onnxruntime's U8S8 kernel sums in 32 bits: AVX512-VNNI
# needs AVX512 BW/DQ/VL beside it, AVX-VNNI rides on AVX2, AMX-INT8 multiplies tiles in int32.
_EXACT_U8S8 = ({"avx512_vnni", "avx512bw", "avx512dq", "avx512vl"}, {"avx_vnni"}, {"amx_int8"})
_INT8 = 3  # onnx.TensorProto.INT8
# |weight| <= 64 keeps a pair of products with a uint8 activation inside int16: 255 x 64 x 2 < 32,767.
SAFE_INT8_WEIGHT = 64


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """This CPU's feature flags as Linux lists them; empty where they cannot be read (then the
    weights are rewritten: the safe side, at a small cost in speed)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def u8s8_is_exact(flags: Iterable[str] | None = None, machine: str | None = None) -> bool:
    """Whether onnxruntime's U8S8 kernel on this CPU sums without saturating."""
    if (machine or platform.machine()).lower() not in _X86:
        return True
    have = frozenset(cpu_flags() if flags is None else flags)
    return any(need <= have for need in _EXACT_U8S8)


def _can_saturate(tensor: Any) -> bool:
    from onnx import numpy_helper

    if tensor.data_type != _INT8:
        return False
    values = numpy_helper.to_array(tensor)
    return bool(values.size) and int(abs(values.astype("int16")).max()) > SAFE_INT8_WEIGHT


def _weights(model: Any, ops: Iterable[str]) -> list[tuple[Any, Any]]:
    """(node, weight initializer) for each integer matmul of `ops` whose weight is a constant."""
    initializers = {tensor.name: tensor for tensor in model.graph.initializer}
    found = []
    for node in model.graph.node:
        if node.op_type in ops and len(node.input) > INTEGER_MATMULS[node.op_type][0]:
            weight = initializers.get(node.input[INTEGER_MATMULS[node.op_type][0]])
            if weight is not None:
                found.append((node, weight))
    return found


def saturating_weights(model: Any) -> list[str]:
    """Names of the weights in `model` (an onnx ModelProto, as shipped or as onnxruntime runs it)
    that can saturate an integer matmul on an x86 CPU without VNNI: int8 with values beyond +-64.
    Empty = the model computes the same integers on every CPU."""
    names = [weight.name for _, weight in _weights(model, INTEGER_MATMULS) if _can_saturate(weight)]
    return list(dict.fromkeys(names))


def unsigned_weights(model: Any) -> int:
    """Rewrites, in place, each weight of a `MatMulInteger`/`ConvInteger` that can saturate (and
    its zero point) as uint8 shifted by 128: the same integer products on a kernel that cannot
    saturate. Returns how many tensors it rewrote."""
    import numpy as np
    from onnx import numpy_helper

    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    done: set[str] = set()
    for node, weight in _weights(model, _REWRITABLE):
        if weight.name not in done and not _can_saturate(weight):
            continue
        zero_at = INTEGER_MATMULS[node.op_type][1]
        names = [weight.name]
        if len(node.input) > zero_at and node.input[zero_at]:
            names.append(node.input[zero_at])
        else:  # an absent zero point means 0; as uint8 it is 128
            zero = f"{weight.name}__zero_point_u8"
            if zero not in initializers:
                initializers[zero] = numpy_helper.from_array(np.array(128, dtype=np.uint8), zero)
                graph.initializer.append(initializers[zero])
            while len(node.input) < zero_at:
                node.input.append("")
            node.input.append(zero)
        for name in names:
            if name in done:
                continue
            tensor = initializers[name]
            shifted = numpy_helper.to_array(tensor).astype(np.int16) + 128
            tensor.CopyFrom(numpy_helper.from_array(shifted.astype(np.uint8), name))
            done.add(name)
    return len(done)


def model_for_this_cpu(path: Path, exact_u8s8: bool | None = None) -> str | bytes:
    """What to hand onnxruntime for the model file at `path`: the file itself where its U8S8
    kernel is exact, else the model with unsigned weights (serialized bytes, never written)."""
    if u8s8_is_exact() if exact_u8s8 is None else exact_u8s8:
        return str(path)
    import onnx

    model = onnx.load(str(path))
    return model.SerializeToString() if unsigned_weights(model) else str(path)
