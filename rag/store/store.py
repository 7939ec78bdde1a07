"""The Store: the catalog (truth, lexical index) and the vector index, kept in step."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from langchain_core.embeddings import Embeddings

from rag.errors import InputError, StoreDamaged, StoreError
from rag.store.catalog import Catalog
from rag.store.chunking import chunk_text
from rag.store.damage import access_hint, catalog_hint, data_dir_problem
from rag.types import Article, Chunk
from rag.store.embeddings import embedding_name, get_embeddings
from rag.settings import Settings
from rag.text.tokens import TokenCounter, get_encoding
from rag.store.vectors import VectorIndex


class Store:
    """Everything rag knows about the ingested articles, opened from Settings.

    `readonly` creates and writes nothing (for `rag doctor` without --fix); a store that is not
    there yet reads as empty.
    """

    def __init__(self, settings: Settings, embeddings: Embeddings | None = None, readonly: bool = False) -> None:
        if problem := data_dir_problem(settings.data_dir):
            raise problem
        if not readonly:
            try:
                settings.ensure_dirs()
            except OSError as exc:
                where = Path(exc.filename) if exc.filename else settings.data_dir
                raise StoreError(f"cannot create {where}: {exc.strerror}", hint=access_hint(where)) from None
        if not readonly and (lost := lost_catalog(settings)):
            raise lost
        self.settings = settings
        self.readonly = readonly
        self.catalog = Catalog(settings.data_dir / "catalog.sqlite", readonly=readonly)
        self._embeddings = embeddings
        # (article id, start, end) -> sentence embedding. Ids are content hashes, so entries never go stale.
        self.sentence_vector_cache: dict[tuple[str, int, int], np.ndarray] = {}

    @cached_property
    def embeddings(self) -> Embeddings:
        return self._embeddings or get_embeddings(self.settings)

    @cached_property
    def vectors(self) -> VectorIndex:
        return VectorIndex(
            self.settings.data_dir, self.settings.chroma_url, embedding_name(self.settings), readonly=self.readonly
        )

    @cached_property
    def counter(self) -> TokenCounter:
        return TokenCounter(get_encoding(self.settings.encoding, self.settings.tiktoken_path))

    def chunk(self, article: Article) -> list[Chunk]:
        return chunk_text(
            article.id, article.text, self.counter, self.settings.chunk_tokens, self.settings.chunk_overlap
        )

    def add(self, article: Article, chunks: list[Chunk], vectors: list[list[float]]) -> None:
        """Vectors first (idempotent upsert by chunk id), then the catalog commit that makes them visible."""
        self.add_many([(article, chunks, vectors)])

    def add_many(self, items: list[tuple[Article, list[Chunk], list[list[float]]]]) -> None:
        """Several articles as `add` does one, with one vector delete and upsert for all of them (the
        Chroma calls, not the catalog commits, are what many short feed entries would wait for)."""
        metadatas = [
            {"article_id": c.article_id, "index": c.index, "start": c.start, "end": c.end,
             "outlet": article.meta.outlet or "", "date": article.meta.date or ""}
            for article, chunks, _ in items for c in chunks
        ]
        self.vectors.delete_articles([article.id for article, _, _ in items])
        self.vectors.upsert([c.id for _, chunks, _ in items for c in chunks],
                            [v for _, _, vectors in items for v in vectors], metadatas)
        for article, chunks, _ in items:
            self.catalog.add_article(article, chunks)
            self.catalog.mark_embedded(article.id, self.vectors.name)

    def embed_existing(self, article_id: str) -> int:
        """Embed an already catalogued article into the current collection (e.g. after a model switch)."""
        chunks = self.catalog.chunks_of(article_id)
        article = self.catalog.article(article_id)
        assert article is not None
        self.add(article, chunks, self.embeddings.embed_documents([c.text for c in chunks]))
        return len(chunks)

    def find(self, target: str) -> Article:
        """The article with this id, id prefix (4+ characters), or file path; an InputError naming why not."""
        try:
            by_path = self.catalog.article_for_path(str(Path(target).resolve()))
        except (OSError, RuntimeError):  # a symlink loop and the like: not a path of an ingested file
            by_path = None
        ids = [by_path] if by_path else (self.catalog.resolve_id(target) if len(target) >= 4 else [])
        if not ids:
            raise InputError(f"no ingested article matches {target!r}", hint="see `rag articles` for ids")
        if len(ids) > 1:
            raise InputError(f"{target!r} matches {len(ids)} articles", hint="give more of the id")
        article = self.catalog.article(ids[0])
        if article is None:
            raise InputError(f"no ingested article matches {target!r}", hint="see `rag articles` for ids")
        return article

    def remove(self, article_id: str) -> None:
        """Catalog first (so nothing half-removed is ever retrieved), then the vectors."""
        self.catalog.remove_article(article_id)
        self.vectors.delete_article(article_id)

    def close(self) -> None:
        self.catalog.close()


def lost_catalog(settings: Settings) -> StoreDamaged | None:
    """The damage to name when the catalog is missing or empty (0 bytes) while the Chroma folder holds vectors.

    rag writes the catalog's schema the moment it creates the file, so this is a catalog lost or
    emptied after an ingest, not a new store: opening it would make an empty catalog beside
    vectors of articles it no longer knows.
    """
    path = settings.data_dir / "catalog.sqlite"
    if path.is_file() and path.stat().st_size > 0:
        return None
    if settings.chroma_url or not (settings.data_dir / "chroma" / "chroma.sqlite3").is_file():
        return None  # a Chroma server may serve other data dirs too; no folder, no vectors
    count = VectorIndex(settings.data_dir, None, embedding_name(settings), readonly=True).count()
    if not count:
        return None
    state = "empty (0 bytes)" if path.is_file() else "missing"
    return StoreDamaged(
        f"the catalog {path} is {state} but {settings.data_dir / 'chroma'} holds {count} vectors: it was lost or "
        "emptied", hint=catalog_hint(path, lost=True), path=str(path),
    )
