"""Sentence spans: where each sentence starts and ends in a text, by character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that end with a period without ending a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "gen", "gov", "sen", "rep", "lt", "col", "sgt",
    "prof", "vs", "etc", "no", "inc", "corp", "co", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) of a text."""

    start: int
    end: int


def _is_abbreviation(text: str, dot: int) -> bool:
    match = _WORD_BEFORE.search(text[:dot])
    if not match:
        return False
    word = match.group(1).lower().rstrip(".")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _next_starts_sentence(text: str, pos: int) -> bool:
    rest = text[pos:].lstrip()
    return bool(rest) and (rest[0].isupper() or rest[0].isdigit() or rest[0] in "\"'“‘«—-(")


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def split_sentences(text: str) -> list[Span]:
    """Split into sentence spans; line breaks always end a sentence (headlines, paragraphs)."""
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        cursor = line.start()
        for boundary in _BOUNDARY.finditer(text, line.start(), line.end()):
            end = boundary.end()
            if text[boundary.start()] == "." and _is_abbreviation(text, boundary.start()):
                continue
            if not _next_starts_sentence(text, end):
                continue
            if span := _trimmed(text, cursor, end):
                spans.append(span)
            cursor = end
        if span := _trimmed(text, cursor, line.end()):
            spans.append(span)
    return spans
