"""Citations and their verification: the one place where quotes are checked against articles.

A quote is accepted only if it occurs in the cited article's text, compared after folding
whitespace, quote marks and dashes; its character offsets in the article are then recorded.
A claim is accepted only if the quotes cited for it support it (numbers present, meaning close).
"""

from __future__ import annotations


import numpy as np

from rag.text.instructions import steers_the_reader
from rag.text.words import fold_with_map, mentioned, names, normalise, numbers, root_stems, stems, words
from rag.types import Citation


def locate_quote(article_text: str, quote: str) -> tuple[int, int] | None:
    """(start, end) of the quote in the article, or None if it is not there verbatim."""
    needle = normalise(quote)
    if len(needle) < 3:
        return None
    haystack, index = fold_with_map(article_text)
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


def is_supported(claim: str, evidence: list[str], claim_vector: np.ndarray, evidence_vectors: np.ndarray,
                 question: str = "", min_similarity: float = 0.5, max_novel: float = 0.5) -> bool:
    """Whether the cited evidence backs the claim.

    Every number and every name in the claim must appear in the evidence (or the question, which
    the answer may echo); the claim must be close in meaning to one cited sentence; and most of its
    content words must come from the evidence or the question. A claim that adds nothing to the
    question's own words ("Did X resign?" -> "X resigned.") must find those words in the evidence:
    a question turned into a statement is not an answer.
    """
    keep = [i for i, sentence in enumerate(evidence) if not steers_the_reader(sentence)]
    evidence, evidence_vectors = [evidence[i] for i in keep], evidence_vectors[keep]
    if not evidence:
        return False
    joined = " ".join(evidence)
    if not numbers(claim) <= numbers(joined) | numbers(question):
        return False
    known = words(joined + " " + question)
    if not all(mentioned(name, known) for name in names(claim)):
        return False
    if float(np.max(evidence_vectors @ claim_vector)) < min_similarity:
        return False
    claimed = stems(claim)
    if not claimed:
        return True
    roots = root_stems(claim)
    if roots and roots <= root_stems(question) and not roots <= root_stems(joined):
        return False
    novel = claimed - stems(joined) - stems(question)
    return len(novel) / len(claimed) <= max_novel
