"""Markdown files: YAML front matter is metadata, and the markup around the prose is dropped so that
quotes read as the author's sentences, not as '**' and '](https://...)'."""

from __future__ import annotations

import re

from rag.errors import InputError
from rag.ingest.articles import normalise_text, split_front_matter
from rag.ingest.decoding import decode_bytes
from rag.ingest.formats.base import Extracted

_FRONT_MATTER = re.compile(r"---\r?\n")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.M)
_RULE = re.compile(r"^ {0,3}(?:([-*_=])[ \t]*){3,}$\n?", re.M)  # rules and setext heading underlines
_FENCE = re.compile(r"^ {0,3}(?:```|~~~).*$\n?", re.M)
_QUOTE = re.compile(r"^ {0,3}> ?", re.M)
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]+\S+.*$\n?", re.M)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_CODE = re.compile(r"`([^`\n]+)`")


class MarkdownReader:
    """A .md file, or any file that opens with YAML front matter."""

    name = "markdown"
    suffixes = (".md", ".markdown")

    def sniff(self, head: str, suffix: str) -> bool:
        return suffix in self.suffixes or bool(_FRONT_MATTER.match(head))

    def read(self, data: bytes, source: str) -> list[Extracted]:
        raw, note = decode_bytes(data)
        front, body = split_front_matter(normalise_text(raw))
        text = markdown_to_text(body)
        if not text.strip():
            raise InputError("no text (front matter only)" if front else "no text (whitespace only)")
        return [Extracted(text, front_matter=front, note=note)]


def markdown_to_text(markdown: str) -> str:
    """The prose of Markdown: headings without their '#', links as their words, no images, rules,
    code fences, quote marks or '**'; single '*' and '_' stay (they are as often arithmetic or names)."""
    text = _FENCE.sub("", _LINK_DEFINITION.sub("", _RULE.sub("", markdown)))
    text = _HEADING.sub(r"\1", _QUOTE.sub("", text))
    text = _LINK.sub(r"\1", _IMAGE.sub("", text))
    return _CODE.sub(r"\1", _STRONG.sub(r"\2", text))
