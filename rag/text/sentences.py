"""Sentence spans: where each sentence starts and ends in a text, by character offsets.

Every step looks only at the few characters around a candidate boundary (the word before it, the
first character after it) and never copies the text, so splitting takes time linear in its length.
"""

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
# It starts only where a run of punctuation starts, and its quantifiers never backtrack: a long run
# of "!!!!" is scanned once, not once per character.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’»)\]]*+(?=\s)|[。！？]++[」』”’）]*+")
_FULL_WIDTH_STOPS = "。！？"  # Chinese and Japanese end sentences with these, with no space after
_NON_SPACE = re.compile(r"\S")
_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) of a text."""

    start: int
    end: int


def _is_word_char(ch: str) -> bool:
    """`[\\w.]` in a regex over str: letters, digits, underscore and the full stop."""
    return ch.isalnum() or ch in "_."


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the word run (letters, digits, dots) just before `dot` is an abbreviation or an initial."""
    start = dot
    while start > 0 and _is_word_char(text[start - 1]):
        start -= 1
    if start == dot:
        return False
    word = text[start:dot].lower().rstrip(".")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _next_starts_sentence(text: str, pos: int) -> bool:
    """Whether the first non-space character from `pos` on (on any later line) can open a sentence."""
    found = _NON_SPACE.search(text, pos)
    if found is None:
        return False
    first = found.group()
    return first.isupper() or first.isdigit() or first in "\"'“‘«—-("


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def split_sentences(text: str) -> list[Span]:
    """Split into sentence spans; line breaks always end a sentence (headlines, paragraphs)."""
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        cursor = line.start()
        for boundary in _BOUNDARY.finditer(text, line.start(), line.end()):
            end = boundary.end()
            if text[boundary.start()] == "." and _is_abbreviation(text, boundary.start()):
                continue
            if text[boundary.start()] not in _FULL_WIDTH_STOPS and not _next_starts_sentence(text, end):
                continue
            if span := _trimmed(text, cursor, end):
                spans.append(span)
            cursor = end
        if span := _trimmed(text, cursor, line.end()):
            spans.append(span)
    return spans
