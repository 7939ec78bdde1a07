"""The map step of a briefing: every informative sentence of an article is a candidate claim.

A claim is a whole sentence with its exact character offsets, so whatever a briefing says can be
shown with the verbatim quote behind it. Sentences that a derived copy (a machine translation)
shares with its original are folded into the original's claim and only noted in `also_in`, so a
copy never looks like a second source. Headings, abstracts and bylines are not claims.

Two claims say the same thing when they are close in meaning (MiniLM cosine) and share distinctive
words (an IDF-weighted overlap); `ClaimSet.scores` holds that pairwise score.
"""

from __future__ import annotations

import math
import re

import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, Field

from rag.types import Article
from rag.settings import BriefingSettings
from rag.store.embeddings import as_array
from rag.text.instructions import steering_sentences
from rag.text.sentences import split_sentences
from rag.text.words import DATELINE, normalise, stems

_LABEL = re.compile(r"^[A-Z][a-z]{2,12}:\s+")
_TERMINAL = re.compile(r"[.!?…][\"'”’»)\]]*$")

_DEFAULTS = BriefingSettings()  # for callers that do not pass the briefing's own settings


class Claim(BaseModel):
    """One candidate claim: a sentence of an article, located by character offsets."""

    row: int = Field(description="Row of this claim in ClaimSet.vectors.")
    article_id: str
    cluster: str = Field(description="Duplicate cluster of the article: the original it descends from.")
    outlet: str | None = None
    title: str | None = None
    date: str | None = None
    start: int
    end: int
    text: str
    position: int = Field(description="Index of the sentence in its article (0 is the lede).")
    depth: float = Field(0.0, description="Position as a share of the article: 0 at the lede, 1 at the end.")
    also_in: list[str] = Field(default_factory=list, description="Derived copies that retell this sentence.")

    @property
    def derived(self) -> bool:
        return self.cluster != self.article_id


def _inside(text: str, field: str | None) -> bool:
    """Whether the sentence (without a leading 'Abstract:'-style label) is part of a metadata field."""
    return bool(field) and normalise(_LABEL.sub("", text)) in normalise(field)


def claim_spans(article: Article, min_words: int = _DEFAULTS.claim_min_words) -> list[tuple[int, int, int]]:
    """(start, end, position) of each informative sentence: no headings, abstracts, bylines or datelines,
    and no text that gives an AI reader instructions (it reports nothing)."""
    text = article.text
    out = []
    spans = split_sentences(text)
    steering = steering_sentences([text[s.start : s.end] for s in spans])
    for position, span in enumerate(spans):
        if position in steering:
            continue
        start, end = span.start, span.end
        if dateline := DATELINE.match(text[start:end]):
            start += dateline.end()
        sentence = text[start:end]
        line_start = text.rfind("\n", 0, span.start) + 1
        line_end = text.find("\n", span.end)
        whole_line = line_start == span.start and (line_end < 0 or line_end == span.end)
        if len(sentence.split()) < min_words or (whole_line and not _TERMINAL.search(sentence)):
            continue  # too short, or a heading / title line
        meta = article.meta
        if _inside(sentence, meta.abstract) or _inside(sentence, meta.byline) or _inside(sentence, meta.title):
            continue
        out.append((start, end, position))
    return out


