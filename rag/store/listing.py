"""What is stored, in the JSON shapes every entry point prints: `rag articles --json`, `rag search --json`,
`rag show --json`, and the same routes of `rag serve`."""

from __future__ import annotations

from langchain_core.documents import Document

from rag.store.store import Store
from rag.types import Article


def article_rows(store: Store) -> list[dict]:
    """One row per article: metadata, the original it is a derived copy of (None for an original), chunks."""
    clusters = store.catalog.clusters()
    return [{"id": a.id, "path": a.path, "url": a.meta.url, "outlet": a.meta.outlet, "title": a.meta.title,
             "authors": a.meta.byline, "date": a.meta.date, "updated": a.meta.updated,
             "language": a.meta.language, "derived_from": clusters[a.id] if clusters[a.id] != a.id else None,
             "chunks": len(store.catalog.chunks_of(a.id))} for a in store.catalog.articles()]


def article_record(article: Article) -> dict:
    """One article as stored: id, path, every metadata field and the text."""
    return {"id": article.id, "path": article.path, **article.meta.model_dump(), "text": article.text}


def search_rows(docs: list[Document]) -> list[dict]:
    """Ranked chunks: rank, text, and the chunk's article metadata and offsets."""
    return [{"rank": i, "text": d.page_content, **d.metadata} for i, d in enumerate(docs, 1)]
