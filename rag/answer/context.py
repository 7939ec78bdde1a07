"""The context given to a model: numbered source sentences from the retrieved chunks, within a budget."""

from __future__ import annotations

import html

import numpy as np
from langchain_core.documents import Document
from pydantic import BaseModel, ConfigDict

from rag.ingest.derived_copies import carries, sentence_facts
from rag.store.embeddings import as_array
from rag.text.instructions import steering_sentences
from rag.text.sentences import split_sentences
from rag.store.store import Store
from rag.text.tokens import TokenCounter


class SourceSentence(BaseModel):
    """One sentence of an article offered to the model under number `sid`."""

    sid: int
    article_id: str
    cluster: str
    outlet: str | None
    title: str | None
    date: str | None
    start: int
    end: int
    text: str
    rank: int  # rank of the chunk it came from (0 = best)


class Context(BaseModel):
    """Numbered sentences plus their embeddings (row i belongs to sentences[i])."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sentences: list[SourceSentence]
    vectors: np.ndarray

    def by_sid(self) -> dict[int, int]:
        return {s.sid: i for i, s in enumerate(self.sentences)}

    def render(self) -> str:
        """Sources grouped by article, each inside a delimiter that marks it as untrusted data."""
        blocks: list[str] = []
        for article_id in dict.fromkeys(s.article_id for s in self.sentences):
            group = [s for s in self.sentences if s.article_id == article_id]
            head = group[0]
            attrs = f'outlet="{html.escape(head.outlet or "unknown")}" date="{head.date or "unknown"}"'
            lines = "\n".join(f"[{s.sid}] {' '.join(s.text.split())}" for s in group)
            blocks.append(f"<article {attrs}>\n{lines}\n</article>")
        return "\n\n".join(blocks)


def sentence_vectors(store: Store, sentences: list[SourceSentence]) -> np.ndarray:
    """Embeddings of article sentences, computed once per store and reused by later questions."""
    cache = store.sentence_vector_cache
    missing = [s for s in sentences if (s.article_id, s.start, s.end) not in cache]
    if missing:
        for s, vector in zip(missing, as_array(store.embeddings, [s.text for s in missing])):
            cache[(s.article_id, s.start, s.end)] = vector
    return np.array([cache[(s.article_id, s.start, s.end)] for s in sentences], dtype=np.float32)


def build_context(store: Store, docs: list[Document], counter: TokenCounter, budget: int,
                  duplicate_similarity: float) -> Context:
    """Sentences of the retrieved chunks, best chunk first, skipping repeats and translated copies.

    A sentence from a derived article (a translation) is left out when the original article's
    version of it is already in the context, so the model cites the original.
    """
    candidates: list[SourceSentence] = []
    seen: set[tuple[str, int]] = set()
    sentence_cache: dict[str, list] = {}
    for rank, doc in enumerate(docs):
        m = doc.metadata
        article = store.catalog.article(m["article_id"])
        if article is None:
            continue
        if article.id not in sentence_cache:
            spans = split_sentences(article.text)
            steering = steering_sentences([article.text[s.start : s.end] for s in spans])
            # Text that gives an AI reader instructions reports nothing: it is never shown to a model.
            sentence_cache[article.id] = [s for i, s in enumerate(spans) if i not in steering]
        for span in sentence_cache[article.id]:
            if span.end <= m["start"] or span.start >= m["end"] or (article.id, span.start) in seen:
                continue
            seen.add((article.id, span.start))
            candidates.append(SourceSentence(
                sid=0, article_id=article.id, cluster=m["cluster"], outlet=article.meta.outlet,
                title=article.meta.title, date=article.meta.date, start=span.start, end=span.end,
                text=article.text[span.start : span.end], rank=rank,
            ))
    if not candidates:
        return Context(sentences=[], vectors=np.zeros((0, 384), dtype=np.float32))
    vectors = sentence_vectors(store, candidates)
    keep: list[int] = []
    used = 0
    for i, c in enumerate(candidates):
        if c.cluster != c.article_id:
            # Left out only where the original says the same: close in meaning and stating every number
            # and name of it (an updated toll in a retelling is news, not a copy).
            facts = sentence_facts(c.text)
            if any(o.article_id == c.cluster and float(vectors[j] @ vectors[i]) >= duplicate_similarity
                   and carries(sentence_facts(o.text), facts) for j, o in enumerate(candidates)):
                continue
        cost = counter.count(c.text) + 4
        if used + cost > budget:
            break
        keep.append(i)
        used += cost
    # Number the kept sentences in reading order: articles by best rank, sentences by position.
    first_rank: dict[str, int] = {}
    for i in keep:
        first_rank.setdefault(candidates[i].article_id, candidates[i].rank)
    keep.sort(key=lambda i: (first_rank[candidates[i].article_id], candidates[i].article_id, candidates[i].start))
    sentences = [candidates[i].model_copy(update={"sid": n}) for n, i in enumerate(keep, start=1)]
    return Context(sentences=sentences, vectors=vectors[keep])
