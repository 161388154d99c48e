"""Sentence vectors ride along in each chunk's Chroma metadata (float16, base64), so the answerer
scores sentences without embedding them again at query time, crash-consistently with the chunk."""

from __future__ import annotations

import base64

import numpy as np


def pack_vectors(vectors: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vectors, dtype=np.float16).tobytes()).decode("ascii")


def unpack_vectors(packed: str, count: int) -> np.ndarray:
    flat = np.frombuffer(base64.b64decode(packed), dtype=np.float16).astype(np.float32)
    return flat.reshape(count, -1) if count else flat.reshape(0, 0)
