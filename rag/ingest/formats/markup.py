"""Markup helpers the readers share: HTML (a feed entry, an export field, a page) to plain paragraphs,
without telling an article from the rest of its page (the HTML reader's job), and the root element
of an HTML or XML document, for sniffing."""

from __future__ import annotations

import re

# What may come before a document's root element: a BOM, white space, an XML declaration or
# processing instruction, comments, a doctype (kept: '<!doctype html' names the root).
_PROLOG = re.compile(r"(?:\ufeff|\s+|<\?.*?\?>|<!--.*?-->|<!doctype(?!\s+html)[^>]*>)*", re.S | re.I)
_ROOT = re.compile(r"<(!doctype\s+html|[A-Za-z][\w.:-]*)", re.I)

_BLOCK_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre")


def html_to_text(html: str) -> str:
    """The readable text of an HTML page: paragraphs and headings, no scripts, styles or comments."""
    # selectolax >= 1.0 removed the old Modest parser (`selectolax.parser` raises ImportError).
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, noscript, template, nav, header, footer, aside, form, svg, iframe"):
        node.decompose()
    for node in tree.css("br"):
        node.replace_with(" ")
    root = tree.css_first("article") or tree.body or tree.root
    if root is None:
        return ""
    # Only outermost blocks: a <p> inside a <blockquote> or <li> must not be read twice.
    blocks = [_collapse(n.text()) for n in root.css(", ".join(_BLOCK_TAGS)) if not _inside_block(n, root)]
    blocks = [b for b in blocks if b]
    return "\n\n".join(blocks) if blocks else root.text(separator="\n", strip=True)


def _inside_block(node, root) -> bool:
    parent = node.parent
    while parent is not None and parent != root:
        if parent.tag in _BLOCK_TAGS:
            return True
        parent = parent.parent
    return False


def _collapse(text: str) -> str:
    """Source line breaks and runs of spaces (incl. no-break spaces) inside a block are one space."""
    return " ".join(text.split())


def root_tag(head: str) -> str | None:
    """The lowercase name of the first element of a markup document ('html' for an HTML doctype,
    'rss', 'feed', 'rdf:rdf' ...), or None when the text does not start as markup."""
    start = _PROLOG.match(head).end()
    found = _ROOT.match(head, start)
    if not found:
        return None
    name = found.group(1).lower()
    return "html" if name.startswith("!doctype") else name
