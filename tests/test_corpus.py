"""Reading articles: decoding, boilerplate, metadata and skip reasons."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from rag.corpus import SkipFile, content_blocks, decode, discover, read_article

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def read(path: Path, root: Path | None = None, max_bytes: int = 5_000_000):
    return read_article(path, root or path.parent, max_bytes)


def test_seed_metadata_title_url_and_source():
    article = read(SEEDS / "001_b3a78f4a513db0c2.txt")
    assert article.source == "001_b3a78f4a513db0c2.txt"
    assert article.url.startswith("https://baoquocte.vn/")
    assert article.title.startswith("French President Emmanuel Macron on March 11")
    assert len(article.content_hash) == 64


def test_boilerplate_is_excluded_but_text_kept_verbatim():
    path = SEEDS / "001_b3a78f4a513db0c2.txt"
    article = read(path)
    assert article.text == path.read_text(encoding="utf-8")  # the original stays quotable
    content = " ".join(article.text[s:e] for s, e in article.blocks)
    assert "Comment (0)" not in content and "Source: https" not in content
    assert "34 countries" in content


def test_repeated_title_and_comment_policy_excluded():
    article = read(SEEDS / "003_8f2d7b54467554ab.txt")
    content = "\n".join(article.text[s:e] for s, e in article.blocks)
    assert content.count("Tusk and Macron Discuss Ukraine") == 1
    assert "comments posted here" not in content
    assert article.title == "Tusk and Macron Discuss Ukraine, Focusing on Troop Security Guarantee"


def test_login_footer_excluded():
    article = read(SEEDS / "004_b7c3ddf9127e697c.txt")
    content = "\n".join(article.text[s:e] for s, e in article.blocks)
    assert not content.rstrip().endswith("Login")


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


def test_bbc_non_utf8_file_decodes():
    bbc = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "bbc"
    if not bbc.exists():
        bbc = Path("/work/shared/corpora/bbc")
    bad = []
    for path in sorted(bbc.rglob("*.txt")):
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            bad.append(path)
    assert bad, "expected the BBC corpus to hold a non-UTF-8 file"
    article = read_article(bad[0], bbc, 5_000_000)
    assert article.encoding in ("cp1252", "latin-1") and article.text.strip()


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty"),
        (b"   \n\t\n  ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        (b"Comment (0)\nLogin\n", "boilerplate"),
    ],
)
def test_bad_files_give_a_reason(tmp_path, content, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(SkipFile, match=reason):
        read(path)


def test_size_cap(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("word " * 1000)
    with pytest.raises(SkipFile, match="cap"):
        read(path, max_bytes=100)


def test_unreadable_file(tmp_path):
    import os

    path = tmp_path / "locked.txt"
    path.write_text("Some text. More text.")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # root reads anything; make it a directory-like failure instead
            path.chmod(0o644)
            path.unlink()
            path.mkdir()
            with pytest.raises(SkipFile):
                read(path)
        else:
            with pytest.raises(SkipFile, match="not readable"):
                read(path)
    finally:
        if path.is_file():
            path.chmod(0o644)


def test_html_main_text_only(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Site | Big news</title><script>var x = 'tracker';</script></head>"
        "<body><nav>Home Sport Login</nav><article><h1>Big news</h1><p>The council voted 7 to 2.</p>"
        "<p>It takes effect in May.</p></article><footer>Copyright</footer></body></html>",
        encoding="utf-8",
    )
    article = read(path)
    assert article.title == "Big news"
    assert "The council voted 7 to 2." in article.text
    for noise in ("tracker", "Home Sport", "Copyright"):
        assert noise not in article.text


def test_markdown_is_read(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("# Headline here\n\nBody sentence one. Body sentence two.\n", encoding="utf-8")
    assert read(path).title == "# Headline here"


def test_source_line_moves_to_metadata():
    blocks, url = content_blocks("Title\nBody text.\nSource: https://example.org/a\n")
    assert url == "https://example.org/a"
    assert len(blocks) == 1


def test_discover_skips_hidden_and_outside_symlinks(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.txt").write_text("A story. It happened.")
    (root / ".hidden.txt").write_text("secret")
    (root / "image.png").write_bytes(b"\x89PNG")
    outside = tmp_path / "outside.txt"
    outside.write_text("outside the corpus")
    (root / "link.txt").symlink_to(outside)
    files, skipped = discover([root], root)
    assert [f.name for f in files] == ["a.txt"]
    assert skipped == [("link.txt", "symlink points outside the corpus folder; not followed")]
