"""Chunks: verbatim offsets, deterministic ids, and a real sentence splitter."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunking import Chunker, chunk_id, sentence_spans
from rag.sources import read_article

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_chunks_are_verbatim_at_their_offsets(path):
    article = read_article(path, path.name, 5_000_000)
    chunks = Chunker(160, 24).chunk(article)
    assert chunks
    original = path.read_text(encoding="utf-8")
    for chunk in chunks:
        assert original[chunk.start:chunk.end] == chunk.text
        for s, e in chunk.sentences:
            assert chunk.text[s:e].strip()


def test_ids_are_deterministic_and_distinct():
    article = read_article(SEEDS / "004_b7c3ddf9127e697c.txt", "004_b7c3ddf9127e697c.txt", 5_000_000)
    first = [c.id for c in Chunker(160, 24).chunk(article)]
    second = [c.id for c in Chunker(160, 24).chunk(article)]
    assert first == second and len(set(first)) == len(first)
    assert chunk_id("a.txt", 0, "x") != chunk_id("b.txt", 0, "x") != chunk_id("a.txt", 1, "x")


def test_boilerplate_never_lands_in_a_chunk():
    article = read_article(SEEDS / "001_b3a78f4a513db0c2.txt", "001_b3a78f4a513db0c2.txt", 5_000_000)
    text = " ".join(c.text for c in Chunker(160, 24).chunk(article))
    assert "Comment (0)" not in text and "baoquocte.vn" not in text


@pytest.mark.parametrize(
    "text, sentence",
    [
        ("With the UK aiming to raise its defense budget to 2.5% of GDP, there is a need. Next one.",
         "With the UK aiming to raise its defense budget to 2.5% of GDP, there is a need."),
        ("France and the U.K. announced they are committed to sending personnel. Belgium agreed.",
         "France and the U.K. announced they are committed to sending personnel."),
        ("Russia received EUR1.1 billion in fuel sales from the EU in a single year. He also urged leaders.",
         "Russia received EUR1.1 billion in fuel sales from the EU in a single year."),
        ("“This is the moment,” Mr. Macron declared. The French leader stressed it.",
         "“This is the moment,” Mr. Macron declared."),
    ],
)
def test_sentence_splitter_keeps_abbreviations_and_numbers(text, sentence):
    spans = sentence_spans(text)
    assert text[spans[0][0]:spans[0][1]] == sentence
    assert len(spans) == 2


def test_line_break_ends_a_sentence():
    text = "Photo caption without a full stop |\nThe story starts here. It goes on."
    assert [text[s:e] for s, e in sentence_spans(text)][0] == "Photo caption without a full stop |"


def test_overlap_must_be_smaller_than_size():
    with pytest.raises(ValueError):
        Chunker(50, 50)
