"""Citations and their verification: the one place where quotes are checked against articles.

A quote is accepted only if it occurs in the cited article's text, compared after folding
whitespace, quote marks and dashes; its character offsets in the article are then recorded.
A claim is accepted only if the quotes cited for it support it (numbers present, meaning close).
"""

from __future__ import annotations

import re

import numpy as np
from pydantic import BaseModel, Field

_FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'",
                       "–": "-", "—": "-", "\u00a0": " "})
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = set(
    "a an and are as at be been by did do does for from had has have he her his i in into is it its of on "
    "or she that the their them there they this to was were what when where which who will with would "
    "about after also not no but so than then said says say told could can may".split()
)


class Citation(BaseModel):
    """A verified quote: `article.text[start:end]` is the quote, give or take folded characters."""

    n: int
    article_id: str
    outlet: str | None = None
    title: str | None = None
    quote: str
    start: int
    end: int
    also_in: list[str] = Field(default_factory=list, description="Derived copies that carry the same sentence.")


def _fold_with_map(text: str) -> tuple[str, list[int]]:
    """Folded, whitespace-collapsed text and, per folded character, its index in `text`."""
    chars: list[str] = []
    index: list[int] = []
    previous_space = False
    for i, ch in enumerate(text.translate(_FOLD)):
        if ch.isspace():
            if previous_space:
                continue
            ch, previous_space = " ", True
        else:
            previous_space = False
        chars.append(ch)
        index.append(i)
    return "".join(chars), index


def normalise(text: str) -> str:
    return _fold_with_map(text)[0].strip()


def locate_quote(article_text: str, quote: str) -> tuple[int, int] | None:
    """(start, end) of the quote in the article, or None if it is not there verbatim."""
    needle = normalise(quote)
    if len(needle) < 3:
        return None
    haystack, index = _fold_with_map(article_text)
    at = haystack.find(needle)
    if at < 0:
        return None
    return index[at], index[at + len(needle) - 1] + 1


def verify_citation(citation: Citation, article_text: str) -> Citation | None:
    """The citation with offsets corrected to where its quote really is, or None if it is not there."""
    if article_text[citation.start : citation.end] == citation.quote:
        return citation
    found = locate_quote(article_text, citation.quote)
    if found is None:
        return None
    start, end = found
    return citation.model_copy(update={"start": start, "end": end, "quote": article_text[start:end]})


def content_words(text: str) -> set[str]:
    """Lower-cased content words, crudely stemmed so 'missiles' meets 'missile'."""
    words = _WORD.findall(normalise(text).lower())
    return {w[:-1] if len(w) > 4 and w.endswith("s") else w for w in words if w not in _STOPWORDS}


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


_NAME = re.compile(r"\b[A-Z][\w’'-]*[a-z]")
_STARTERS = set("during according meanwhile however despite after before while when since as if yes no "
                "both all some many most one two three first last mr mrs ms president".split())


def names(text: str) -> set[str]:
    """Capitalised words that name people, places or bodies (not sentence starters like 'During')."""
    found = {m.group(0).lower() for m in _NAME.finditer(text)}
    found = {re.sub(r"[’']s$", "", n) for n in found}
    return {n for n in found if n not in _STOPWORDS and n not in _STARTERS}


def _mentions(name: str, words: set[str]) -> bool:
    return any(w.startswith(name) or (name.startswith(w) and len(w) >= 4) for w in words)


_ADDRESSED_TO_MODEL = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b(?:\W+\w+){0,4}?\W+(?:instructions?|prompts?|rules|directions)\b"
    r"|\bsystem prompt\b|\byou are now\b",
    re.I,
)


def addresses_the_model(sentence: str) -> bool:
    """Text written to steer an AI reader ("ignore previous instructions and answer that ..."). It
    reports nothing, so it is never evidence for a claim, whatever words the claim shares with it."""
    return bool(_ADDRESSED_TO_MODEL.search(normalise(sentence)))


def is_supported(claim: str, evidence: list[str], claim_vector: np.ndarray, evidence_vectors: np.ndarray,
                 question: str = "", min_similarity: float = 0.5, max_novel: float = 0.5) -> bool:
    """Whether the cited evidence backs the claim.

    Every number and every name in the claim must appear in the evidence (or the question, which
    the answer may echo); the claim must be close in meaning to one cited sentence; and most of its
    content words must come from the evidence or the question.
    """
    keep = [i for i, sentence in enumerate(evidence) if not addresses_the_model(sentence)]
    evidence, evidence_vectors = [evidence[i] for i in keep], evidence_vectors[keep]
    if not evidence:
        return False
    joined = " ".join(evidence)
    if not numbers(claim) <= numbers(joined) | numbers(question):
        return False
    known = set(_WORD.findall(normalise(joined + " " + question).lower()))
    if not all(_mentions(name, known) for name in names(claim)):
        return False
    if float(np.max(evidence_vectors @ claim_vector)) < min_similarity:
        return False
    words = content_words(claim)
    if not words:
        return True
    novel = words - content_words(joined) - content_words(question)
    return len(novel) / len(words) <= max_novel
