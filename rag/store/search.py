"""Hybrid retrieval: dense (Chroma) and lexical (SQLite FTS5 BM25) fused by reciprocal rank."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import BaseModel, ConfigDict, Field

from rag.store.store import Store


class SearchFilters(BaseModel):
    """Which articles a search may return."""

    outlets: list[str] | None = Field(None, description="Outlet names (case-insensitive substrings).")
    since: str | None = Field(None, description="ISO date: only articles dated on or after it.")
    until: str | None = Field(None, description="ISO date: only articles dated on or before it.")
    per_cluster: int | None = Field(None, description="Keep at most this many chunks per duplicate cluster.")

    def restricts_articles(self) -> bool:
        return bool(self.outlets or self.since or self.until)


def reciprocal_rank_fusion(rankings: list[list[str]], k: int) -> dict[str, float]:
    """Sum of 1/(k + rank) over the rankings each id appears in."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores


class HybridRetriever(BaseRetriever):
    """LangChain retriever over a Store; documents carry article metadata and character offsets."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any  # Store; Any keeps pydantic from inspecting it
    k: int = 6
    fetch_k: int = 30
    rrf_k: int = 60
    filters: SearchFilters = Field(default_factory=SearchFilters)

    @classmethod
    def from_store(cls, store: Store, **overrides: Any) -> HybridRetriever:
        settings = store.settings
        values = {"k": settings.search_k, "fetch_k": settings.fetch_k, "rrf_k": settings.rrf_k, **overrides}
        return cls(store=store, **values)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return self.search(query)

    def search(self, query: str, k: int | None = None) -> list[Document]:
        """The k best chunks for a query, best first."""
        store: Store = self.store
        allowed = store.catalog.filter_ids(self.filters.outlets, self.filters.since, self.filters.until) \
            if self.filters.restricts_articles() else None
        dense = store.vectors.query(store.embeddings.embed_query(query), self.fetch_k, allowed)
        lexical = store.catalog.lexical_search(query, self.fetch_k, allowed)
        known = store.catalog.chunks_by_id(list({cid for cid, _ in dense} | {cid for cid, _ in lexical}))
        # Vectors without a catalog row (an interrupted ingest) are never shown.
        dense = [(c, s) for c, s in dense if c in known]
        fused = reciprocal_rank_fusion([[c for c, _ in dense], [c for c, _ in lexical]], self.rrf_k)
        dense_scores, lexical_scores = dict(dense), dict(lexical)
        clusters = store.catalog.clusters()
        articles: dict[str, Any] = {}
        per_cluster: dict[str, int] = {}
        out: list[Document] = []
        for chunk_id in sorted(fused, key=lambda c: -fused[c]):
            chunk = known[chunk_id]
            cluster = clusters.get(chunk.article_id, chunk.article_id)
            if self.filters.per_cluster is not None:
                if per_cluster.get(cluster, 0) >= self.filters.per_cluster:
                    continue
                per_cluster[cluster] = per_cluster.get(cluster, 0) + 1
            if chunk.article_id not in articles:
                articles[chunk.article_id] = store.catalog.article(chunk.article_id)
            article = articles[chunk.article_id]
            out.append(Document(
                page_content=chunk.text,
                id=chunk.id,
                metadata={
                    "chunk_id": chunk.id, "article_id": chunk.article_id, "index": chunk.index,
                    "start": chunk.start, "end": chunk.end, "score": round(fused[chunk_id], 6),
                    "dense": dense_scores.get(chunk_id), "lexical": lexical_scores.get(chunk_id),
                    "outlet": article.meta.outlet, "title": article.meta.title, "date": article.meta.date,
                    "path": article.path, "cluster": cluster, "derived": cluster != chunk.article_id,
                },
            ))
            if len(out) >= (k or self.k):
                break
        return out
