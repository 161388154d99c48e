"""Reading text articles (rag.sources): decoding, boilerplate marked not cut, metadata lines."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from rag.sources import SkipFile, decode, layout, looks_binary, read_article

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
# The BBC articles the gold sets quote, plus the corpus's one non-UTF-8 file, live in the repository.
BBC = Path(__file__).resolve().parents[1] / "evals" / "corpora" / "bbc"


def read(path: Path, max_bytes: int = 5_000_000):
    return read_article(path, path.name, max_bytes)


def content(article) -> str:
    return "\n".join(article.text[s:e] for s, e in article.blocks)


def test_seed_metadata_url_source_and_hash():
    article = read(SEEDS / "001_b3a78f4a513db0c2.txt")
    assert article.source == "001_b3a78f4a513db0c2.txt"
    assert article.url.startswith("https://baoquocte.vn/")
    assert len(article.content_hash) == 64 and article.encoding == "utf-8"


def test_boilerplate_is_excluded_but_text_kept_verbatim():
    path = SEEDS / "001_b3a78f4a513db0c2.txt"
    article = read(path)
    assert article.text == path.read_text(encoding="utf-8")  # the original stays quotable
    assert "Comment (0)" not in content(article) and "Source: https" not in content(article)
    assert "34 countries" in content(article)


def test_repeated_title_and_comment_policy_excluded():
    article = read(SEEDS / "003_8f2d7b54467554ab.txt")
    assert "Tusk and Macron Discuss Ukraine" not in content(article)  # the headline (twice) is a heading
    assert "comments posted here" not in content(article)


def test_repeated_body_line_is_excluded_once():
    lay = layout("Headline here\nA caption line.\nBody text goes on.\nA caption line.\n", title_max_words=16, title_max_chars=160)
    text = "Headline here\nA caption line.\nBody text goes on.\nA caption line.\n"
    assert [text[s:e] for s, e in lay.blocks] == ["A caption line.\nBody text goes on."]


def test_login_footer_excluded():
    assert not content(read(SEEDS / "004_b7c3ddf9127e697c.txt")).rstrip().endswith("Login")


@pytest.mark.parametrize(
    "raw, expected, encoding",
    [
        ("café".encode("utf-8"), "café", "utf-8"),
        ("café – “quoted”".encode("cp1252"), "café – “quoted”", "cp1252"),
        (codecs.BOM_UTF8 + "naïve".encode("utf-8"), "naïve", "utf-8-sig"),
        ("Zürich".encode("utf-16"), "Zürich", "utf-16"),
        (b"caf\xe9 \x81", "café \x81", "latin-1"),  # 0x81 is undefined in cp1252
    ],
)
def test_decode_fallbacks(raw, expected, encoding):
    assert decode(raw) == (expected, encoding)


def test_binary_detection():
    assert looks_binary(b"abc\x00def")
    assert looks_binary(bytes(range(1, 32)) * 10)
    assert not looks_binary("Zürich".encode("utf-16"))
    assert not looks_binary("Plain text,\twith tabs\r\nand lines.".encode())


def test_bbc_non_utf8_file_decodes():
    assert BBC.is_dir(), f"the BBC articles belong in {BBC}"
    bad = []
    for path in sorted(BBC.rglob("*.txt")):
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            bad.append(path)
    assert bad, "expected the BBC corpus to hold a non-UTF-8 file"
    article = read(bad[0])
    assert article.encoding == "cp1252" and article.blocks and article.title


def test_boilerplate_only_file_is_skipped(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("Comment (0)\nLogin\nSource: https://example.org/x\n")
    with pytest.raises(SkipFile, match="no article text left"):
        read(path)


def test_source_line_moves_to_metadata():
    text = "Title\nBody text.\nSource: https://example.org/a\n"
    lay = layout(text, title_max_words=16, title_max_chars=160)
    assert lay.url == "https://example.org/a"
    assert [text[s:e] for s, e in lay.blocks] == ["Body text."]
