"""One-time export of the packaged all-MiniLM-L6-v2 to int8 ONNX (never downloaded).

torch is needed once, to trace the model; afterwards the cached folder is all the ONNX embedder
reads. The export goes to a temporary sibling folder that is renamed into place, so a crash never
leaves half a model, and a file lock keeps two processes from exporting at the same time.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.types import NewsragError

MINILM_DIR = "minilm-l6-int8"
_DONE = "export.json"  # written last inside the temporary folder: its presence means complete


def minilm_int8(source: Path, cache_dir: Path) -> Path:
    """`<cache_dir>/minilm-l6-int8` (model.onnx + tokenizer.json), exported from `source` if absent."""
    target = Path(cache_dir) / MINILM_DIR
    if (target / _DONE).is_file():
        return target
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / _DONE).is_file():  # another process finished while we waited
            return target
        if not (Path(source) / "tokenizer.json").is_file():
            raise NewsragError(f"cannot export MiniLM to ONNX: {source} has no tokenizer.json (set NEWSRAG_EMBEDDING_MODEL_PATH)")
        work = Path(tempfile.mkdtemp(prefix=f".{MINILM_DIR}-", dir=target.parent))
        try:
            _export_in_child(Path(source), work)
            work.chmod(0o755)  # mkdtemp makes it private; the model is not a secret
            if target.exists():  # a stale, incomplete folder from an older layout
                shutil.rmtree(target)
            work.rename(target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    return target


def _export_in_child(source: Path, work: Path) -> None:
    """Trace and quantise in a child process, so the process that embeds and answers never
    imports torch (and never carries its memory)."""
    import subprocess
    import sys

    print("newsrag: exporting all-MiniLM-L6-v2 to int8 ONNX once (about 10-20 s)", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, "-m", "rag.models.export", str(source), str(work)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise NewsragError(f"exporting MiniLM to ONNX failed: {last}")


@contextmanager
def _quiet() -> Iterator[None]:
    """The exporter's tracer warnings and the quantiser's pre-processing hint say nothing a user can act on."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def _export(source: Path, work: Path) -> None:
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
    except ImportError as exc:
        raise NewsragError(f"exporting MiniLM to ONNX needs torch and transformers ({exc.name} is missing)") from exc

    bert = AutoModel.from_pretrained(str(source), local_files_only=True).eval()

    class Encoder(torch.nn.Module):
        """Keyword arguments: transformers' forward signature is not positional-stable across versions."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    model = Encoder().eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    fp32 = work / "model-fp32.onnx"
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        # The TorchScript exporter: the dynamo one needs onnxscript, which is not a dependency.
        torch.onnx.export(
            model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32), dynamo=False,
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
            opset_version=17, do_constant_folding=True,
        )
    # Per-channel weights keep the vectors close to fp32 (mean cosine ~0.99; per-tensor: ~0.96).
    quantize_dynamic(str(fp32), str(work / "model.onnx"), per_channel=True, weight_type=QuantType.QInt8)
    fp32.unlink()
    shutil.copy(source / "tokenizer.json", work / "tokenizer.json")
    (work / _DONE).write_text(json.dumps({"source": str(source), "quantization": "int8 dynamic, per-channel"}))


if __name__ == "__main__":  # the child of _export_in_child
    import sys

    with _quiet():
        _export(Path(sys.argv[1]), Path(sys.argv[2]))
