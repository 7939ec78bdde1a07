"""Plain text files: the decoded text is the article; what it says about itself is parsed later."""

from __future__ import annotations

from rag.errors import InputError
from rag.ingest.decoding import decode_bytes
from rag.ingest.formats.base import Extracted


class TextReader:
    """A .txt file, and the fallback for any file no other reader claims."""

    name = "text"
    suffixes = (".txt", ".text")

    def sniff(self, head: str, suffix: str) -> bool:
        return suffix in self.suffixes  # plain text has no signature of its own

    def read(self, data: bytes, source: str) -> list[Extracted]:
        text, note = decode_bytes(data)
        if not text.strip():
            raise InputError("no text (whitespace only)")
        return [Extracted(text, note=note)]
