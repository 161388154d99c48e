"""Every setting is described and listed in .env.example, and that file is a valid .env."""

from __future__ import annotations

from pathlib import Path

from rag.settings import Settings, env_example

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_has_a_description():
    assert [n for n, f in Settings.model_fields.items() if not (f.description or "").strip()] == []


def test_env_example_lists_every_setting_as_generated():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert text == env_example(), "regenerate: python -c \"from rag.settings import env_example; open('.env.example','w').write(env_example())\""
    for name in Settings.model_fields:
        assert f"NEWSRAG_{name.upper()}=" in text


def test_env_example_loads_as_the_defaults():
    loaded = Settings(_env_file=str(ROOT / ".env.example"))
    assert loaded.model_dump() == Settings(_env_file=None).model_dump()
