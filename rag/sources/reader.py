"""The llama-index reader over `read_article`."""

from __future__ import annotations

from pathlib import Path

from llama_index.core import Document
from llama_index.core.readers.base import BaseReader

from rag.sources.article import ReadOptions, read_article
from rag.sources.discover import relative_name


class NewsArticleReader(BaseReader):
    """llama-index reader for news files (txt, md, html, pdf): text, title, date, author, url."""

    def __init__(self, root: Path, max_bytes: int = 5_000_000, options: ReadOptions | None = None) -> None:
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes
        self.options = options

    def load_data(self, file: Path, extra_info: dict | None = None) -> list[Document]:
        path = Path(file).absolute()
        article = read_article(path, relative_name(path, self.root), self.max_bytes, self.options)
        metadata = {
            "source": article.source,
            "title": article.title,
            "url": article.url or "",
            "published": article.published or "",
            "author": article.author or "",
            "site_name": article.site_name or "",
            "kind": article.kind,
            "content_hash": article.content_hash,
            **(extra_info or {}),
        }
        return [Document(text=article.text, metadata=metadata, id_=article.source)]
