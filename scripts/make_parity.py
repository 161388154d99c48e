"""Writes the parity fixtures of the cross-encoder and the embedders (rag/models/data/parity/).

Run it only when a model file changes: `.venv/bin/python scripts/make_parity.py`. The numbers it
records are the exact integer arithmetic of the int8 files (what a VNNI CPU computes, and what every
CPU computes since rag/models/numerics.py); tests/test_numerics.py reproduces them on any CPU.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.models import make_embedder, make_reranker  # noqa: E402
from rag.settings import Settings  # noqa: E402

OUT = ROOT / "rag" / "models" / "data" / "parity"
SENTENCES = [
    "France and the U.K. announced they are committed to sending military personnel to Ukraine.",
    "Oil prices rose above $50 a barrel for the first time since October, traders said on Monday.",
    "The film won three Oscars, including best director, at the ceremony in Los Angeles.",
    "Broadband subscriptions in the UK passed 6 million last year, according to the regulator.",
]
QUERIES = ["Which countries will send troops to Ukraine?", "How much did oil cost?"]


def cross_encoder(settings: Settings) -> dict:
    model = make_reranker(settings)
    pairs = [(q, s) for q in QUERIES for s in SENTENCES[:3]]
    logits = [float(x) for x in model.score(pairs[0][0], [s for _, s in pairs[:3]])]
    logits += [float(x) for x in model.score(pairs[3][0], [s for _, s in pairs[3:]])]
    return {"model": model.name, "tolerance": 0.05, "pairs": [
        {"query": q, "passage": s, "logit": round(v, 4)} for (q, s), v in zip(pairs, logits)]}


def embedder(settings: Settings, backend: str) -> dict:
    model = make_embedder(settings.model_copy(update={"embedding_backend": backend}))
    # One batch each: activations are quantized per batch, so a batch of other texts shifts the numbers.
    passages = model.embed(SENTENCES)
    queries = model.embed_queries(QUERIES)
    rows = [{"text": t, "query": False, "vector": [round(float(x), 5) for x in v]} for t, v in zip(SENTENCES, passages)]
    rows += [{"text": t, "query": True, "vector": [round(float(x), 5) for x in v]} for t, v in zip(QUERIES, queries)]
    return {"model": model.name, "max_abs_tolerance": 0.01, "rows": rows}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as cache:
        settings = Settings(onnx_threads=2, model_cache_dir=Path(cache))
        fixtures = {"reranker_en.json": cross_encoder(settings),
                    "bge_small_en.json": embedder(settings, "onnx-bge-small"),
                    "minilm_l6.json": embedder(settings, "onnx-minilm")}
    for name, data in fixtures.items():
        (OUT / name).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
