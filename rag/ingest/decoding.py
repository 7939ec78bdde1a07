"""Bytes to text: byte order marks, UTF-8, and the legacy encoding of whatever is not UTF-8."""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

from rag.errors import InputError

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


def head_text(data: bytes, size: int = 4096) -> str:
    """The start of the content as text, for sniffing its format: never raises, whatever the bytes."""
    head = data[:size]
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head.decode(encoding, errors="ignore")  # the codec reads and drops the BOM
    return head.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
