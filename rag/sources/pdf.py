"""PDF files: pypdf's extracted text (the article text citations offset into) and its metadata."""

from __future__ import annotations

import io
from dataclasses import dataclass

from rag.sources.errors import SkipFile


@dataclass(frozen=True)
class PdfDocument:
    text: str
    title: str | None
    author: str | None


def read_pdf(raw: bytes) -> PdfDocument:
    """Text of every page, pages separated by a blank line; SkipFile for encrypted or scanned PDFs."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            try:  # many "encrypted" PDFs only restrict printing and open with an empty password
                opened = reader.decrypt("")
            except Exception:  # noqa: BLE001 - e.g. AES without the cryptography package
                opened = 0
            if not opened:
                raise SkipFile("PDF is encrypted (password required)")
        pages = [(page.extract_text() or "").strip("\n") for page in reader.pages]
        info = reader.metadata
    except SkipFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SkipFile(f"PDF could not be read ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})") from None
    text = "\n\n".join(p for p in pages if p.strip())
    if not text.strip():
        raise SkipFile("no text layer (scanned PDF?)")
    title = author = None
    if info is not None:
        title = " ".join(str(info.title or "").split()) or None
        author = " ".join(str(info.author or "").split()) or None
    return PdfDocument(text=text, title=title, author=author)
