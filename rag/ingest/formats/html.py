"""Web pages saved as HTML (a placeholder: the page's paragraphs, no metadata; replaced by the
trafilatura-based reader)."""

from __future__ import annotations

from rag.errors import InputError
from rag.ingest.decoding import decode_bytes
from rag.ingest.formats.base import Extracted
from rag.ingest.formats.markup import html_to_text, root_tag

# Elements an HTML document or a saved fragment of one starts with.
_HTML_ROOTS = {"html", "head", "body", "meta", "title", "link", "div", "p", "article", "section", "main",
               "header", "table", "h1", "h2", "h3"}


class HtmlReader:
    """A .html/.htm file, or anything whose first element is an HTML one."""

    name = "html"
    suffixes = (".html", ".htm", ".xhtml")

    def sniff(self, head: str, suffix: str) -> bool:
        return suffix in self.suffixes or root_tag(head) in _HTML_ROOTS

    def read(self, data: bytes, source: str) -> list[Extracted]:
        html, note = decode_bytes(data)
        text = html_to_text(html)
        if not text.strip():
            raise InputError("no text in the page")
        return [Extracted(text, note=note)]
