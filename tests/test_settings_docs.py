"""Every setting is described and listed in .env.example, and that file is a valid .env."""

from __future__ import annotations

from pathlib import Path

from rag.settings import Settings, env_example

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_has_a_description():
    assert [n for n, f in Settings.flat_fields().items() if not (f.description or "").strip()] == []


def test_env_example_lists_every_setting_as_generated():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert text == env_example(), "regenerate: python -c \"from rag.settings import env_example; open('.env.example','w').write(env_example())\""
    for name in Settings.flat_fields():
        assert f"NEWSRAG_{name.upper()}=" in text


def test_env_example_loads_as_the_defaults():
    loaded = Settings(_env_file=str(ROOT / ".env.example"))
    assert loaded.model_dump() == Settings(_env_file=None).model_dump()


def test_flat_names_still_set_nested_settings(monkeypatch):
    """Every NEWSRAG_* name users already have keeps working after the settings were nested."""
    monkeypatch.setenv("NEWSRAG_TOP_K", "9")
    monkeypatch.setenv("NEWSRAG_LLM_MODEL", "qwen")
    monkeypatch.setenv("NEWSRAG_REFERENCE_DATE", "")
    s = Settings(_env_file=None, data_dir="elsewhere")
    assert (s.retrieval.top_k, s.llm.llm_model, s.answer.reference_date) == (9, "qwen", None)
    assert str(s.index.data_dir) == "elsewhere"
    assert Settings(_env_file=None, top_k=3).retrieval.top_k == 3  # a keyword beats the environment


def test_a_changed_copy_is_validated_and_leaves_the_original_alone():
    base = Settings(_env_file=None)
    changed = base.with_values(top_k=4, rerank=False)
    assert (changed.retrieval.top_k, changed.retrieval.rerank, base.retrieval.top_k) == (4, False, 6)
    import pytest

    with pytest.raises(ValueError):
        base.with_values(chunk_overlap=500)


def test_each_group_is_described_and_no_name_is_in_two_groups():
    from rag.settings import GROUPS

    names = [n for model in GROUPS.values() for n in model.model_fields]
    assert len(names) == len(set(names))
    assert all((model.__doc__ or "").strip() for model in GROUPS.values())
