"""Readers of article formats: each turns the bytes of one file or fetched page into articles.

The reader is chosen by what the content starts with before its suffix says (a .txt that is an HTML
page, a feed saved as .html, a file without suffix); plain text is the fallback.
"""

from __future__ import annotations

from rag.errors import InputError
from rag.ingest.decoding import head_text
from rag.ingest.formats.base import Extracted, FormatReader
from rag.ingest.formats.feed import FeedReader
from rag.ingest.formats.html import HtmlReader
from rag.ingest.formats.json_lines import JsonLinesReader
from rag.ingest.formats.markdown import MarkdownReader
from rag.ingest.formats.pdf import PdfReader
from rag.ingest.formats.text import TextReader

# Most distinctive signature first: a feed is XML before it is markup, a PDF never anything else.
READERS: tuple[FormatReader, ...] = (PdfReader(), FeedReader(), HtmlReader(), JsonLinesReader(),
                                     MarkdownReader(), TextReader())
_FALLBACK = READERS[-1]
# Suffixes a folder is searched for; other files there are reported as unsupported.
SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".xhtml", ".xml", ".rss", ".atom",
                      ".jsonl", ".ndjson", ".pdf"})
DESCRIPTION = "text (.txt), Markdown (.md), web pages (.html), RSS/Atom feeds, JSON Lines (.jsonl) and PDF"


def reader_for(data: bytes, suffix: str) -> FormatReader:
    """The reader for this content: the first whose signature the content shows, else the first
    that claims the suffix (lowercase, with its dot), else plain text."""
    head = head_text(data)
    for suffix_known in ("", suffix):
        for reader in READERS:
            if reader.sniff(head, suffix_known):
                return reader
    return _FALLBACK


def recognised(data: bytes) -> bool:
    """Whether the content alone shows a format rag reads (for files without a suffix)."""
    head = head_text(data)
    return any(reader.sniff(head, "") for reader in READERS)


def read(data: bytes, source: str, suffix: str) -> list[Extracted]:
    """The articles in one source, by the reader its content or suffix calls for; an InputError with
    one line of reason when it holds none."""
    if not data:
        raise InputError("empty file")
    return reader_for(data, suffix).read(data, source)


__all__ = ["DESCRIPTION", "Extracted", "FormatReader", "READERS", "SUFFIXES", "read", "reader_for", "recognised"]
