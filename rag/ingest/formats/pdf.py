"""PDF files (pypdf), such as press releases: the text layer of every page, its visual lines joined
back into paragraphs; title, author and dates from the document information."""

from __future__ import annotations

import io
import logging
import re
from contextlib import contextmanager
from collections.abc import Iterator

from rag.errors import InputError
from rag.ingest.formats.base import Extracted
from rag.ingest.formats.dates import iso_date

_PARAGRAPH_END = re.compile(r"[.!?:;\"”’)]$")
_FULL_LINE = 0.8  # a line this share of the page's longest line or longer runs on into the next
# Titles that are a file name or a placeholder rather than the document's headline.
_NO_TITLE = re.compile(r"^(untitled|microsoft \w+ - .*|.*\.(docx?|pdf|odt|rtf|indd|pages))$", re.I)


class PdfReader:
    """A .pdf file, or any file that starts with the PDF signature."""

    name = "pdf"
    suffixes = (".pdf",)

    def sniff(self, head: str, suffix: str) -> bool:
        return head.startswith("%PDF-") or suffix in self.suffixes

    def read(self, data: bytes, source: str) -> list[Extracted]:
        import pypdf
        from pypdf.errors import PdfReadError

        if not data.startswith(b"%PDF-"):
            raise InputError("not a PDF (no %PDF- signature)")
        with _quiet("pypdf"):
            try:
                document = pypdf.PdfReader(io.BytesIO(data))
                if document.is_encrypted and not document.decrypt(""):
                    raise InputError("encrypted PDF: it needs a password", hint="save an unencrypted copy")
                pages = [page.extract_text() or "" for page in document.pages]
                info = document.metadata
            except InputError:
                raise
            except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
                raise InputError(f"not a readable PDF, truncated or damaged ({_one_line(exc)})") from None
        text = "\n\n".join(p for page in pages if (p := _paragraphs(page)))
        if not text.strip():
            raise InputError(f"no text layer in its {len(pages)} page{'s' * (len(pages) != 1)} "
                             "(scanned or image-only: run OCR on it first)")
        return [Extracted(text, _meta(info))]


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """pypdf logs every repair it makes; the reader's one-line reason says what matters."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _paragraphs(page: str) -> str:
    """A page's visual lines as paragraphs: a line runs on into the next unless it is blank, or short
    and ends a sentence; a word hyphenated at a line end is joined up (hyphen kept)."""
    lines = [" ".join(line.split()) for line in page.splitlines()]
    longest = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            paragraphs.append(current)
            current = ""
            continue
        if current.endswith("-") and current[-2:-1].isalpha() and line[:1].islower():
            current += line
        else:
            current = f"{current} {line}" if current else line
        if _PARAGRAPH_END.search(line) and len(line) < _FULL_LINE * longest:
            paragraphs.append(current)
            current = ""
    paragraphs.append(current)
    return "\n\n".join(p for p in paragraphs if p)


def _meta(info) -> dict[str, str]:
    """Title, author and dates the document information states (a file-name title is no title)."""
    if info is None:
        return {}
    title = " ".join(str(info.get("/Title") or "").split())
    meta = {
        "title": title if title and not _NO_TITLE.match(title) else None,
        "byline": " ".join(str(info.get("/Author") or "").split()) or None,
        "date": iso_date(str(info.get("/CreationDate") or "")),
        "updated": iso_date(str(info.get("/ModDate") or "")),
    }
    if meta["updated"] == meta["date"]:
        meta["updated"] = None
    return {k: v for k, v in meta.items() if v}
