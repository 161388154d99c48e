"""rag.sources: every format, every skip reason, titles, headings kept out of the evidence."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from rag.chunking import Chunker
from rag.settings import Settings
from rag.sources import (
    DERIVED_MARK, Article, Found, NewsArticleReader, ReadOptions, SkipFile, derived_title, discover, is_derived_title,
    read_article, readable_stem, reads_as_words,
)
from rag.types import Skipped

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
BODY = "The Riverton council voted 7 to 2 on Tuesday to rebuild the harbour bridge.\nWork starts in May.\n"


def read(path: Path, max_bytes: int = 5_000_000, options: ReadOptions | None = None) -> Article:
    return read_article(path, path.name, max_bytes, options)


def evidence(article: Article) -> str:
    return "\n".join(article.text[s:e] for s, e in article.blocks)


def heading_texts(article: Article) -> list[str]:
    return [article.text[s:e] for s, e in article.headings]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def text_pdf(lines: list[str], title: str | None = None) -> bytes:
    """A one-page PDF whose text layer holds `lines` (Helvetica, one per line), built by hand."""

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"] + [f"({esc(line)}) Tj T*" for line in lines] + ["ET"]
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if title:
        objects.append(b"<< /Title (" + esc(title).encode("latin-1") + b") >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    info = b" /Info %d 0 R" % len(objects) if title else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info, xref)
    return bytes(out)


# ------------------------------------------------------------------------------------------- titles
def test_short_first_line_followed_by_body_is_the_headline_and_not_evidence(tmp_path):
    article = read(write(tmp_path, "bridge.txt", "Harbour bridge to be rebuilt\n\n" + BODY))
    assert article.title == "Harbour bridge to be rebuilt"
    assert heading_texts(article) == ["Harbour bridge to be rebuilt"]
    assert "Harbour bridge to be rebuilt" not in evidence(article)
    assert "voted 7 to 2" in evidence(article) and article.kind == "txt"


@pytest.mark.parametrize(
    "first_line",
    [
        "The Riverton council voted on Tuesday to rebuild the harbour bridge after a long debate in the chamber",
        "Council votes.",  # short, but it ends like a sentence
        "Residents say the old crossing is unsafe:",  # a lead-in, not a headline
    ],
    ids=["long", "period", "colon"],
)
def test_a_first_line_that_is_not_a_headline_gives_the_file_name_as_title(tmp_path, first_line):
    article = read(write(tmp_path, "2025-03_council_vote.txt", first_line + "\n" + BODY))
    assert article.title == "2025-03 council vote"
    assert first_line in evidence(article) and article.headings == ()


def test_a_one_line_document_has_no_headline_its_line_stays_evidence(tmp_path):
    article = read(write(tmp_path, "note_7.txt", "Bridge closed today"))
    assert article.title == "note 7" and evidence(article) == "Bridge closed today"


def test_headline_threshold_comes_from_settings(tmp_path):
    path = write(tmp_path, "a.txt", "Five words in this headline\n" + BODY)
    assert read(path).title == "Five words in this headline"
    strict = ReadOptions.from_settings(Settings(title_max_words=4))
    assert read(path, options=strict).title == "a"


def test_headline_may_end_with_question_mark_or_ellipsis(tmp_path):
    assert read(write(tmp_path, "q.txt", "Is the bridge safe?\n" + BODY)).title == "Is the bridge safe?"
    assert read(write(tmp_path, "e.txt", "Rivals of the £400 Apple...\n" + BODY)).title == "Rivals of the £400 Apple..."


def test_byline_lines_are_headings_and_give_the_author(tmp_path):
    text = "Bridge vote\nBy Jane Doe and John Roe\n" + BODY + "(Reporting by Ann Lee; Editing by Bo Chan)\n"
    article = read(write(tmp_path, "b.txt", text))
    assert heading_texts(article) == ["Bridge vote", "By Jane Doe and John Roe", "(Reporting by Ann Lee; Editing by Bo Chan)"]
    assert article.author == "Jane Doe and John Roe"
    assert "Reporting by" not in evidence(article) and "By Jane" not in evidence(article)


def test_a_sentence_starting_with_by_is_evidence(tmp_path):
    article = read(write(tmp_path, "s.txt", "Bridge vote\nBy Monday, the council had voted.\n" + BODY))
    assert "By Monday, the council had voted." in evidence(article) and article.author is None


def test_a_bare_date_line_is_a_heading(tmp_path):
    article = read(write(tmp_path, "d.txt", "Bridge vote\nPublished: 9 Mar 2025 10:31 GMT\n" + BODY))
    assert heading_texts(article) == ["Bridge vote", "Published: 9 Mar 2025 10:31 GMT"]
    assert article.published == "2025-03-09"


def test_an_overlong_title_is_capped(tmp_path):
    article = read(write(tmp_path, "long.md", "# " + "word " * 200 + "\n\nBody text here.\n"))
    assert len(article.title) <= Settings().title_max_chars + 1 and article.title.endswith("…")


def test_readable_stem():
    assert readable_stem(Path("001_b3a78f4a513db0c2.txt")) == "001 b3a78f4a513db0c2"
    assert readable_stem(Path("my-story--final.md")) == "my story final"


# --------------------------------------------------------------------------------------------- seeds
def test_seed_with_headline_and_repeated_title():
    article = read(SEEDS / "003_8f2d7b54467554ab.txt")
    assert article.title == "Tusk and Macron Discuss Ukraine, Focusing on Troop Security Guarantee"
    assert heading_texts(article) == [article.title, article.title]  # printed twice, both excluded
    assert article.title not in evidence(article) and "comments posted here" not in evidence(article)


def test_seed_opening_with_a_paragraph_is_titled_by_its_first_words_not_its_hash():
    """Regression (#34 item 1): three seeds were titled '001 b3a78f4a513db0c2'. A file with neither
    headline nor a file name of words is titled by its lead's first words, marked as made up; the
    lead stays evidence (no line became a heading) and the models still read the file name's words."""
    article = read(SEEDS / "001_b3a78f4a513db0c2.txt")
    assert article.title == "French President Emmanuel Macron on March 11… (first words)"
    assert is_derived_title(article.title) and article.headings == ()
    assert evidence(article).startswith("French President Emmanuel Macron on March 11")
    assert article.context_title == "001 b3a78f4a513db0c2"


HASH_LIKE = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{12,}(?![0-9A-Za-z])")


def test_no_seed_is_titled_by_a_hash():
    titles = [read(path).title for path in sorted(SEEDS.glob("*.txt"))]
    assert not [t for t in titles if HASH_LIKE.search(t)], titles
    derived = [t for t in titles if is_derived_title(t)]
    assert len(derived) == 3 and all(len(t) <= 60 for t in derived), derived  # `newsrag list` shows 60 characters


def test_newsrag_list_on_the_seeds_shows_no_hash_like_title(corpus, monkeypatch, capsys):
    """Regression (#34 item 1), as a newcomer runs it: `newsrag list` after ingesting the seeds."""
    from ui.cli import main

    monkeypatch.setenv("NEWSRAG_EMBEDDING_BACKEND", "hashing")
    assert main(["ingest", "--json"]) == 0
    capsys.readouterr()
    assert main(["list"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("00")]
    assert len(rows) == 5
    for row in rows:
        source, title = row.split()[0], row.split(None, 3)[3]
        assert not HASH_LIKE.search(title), row  # the file name is beside it, in its own column
        assert HASH_LIKE.search(source)
    assert sum("(first words)" in row for row in rows) == 3


@pytest.mark.parametrize("stem, words", [
    ("2025-03 council vote", True), ("note 7", True), ("a", True), ("my story final", True),
    ("001 b3a78f4a513db0c2", False), ("IMG 0001", False), ("rtqa-20200103 3", False), ("", False),
])
def test_a_file_name_reads_as_words_or_not(stem, words):
    assert reads_as_words(stem) is words


def test_a_derived_title_is_cut_at_a_word_and_marked(tmp_path):
    lead = "The Riverton council voted on Tuesday to rebuild the harbour bridge after a long debate."
    assert derived_title(lead, 30) == "The Riverton council voted on…" + DERIVED_MARK
    assert derived_title("Bridge closed today.", 30) == "Bridge closed today" + DERIVED_MARK
    path = write(tmp_path, "0a1b2c3d4e5f6a7b.txt", lead + "\n" + BODY)
    assert read(path).title == "The Riverton council voted on Tuesday to…" + DERIVED_MARK
    wide = ReadOptions.from_settings(Settings(derived_title_chars=60))
    assert read(path, options=wide).title == "The Riverton council voted on Tuesday to rebuild the harbour…" + DERIVED_MARK
    assert all(read(path).title[:-len(DERIVED_MARK)].rstrip("…") not in article_heading
               for article_heading in heading_texts(read(path)))


def test_chunks_never_contain_headings_and_stay_verbatim():
    chunker = Chunker(160, 24)
    for path in sorted(SEEDS.glob("*.txt")):
        article = read(path)
        for chunk in chunker.chunk(article):
            assert article.text[chunk.start:chunk.end] == chunk.text
            for start, end in article.headings:
                assert end <= chunk.start or start >= chunk.end, (path.name, chunk.text[:60])


# ------------------------------------------------------------------------------------------ markdown
def test_markdown_front_matter_is_metadata_and_headings_are_not_evidence(tmp_path):
    text = (
        "---\ntitle: Harbour bridge to be rebuilt\ndate: 2025-03-09\nauthor: Jane Doe\n"
        "url: https://example.org/bridge\ntags: [bridge, council]\n---\n"
        "# Harbour bridge to be rebuilt\n\n" + BODY + "\n## What happens next\n\nTenders open in April.\n"
    )
    article = read(write(tmp_path, "bridge.md", text))
    assert article.text == text  # the file as it is: offsets match what a user opens
    assert (article.kind, article.title, article.published, article.author, article.url) == (
        "md", "Harbour bridge to be rebuilt", "2025-03-09", "Jane Doe", "https://example.org/bridge")
    assert article.metadata["tags"] == ["bridge", "council"] and article.metadata["date"] == "2025-03-09"
    assert heading_texts(article) == ["# Harbour bridge to be rebuilt", "## What happens next"]
    assert article.blocks[0][0] > text.index("---\n#")  # front matter lies outside every block
    assert "title:" not in evidence(article) and "#" not in evidence(article)
    assert "Tenders open in April." in evidence(article)


def test_markdown_without_front_matter_takes_its_first_heading_as_title(tmp_path):
    article = read(write(tmp_path, "note.md", "# Headline here\n\nBody sentence one. Body sentence two.\n"))
    assert article.title == "Headline here" and evidence(article) == "Body sentence one. Body sentence two."


def test_markdown_with_malformed_front_matter_still_reads(tmp_path):
    article = read(write(tmp_path, "bad.md", "---\ntitle: [unclosed\n---\nBridge vote\n" + BODY))
    assert article.title == "Bridge vote" and "[unclosed" not in evidence(article)


# ---------------------------------------------------------------------------------------------- html
PAGE = """<html><head><title>Daily Planet | Harbour bridge to be rebuilt</title>
<meta property="article:published_time" content="2024-05-02T10:00:00Z">
<meta name="author" content="Jane Doe"><meta property="og:site_name" content="Daily Planet">
<link rel="canonical" href="https://example.org/news/bridge"><script>var x = 'tracker';</script></head>
<body><nav>Home Sport Login</nav><article><h1>Harbour bridge to be rebuilt</h1>
<p>The Riverton council voted 7 to 2 on Tuesday to rebuild the harbour bridge, officials said after a long debate.</p>
<h2>What happens next</h2>
<p>Construction starts in May and should take two years, according to the city engineer's report.</p>
</article><footer>Copyright 2024</footer></body></html>"""


def test_html_main_text_metadata_and_headings(tmp_path):
    article = read(write(tmp_path, "page.html", PAGE))
    assert (article.kind, article.title, article.author, article.site_name, article.url, article.published) == (
        "html", "Harbour bridge to be rebuilt", "Jane Doe", "Daily Planet", "https://example.org/news/bridge", "2024-05-02")
    for noise in ("tracker", "Home Sport", "Copyright"):
        assert noise not in article.text
    assert "What happens next" in article.text and "What happens next" not in evidence(article)
    assert "Harbour bridge to be rebuilt" not in evidence(article)
    assert "voted 7 to 2" in evidence(article) and "two years" in evidence(article)


def test_tiny_html_page_falls_back_gracefully(tmp_path):
    article = read(write(tmp_path, "tiny.htm", "<html><body><p>Bridge closed for repairs today.</p></body></html>"))
    assert article.text == "Bridge closed for repairs today." and article.title == "tiny"


def test_html_without_any_text_is_skipped(tmp_path):
    with pytest.raises(SkipFile, match="no text"):
        read(write(tmp_path, "empty.html", "<html><head><script>x=1</script></head><body></body></html>"))


# ----------------------------------------------------------------------------------------------- pdf
def test_pdf_text_layer_title_and_date(tmp_path):
    lines = ["Harbour bridge reopens", "RIVERTON, March 9, 2025 - The council reopened the bridge on Tuesday.",
             "It carried 4,200 cars on its first day."]
    article = read(write(tmp_path, "bridge.pdf", text_pdf(lines, title="Bridge PDF")))
    assert (article.kind, article.encoding, article.title, article.published) == ("pdf", "binary", "Harbour bridge reopens", "2025-03-09")
    assert "4,200 cars" in evidence(article) and "Harbour bridge reopens" not in evidence(article)
    chunks = Chunker(160, 24).chunk(article)
    assert chunks and all(article.text[c.start:c.end] == c.text for c in chunks)


def test_pdf_without_headline_uses_its_metadata_title(tmp_path):
    lines = ["The council reopened the bridge on Tuesday after two years of works on the old harbour crossing.", "More."]
    assert read(write(tmp_path, "x.pdf", text_pdf(lines, title="Bridge PDF"))).title == "Bridge PDF"


def test_scanned_pdf_without_text_layer_is_skipped(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(SkipFile, match=r"^no text layer \(scanned PDF\?\)$"):
        read(write(tmp_path, "scan.pdf", buffer.getvalue()))


def test_encrypted_pdf_is_skipped(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(text_pdf(["Secret", "Body text here."])))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(SkipFile, match="encrypted"):
        read(write(tmp_path, "locked.pdf", buffer.getvalue()))


@pytest.mark.parametrize("content, reason", [(b"%PDF-1.4\ngarbage", "PDF could not be read"), (b"hello", "not a PDF")])
def test_broken_pdf_is_skipped(tmp_path, content, reason):
    with pytest.raises(SkipFile, match=reason):
        read(write(tmp_path, "broken.pdf", content))


# -------------------------------------------------------------------------------------- skip reasons
@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("a.bin", b"text", r"^unsupported file type '\.bin' \(supported: \.txt, \.md, \.markdown, \.html, \.htm, \.pdf\)$"),
        ("a.txt", b"", "empty"),
        ("a.txt", b"  \n\t\n ", "whitespace only"),
        ("a.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("a.txt", b"Comment (0)\nLogin\n", "no article text left"),
    ],
)
def test_every_skip_reason_is_one_line(tmp_path, name, content, reason):
    with pytest.raises(SkipFile, match=reason) as info:
        read(write(tmp_path, name, content))
    assert "\n" not in str(info.value)


def test_too_large_is_skipped_before_reading(tmp_path):
    with pytest.raises(SkipFile, match="over the 100-byte cap"):
        read(write(tmp_path, "big.txt", "word " * 1000), max_bytes=100)


def test_missing_and_unreadable(tmp_path):
    with pytest.raises(SkipFile, match="disappeared"):
        read(tmp_path / "gone.txt")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(SkipFile, match="directory"):
        read(tmp_path / "folder.txt")
    locked = write(tmp_path, "locked.txt", BODY)
    locked.chmod(0)
    try:
        if not os.access(locked, os.R_OK):  # root reads anything
            with pytest.raises(SkipFile, match="not readable"):
                read(locked)
    finally:
        locked.chmod(0o644)


# ----------------------------------------------------------------------------------------- discover
def test_discover_reports_every_file_it_does_not_take(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config.txt").write_text("x")
    for name in ("b.txt", "a.md", "sub/c.html", "sub/d.PDF", "e.markdown", "f.htm"):
        (root / name).write_text("x")
    (root / ".hidden.txt").write_text("secret")
    (root / "image.png").write_bytes(b"\x89PNG")
    outside = tmp_path / "outside.txt"
    outside.write_text("outside the corpus")
    (root / "link.txt").symlink_to(outside)
    (root / "inner.txt").symlink_to(root / "b.txt")
    (root / "subdir_link").symlink_to(root / "sub")
    found, skipped = discover([root, tmp_path / "nope"])
    assert [f.relative for f in found] == ["a.md", "b.txt", "e.markdown", "f.htm", "inner.txt", "sub/c.html", "sub/d.PDF"]
    assert all(f.root == root.resolve() and f.path == root.resolve() / f.relative for f in found)
    reasons = {s.path: s.reason for s in skipped}  # named as found, relative to the folder given
    assert reasons[".git"] == "hidden folder" and reasons[".hidden.txt"] == "hidden file"
    assert reasons["image.png"].startswith("unsupported file type '.png'")
    assert reasons["link.txt"] == "symlink points outside the folder; not followed"
    assert "folder inside the corpus" in reasons["subdir_link"]
    assert reasons[str(tmp_path / "nope")] == "no such file or folder"
    assert ".git/config.txt" not in reasons  # a hidden folder is reported once, not walked
    assert all(isinstance(s, Skipped) for s in skipped)


def test_discover_a_named_file_has_its_folder_as_root(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.doc").write_text("x")
    found, skipped = discover([tmp_path / "a.txt", tmp_path / "b.doc", tmp_path / "a.txt"])
    assert found == [Found(tmp_path.resolve() / "a.txt", tmp_path.resolve(), "a.txt")]
    assert skipped == [Skipped("b.doc", "unsupported file type '.doc' (supported: .txt, .md, .markdown, .html, .htm, .pdf)")]


def test_news_article_reader_is_a_llama_index_reader(tmp_path):
    path = write(tmp_path, "bridge.md", "---\ndate: 2025-03-09\n---\n# Bridge vote\n\n" + BODY)
    docs = NewsArticleReader(tmp_path).load_data(path)
    assert len(docs) == 1 and docs[0].id_ == "bridge.md"
    assert docs[0].text == path.read_text()
    assert (docs[0].metadata["title"], docs[0].metadata["published"], docs[0].metadata["kind"]) == ("Bridge vote", "2025-03-09", "md")


def test_regression_a_symlink_loop_is_skipped_not_a_crash_of_the_whole_ingest(tmp_path):
    """`Path.resolve()` raises RuntimeError on a loop in Python 3.11; one looping link in a folder
    stopped every other file from being ingested."""
    from rag.sources.discover import discover

    (tmp_path / "story.txt").write_text("Headline\n\nThe council met on Monday.", encoding="utf-8")
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    found, skipped = discover([tmp_path])
    assert [f.relative for f in found] == ["story.txt"]
    assert {s.path for s in skipped} == {"loop.txt", "a", "b"} and all("loop" in s.reason for s in skipped)
