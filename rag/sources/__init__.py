"""Finding and reading article files: txt, Markdown (front matter), HTML (trafilatura), PDF (pypdf).

Public API: `discover` -> `Found`/`Skipped`; `read_article` -> `Article` or `SkipFile`;
`ReadOptions.from_settings`; `NewsArticleReader` (llama-index). Every chunk of an article is
`article.text[start:end]` inside one of `article.blocks`; `article.headings` are never evidence.
"""

from rag.sources.article import (
    DERIVED_MARK, Article, ReadOptions, derived_title, is_derived_title, read_article, readable_stem, reads_as_words,
)
from rag.sources.dates import find_explicit_date, html_date, normalize_date, text_date
from rag.sources.decode import decode, looks_binary
from rag.sources.discover import SUPPORTED_SUFFIXES, Found, discover, relative_name
from rag.sources.errors import SkipFile
from rag.sources.layout import Layout, layout
from rag.sources.reader import NewsArticleReader

__all__ = [
    "DERIVED_MARK", "Article", "Found", "Layout", "NewsArticleReader", "ReadOptions", "SUPPORTED_SUFFIXES", "SkipFile",
    "decode", "discover", "find_explicit_date", "html_date", "layout", "looks_binary", "normalize_date",
    "derived_title", "is_derived_title", "read_article", "readable_stem", "reads_as_words", "relative_name", "text_date",
]
