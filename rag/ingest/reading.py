"""Turning a file on disk into article text, or a one-line reason why not."""

from __future__ import annotations

import codecs
import errno
import re
from pathlib import Path
from typing import NamedTuple

from rag.errors import InputError
from rag.ingest.articles import SIDECAR_NAME

HTML_SUFFIXES = {".html", ".htm"}
ARTICLE_SUFFIXES = {".txt", ".md", *HTML_SUFFIXES}


# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


class Decoded(NamedTuple):
    """Text read from bytes, and how legacy (non-Unicode) bytes in it were read, for the ingest report."""

    text: str
    note: str | None = None


def decode(data: bytes) -> str:
    """Bytes to text; see `decode_bytes`."""
    return decode_bytes(data).text


def decode_bytes(data: bytes) -> Decoded:
    """Bytes to text: BOMs first, then UTF-8, then line by line (so UTF-8 lines of a mixed file survive
    intact) with the legacy encoding the other lines are in: Windows-1252, or one detected by
    charset-normalizer (Shift-JIS, Windows-1251, GB18030 ...)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(encoding))
            except UnicodeDecodeError as exc:
                raise InputError(f"not valid {encoding.upper()} text ({exc.reason} at byte {exc.start})") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]  # then as UTF-8, so stray legacy lines still get the fallback
    if b"\x00" in data[:8192]:
        raise InputError("binary file, not text")
    try:
        return Decoded(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    lines = data.splitlines(keepends=True)
    legacy = b"".join(line for line in lines if not _is_utf8(line))
    encoding = legacy_encoding(legacy)
    text = "".join(line.decode("utf-8") if _is_utf8(line) else line.decode(encoding, errors="replace")
                   for line in lines)
    name = _display_name(encoding)
    if text.count("\ufffd") > data.count("\ufffd".encode()):
        return Decoded(text, f"not UTF-8 and no encoding fits: read as {name}, some characters are lost")
    return Decoded(text, f"not UTF-8: read as {name}")


def _display_name(encoding: str) -> str:
    name = codecs.lookup(encoding).name  # cp1251, cp932, gb18030 ...
    if name.startswith("cp125"):
        return "Windows-" + name[2:]
    names = {"cp932": "Shift-JIS", "shift_jis": "Shift-JIS", "cp949": "EUC-KR", "euc_kr": "EUC-KR"}
    return names.get(name, name.upper())


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Legacy encodings in the order news files are likely to use them, to break ties between those that read
# a short text equally well (a few Cyrillic words are valid Windows-1251, CP1125 and KOI8 alike).
_LIKELY = ("cp1251", "cp932", "shift_jis", "gb18030", "gbk", "cp949", "euc_kr", "big5", "euc_jp", "cp1250",
           "koi8_r", "cp1253", "cp1254", "cp1255", "cp1256", "cp874", "iso8859_2", "iso8859_5")
_LATIN_LETTER = re.compile(r"[^\W\d_]")
# In French, German, Spanish or Portuguese prose well under a third of the letters carry an accent.
_WESTERN_ACCENTED_SHARE = 0.3
_CHAOS_TIE = 0.01  # charset-normalizer chaos scores this close read the text equally well


def legacy_encoding(data: bytes) -> str:
    """The encoding of bytes that are not UTF-8. Windows-1252 when it reads them as Western text: accented
    letters are then a minority of the letters (Cyrillic read as Windows-1252 is all accented letters,
    'Ìýð Ìîñêâû'); otherwise what charset-normalizer finds least chaotic, common encodings first."""
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:  # bytes Windows-1252 leaves undefined
        western = None
    if western is not None:
        letters = _LATIN_LETTER.findall(western)
        if letters and sum(not c.isascii() for c in letters) <= _WESTERN_ACCENTED_SHARE * len(letters):
            return "cp1252"
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return "cp1252"
    calmest = min(m.chaos for m in matches)
    candidates = [m for m in matches if m.chaos <= calmest + _CHAOS_TIE]

    def rank(match) -> int:
        names = {codecs.lookup(e).name for e in match.could_be_from_charset}
        return min((i for i, e in enumerate(_LIKELY) if codecs.lookup(e).name in names), default=len(_LIKELY))

    return min(candidates, key=rank).encoding


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
    return read_article(path, max_bytes).text


def read_article(path: Path, max_bytes: int) -> Decoded:
    """The article text of one file and how it was decoded; raises InputError with a short reason."""
    if problem := link_problem(path):
        raise InputError(problem)
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
    text, note = decode_bytes(data)
    if looks_like_html(path, text):
        text = html_to_text(text)
    if not text.strip():
        raise InputError("empty file" if not data else "no text (whitespace only)")
    return Decoded(text, note)


def link_problem(path: Path) -> str | None:
    """Why a symlink leads to no file ('broken symlink', 'symlink loop'), or None."""
    if not path.is_symlink():
        return None
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        return "symlink loop"
    except OSError as exc:
        return "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
    return None


def resolved(path: Path) -> Path:
    """The absolute path a file is recorded under; a symlink loop is an InputError, not a RuntimeError."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        raise InputError(f"{path}: {link_problem(path) or 'cannot be resolved'}") from None


def discover(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to ingest below the given paths, and the paths that cannot be used with a reason."""
    files: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for path in paths:
        if problem := link_problem(path):
            problems.append((path, problem))
        elif not path.exists():
            problems.append((path, "no such file or directory"))
        elif path.is_dir():
            files.extend(p for p in _visible_files(path) if p.suffix.lower() in ARTICLE_SUFFIXES)
        else:
            files.append(path)
    return list(dict.fromkeys(files)), problems


def unsupported(paths: list[Path]) -> list[Path]:
    """Files inside the given folders that are not articles rag reads (a PDF, a Word file)."""
    return [p for path in paths if path.is_dir()
            for p in _visible_files(path) if p.suffix.lower() not in ARTICLE_SUFFIXES and p.name != SIDECAR_NAME
            and p.is_file()]


def _visible_files(folder: Path) -> list[Path]:
    """Files (and links) below a folder, leaving out hidden ones and those in hidden folders."""
    return sorted(p for p in folder.rglob("*") if not any(part.startswith(".") for part in p.relative_to(folder).parts)
                  and (p.is_file() or p.is_symlink()))
