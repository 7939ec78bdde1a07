"""Web pages: the article body and what the page states about it, by trafilatura.

trafilatura and its options were chosen by measurement on the labelled news pages (docs/extraction.md):
it keeps the article's paragraphs and drops navigation, share buttons, related stories and comments.
The metadata (html_meta) comes from what the page states: headline, authors, publication and updated
dates, outlet, canonical URL and language.
"""

from __future__ import annotations

import re

from rag.errors import InputError
from rag.ingest.formats.base import Extracted
from rag.ingest.formats.html_meta import page_meta, words
from rag.ingest.decoding import decode_bytes

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
# Only the first MAX_PARSE_BYTES of a page are parsed: articles sit in the first few hundred kB of even
# the heaviest news pages (the largest of the labelled pages is 390 kB), so a 50 MB page costs what a 5 MB
# one does instead of building a tree that exhausts memory.
MAX_PARSE_BYTES = 5_000_000
# trafilatura's fallback extractors (readability, jusText) rescue some articles its own rules miss (+1.4
# points of recall on the dev pages) but take time quadratic in the number of elements: 3 s for 20,000
# tags, a minute for 80,000. Beyond this many tags ('<'), only trafilatura's own linear pass runs (5 MB
# in ~8 s); the largest labelled news page has 5,200.
MAX_TAGS_FOR_FALLBACK = 20_000
# Fewer words than this is no article: what remains of a 404 page, a login form or a paywall stub.
MIN_ARTICLE_WORDS = 30
_HEAD = re.compile(r"<(!doctype\s+html|html|head|body)\b", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.I)
_SPACES = re.compile(r"\s+")
# Block elements of trafilatura's output tree, each a paragraph of the text.
_BLOCKS = {"p", "head", "quote", "item", "row", "code"}
_CONTAINERS = {"list", "table", "div"}


class HtmlReader:
    """One saved or fetched web page: its article, or InputError when it holds none."""

    name = "html"

    def sniff(self, head: str, suffix: str) -> bool:
        return suffix in HTML_SUFFIXES or bool(_HEAD.search(head[:2048]))

    def read(self, data: bytes, source: str) -> list[Extracted]:
        if len(data) > MAX_PARSE_BYTES:  # cut before a tag, never inside a character
            data = data[:max(data.rfind(b"<", 0, MAX_PARSE_BYTES), 0) or MAX_PARSE_BYTES]
        html = decode_html(data)
        url = source if source.startswith(("http://", "https://")) else None
        document = _extract(html, url)
        text = paragraphs(document.body) if document is not None and document.body is not None else ""
        if len(text.split()) < MIN_ARTICLE_WORDS:
            raise InputError("no article text in this page (an error, login or paywall page?)")
        meta = page_meta(document, html, url)
        return [Extracted(text=without_headline(text, meta.get("title", "")), meta=meta)]


def decode_html(data: bytes) -> str:
    """Bytes as rag decodes every file; a page that is not UTF-8 but declares its charset in a <meta> is
    read with the declared one, which is what a browser would show."""
    text, note = decode_bytes(data)
    declared = _META_CHARSET.search(data[:4096])
    if note is None or declared is None:
        return text
    try:
        return data.decode(declared.group(1).decode("ascii"), errors="replace")
    except LookupError:  # a charset Python does not know
        return text


def _extract(html: str, url: str | None):
    import trafilatura

    return trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                       fast=html.count("<") > MAX_TAGS_FOR_FALLBACK,
                                       include_tables=True, favor_precision=False, favor_recall=True,
                                       date_extraction_params={"original_date": True, "extensive_search": True})


def paragraphs(body) -> str:
    """trafilatura's output tree as text: one paragraph per block (paragraph, heading, list item, quote,
    table row), blank lines between them."""
    blocks: list[str] = []

    def walk(node) -> None:
        for child in node:
            if child.tag in _CONTAINERS and any(c.tag in _BLOCKS | _CONTAINERS for c in child):
                walk(child)
            elif child.tag == "row":
                blocks.append(" | ".join(_collapse(cell.xpath("string()")) for cell in child))
            else:
                blocks.append(_collapse(child.xpath("string()")))

    walk(body)
    return "\n\n".join(b for b in blocks if b)


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def without_headline(text: str, title: str) -> str:
    """The text without a first paragraph that repeats the headline: the headline is the title, not body."""
    first, _, rest = text.partition("\n\n")
    return rest if rest and title and words(first) == words(title) else text


