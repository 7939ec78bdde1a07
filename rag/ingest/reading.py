"""Turning a file on disk into article text, or a one-line reason why not."""

from __future__ import annotations

import codecs
from pathlib import Path

from rag.errors import InputError

HTML_SUFFIXES = {".html", ".htm"}
ARTICLE_SUFFIXES = {".txt", ".md", *HTML_SUFFIXES}


# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes) -> str:
    """Bytes to text: BOMs first, then UTF-8, then Windows-1252 (a superset of Latin-1 in practice)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(f"not valid {encoding.upper()} text ({exc.reason} at byte {exc.start})") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]  # then as UTF-8, so stray legacy lines still get the fallback
    if b"\x00" in data[:8192]:
        raise InputError("binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Mixed or legacy encodings: decode line by line so UTF-8 lines survive intact.
        return "".join(_decode_line(line) for line in data.splitlines(keepends=True))


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("cp1252", errors="replace")


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


def looks_like_html(path: Path, text: str) -> bool:
    head = text[:512].lstrip().lower()
    return path.suffix.lower() in HTML_SUFFIXES or head.startswith(("<!doctype html", "<html"))


def read_article_text(path: Path, max_bytes: int) -> str:
    """The article text of one file; raises InputError with a short reason."""
    if path.is_symlink() and not path.exists():
        raise InputError("broken symlink")
    if not path.exists():
        raise InputError("no such file")
    if not path.is_file():
        raise InputError("not a regular file")  # a FIFO or device would block or never end
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(f"too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB limit, RAG_MAX_FILE_MB)")
    try:
        data = path.read_bytes()
    except PermissionError:
        raise InputError("permission denied") from None
    except OSError as exc:
        raise InputError(f"unreadable ({exc.strerror or exc})") from None
    text = decode(data)
    if looks_like_html(path, text):
        text = html_to_text(text)
    if not text.strip():
        raise InputError("empty file" if not data else "no text (whitespace only)")
    return text


def discover(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to ingest below the given paths, and the paths that cannot be used with a reason."""
    files: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_symlink() and not path.exists():
            problems.append((path, "broken symlink"))
        elif not path.exists():
            problems.append((path, "no such file or directory"))
        elif path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.suffix.lower() in ARTICLE_SUFFIXES and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and (p.is_file() or p.is_symlink())
            )
            files.extend(found)
        else:
            files.append(path)
    return list(dict.fromkeys(files)), problems