class ClaimSet:
    """The candidate claims of a set of articles, their embeddings and their pairwise same-claim scores."""

    def __init__(self, claims: list[Claim], vectors: np.ndarray, min_cosine: float = _DEFAULTS.same_claim_cosine,
                 idf: dict[str, float] | None = None) -> None:
        self.claims = claims
        self.vectors = vectors
        self.min_cosine = min_cosine
        self.stems = [stems(c.text) for c in claims]
        self.idf = idf if idf is not None else self._idf(self.stems)
        self.scores = self._scores()

    @staticmethod
    def _idf(sentences: list[frozenset[str]]) -> dict[str, float]:
        df: dict[str, int] = {}
        for words in sentences:
            for w in words:
                df[w] = df.get(w, 0) + 1
        n = max(1, len(sentences))
        return {w: math.log((n + 1) / (d + 0.5)) for w, d in df.items()}

    @classmethod
    def build(cls, articles: list[Article], clusters: dict[str, str], embeddings: Embeddings,
              copy_similarity: float, min_cosine: float = _DEFAULTS.same_claim_cosine,
              min_words: int = _DEFAULTS.claim_min_words) -> ClaimSet:
        """Claims of the articles; a derived copy's sentence that retells its original's is folded into it."""
        candidates: list[Claim] = []
        for article in articles:
            spans = claim_spans(article, min_words)
            last = max((p for _, _, p in spans), default=0) or 1
            for start, end, position in spans:
                candidates.append(Claim(
                    row=0, article_id=article.id, cluster=clusters.get(article.id, article.id),
                    outlet=article.meta.outlet, title=article.meta.title, date=article.meta.date,
                    start=start, end=end, text=article.text[start:end], position=position, depth=position / last,
                ))
        vectors = as_array(embeddings, [c.text for c in candidates])
        keep: list[int] = []
        selected = {a.id for a in articles}
        for i, claim in enumerate(candidates):
            if claim.derived and claim.cluster in selected:
                originals = [j for j in keep if candidates[j].article_id == claim.cluster]
                if originals:
                    sims = vectors[originals] @ vectors[i]
                    best = int(np.argmax(sims))
                    if float(sims[best]) >= copy_similarity:
                        original = candidates[originals[best]]
                        original.also_in = list(dict.fromkeys(original.also_in + [claim.article_id]))
                        continue
            keep.append(i)
        # Originals come before their copies: `articles` is ordered so (see order_articles).
        claims = [candidates[i].model_copy(update={"row": r}) for r, i in enumerate(keep)]
        dims = vectors.shape[1] if vectors.ndim == 2 else 384
        return cls(claims, vectors[keep] if keep else np.zeros((0, dims)), min_cosine)

    def subset(self, rows: list[int]) -> ClaimSet:
        """A ClaimSet of some of these claims (renumbered), e.g. those on a topic; word rarity stays that of
        all claims, since a handful of sentences says nothing about which words are rare."""
        claims = [self.claims[r].model_copy(update={"row": k}) for k, r in enumerate(rows)]
        vectors = self.vectors[rows] if rows else np.zeros((0, self.vectors.shape[1]))
        return ClaimSet(claims, vectors, self.min_cosine, self.idf)

    def overlap(self, i: int, j: int) -> float:
        """IDF-weighted share of the rarer side's distinctive words that the other claim also uses."""
        a, b = self.stems[i], self.stems[j]
        if not a or not b:
            return 0.0
        weight_a = sum(self.idf[w] for w in a)
        weight_b = sum(self.idf[w] for w in b)
        return sum(self.idf[w] for w in a & b) / max(1e-9, min(weight_a, weight_b))

    def _scores(self) -> np.ndarray:
        n = len(self.claims)
        if n == 0:
            return np.zeros((0, 0))
        cos = self.vectors @ self.vectors.T
        out = np.array(cos, dtype=np.float64)
        for i in range(n):
            for j in range(i + 1, n):
                if cos[i, j] >= self.min_cosine:
                    out[i, j] = out[j, i] = cos[i, j] + self.overlap(i, j)
        return out

    def independent(self, i: int, j: int) -> bool:
        """Whether two claims come from different duplicate clusters (independent reporting)."""
        return self.claims[i].cluster != self.claims[j].cluster


def order_articles(articles: list[Article], clusters: dict[str, str]) -> list[Article]:
    """Originals first, then derived copies, each by date: copies are folded into what precedes them."""
    return sorted(articles, key=lambda a: (clusters.get(a.id, a.id) != a.id, a.meta.date or "", a.id))
