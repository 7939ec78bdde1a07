"""Near-duplicate detection: which articles retell another article sentence by sentence.

A translation or light rewrite shares few exact words with its original, so articles are compared
by meaning: each sentence is embedded, and an article counts as derived when most of its sentences
have a close counterpart in the other article.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.types import Article
from rag.store.embeddings import as_array
from rag.text.sentences import split_sentences

MIN_WORDS = 6  # shorter sentences (headings, datelines) say too little to compare
MIN_SENTENCES = 3  # an article this short cannot be told apart from one that quotes the same lines


class SentenceVectors:
    """Per-article sentence embeddings, cached on disk by article id."""

    def __init__(self, folder: Path, embeddings: Embeddings) -> None:
        self.folder = folder
        self.embeddings = embeddings
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, article: Article) -> np.ndarray:
        path = self.folder / f"{article.id}.npy"
        if path.exists():
            try:
                return np.load(path)
            except (ValueError, OSError, EOFError):
                path.unlink(missing_ok=True)  # torn by an older version: recompute
        sentences = [article.text[s.start : s.end] for s in split_sentences(article.text)]
        sentences = [s for s in sentences if len(s.split()) >= MIN_WORDS]
        vectors = as_array(self.embeddings, sentences) if sentences else np.zeros((0, 1), dtype=np.float32)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)  # a kill mid-write must not leave a torn cache file behind
        return vectors

    def forget(self, article_id: str) -> None:
        (self.folder / f"{article_id}.npy").unlink(missing_ok=True)


def coverage(a: np.ndarray, b: np.ndarray, threshold: float) -> tuple[float, float]:
    """Share of a's sentences with a counterpart in b, and of b's in a."""
    if len(a) == 0 or len(b) == 0 or a.shape[1] != b.shape[1]:
        return 0.0, 0.0
    sims = a @ b.T
    return float((sims.max(axis=1) >= threshold).mean()), float((sims.max(axis=0) >= threshold).mean())


def _original_first(a: Article, b: Article, cov_a: float, cov_b: float) -> tuple[Article, Article]:
    """(original, derived): a declared translation is derived, then the later, then the more covered one."""
    if a.meta.translation != b.meta.translation:
        return (b, a) if a.meta.translation else (a, b)
    if a.meta.date and b.meta.date and a.meta.date[:10] != b.meta.date[:10]:
        return (a, b) if a.meta.date < b.meta.date else (b, a)
    if abs(cov_a - cov_b) > 0.05:
        return (b, a) if cov_a > cov_b else (a, b)
    return (a, b) if (a.meta.date or "9", a.id) <= (b.meta.date or "9", b.id) else (b, a)


def find_duplicates(
    articles: list[Article], vectors: SentenceVectors, similarity: float, min_coverage: float
) -> list[tuple[str, str, float]]:
    """(derived id, original id, coverage) for every pair where one article retells the other."""
    matrices = {a.id: vectors.get(a) for a in articles}
    links = []
    for i, a in enumerate(articles):
        for b in articles[i + 1 :]:
            cov_a, cov_b = coverage(matrices[a.id], matrices[b.id], similarity)
            # Either side mostly retold by the other: a translation, a rewrite or a cut-down copy.
            if max(cov_a, cov_b) >= min_coverage and min(len(matrices[a.id]), len(matrices[b.id])) >= MIN_SENTENCES:
                original, derived = _original_first(a, b, cov_a, cov_b)
                links.append((derived.id, original.id, round(max(cov_a, cov_b), 3)))
    return links
