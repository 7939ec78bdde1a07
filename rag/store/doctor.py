"""Doctor: find and repair disagreements between the catalog (the truth) and the Chroma collection.

`rag doctor [--fix] [--json]` (rag/cli.py) calls check() or repair() under the write lock, so an
ingest in progress is not reported as damage and repairs never interleave with one.
Exit 0 means the store is consistent (after repairs with --fix); `report.repaired` lists what was done.

What can go wrong, and why: `Store.add` upserts vectors before the catalog commit that makes them
visible, so a kill between the two leaves orphan vectors; a kill after the commit but before
`mark_embedded` leaves an article whose vectors are not recorded; a lost or replaced Chroma folder
leaves catalog chunks without vectors; a kill while a sentence-vector cache file is written leaves
a file that breaks every later duplicate refresh.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field, computed_field

from rag.store.store import Store


class DoctorReport(BaseModel):
    """How the catalog and the vector collection disagree; empty lists mean they agree."""

    collection: str = Field(description="The Chroma collection that was compared with the catalog.")
    articles: int
    chunks: int
    vectors: int
    orphan_vectors: list[str] = Field(default_factory=list, description="Vector ids with no chunk in the catalog.")
    missing_vectors: list[str] = Field(default_factory=list, description="Catalog chunk ids with no vector.")
    unmarked_articles: list[str] = Field(
        default_factory=list, description="Articles fully embedded but not recorded as embedded in this collection."
    )
    orphan_chunks: list[str] = Field(default_factory=list, description="Catalog chunks whose article is gone.")
    fts_missing: list[str] = Field(default_factory=list, description="Chunk ids without a keyword-index row.")
    fts_stale: list[int] = Field(default_factory=list, description="Keyword-index rowids without a chunk.")
    fts_mismatched: list[str] = Field(default_factory=list, description="Chunk ids whose keyword-index text differs.")
    dangling_paths: list[str] = Field(default_factory=list, description="File paths mapped to a missing article.")
    dangling_duplicates: list[tuple[str, str]] = Field(
        default_factory=list, description="(derived, original) links naming a missing article."
    )
    dangling_embedded: list[tuple[str, str]] = Field(
        default_factory=list, description="(article, collection) embedding records of a missing article."
    )
    bad_sentence_caches: list[str] = Field(
        default_factory=list, description="Sentence-vector cache files that are unreadable or for a missing article."
    )
    repaired: list[str] = Field(default_factory=list, description="What repair() did, one line each.")

    @computed_field
    @property
    def problems(self) -> list[str]:
        """One line per kind of disagreement found."""
        found = [
            (self.orphan_vectors, "vectors in Chroma have no chunk in the catalog (an interrupted ingest)"),
            (self.missing_vectors, "catalog chunks have no vector in Chroma (they need embedding)"),
            (self.unmarked_articles, "articles are embedded but not recorded as embedded"),
            (self.orphan_chunks, "catalog chunks belong to no article"),
            (self.fts_missing, "chunks are missing from the keyword index"),
            (self.fts_stale, "keyword-index rows belong to no chunk"),
            (self.fts_mismatched, "keyword-index rows differ from their chunk's text"),
            (self.dangling_paths, "file paths point to a missing article"),
            (self.dangling_duplicates, "duplicate links name a missing article"),
            (self.dangling_embedded, "embedding records name a missing article"),
            (self.bad_sentence_caches, "sentence-vector cache files are unreadable or stale"),
        ]
        return [f"{len(items)} {what}" for items, what in found if items]

    @computed_field
    @property
    def clean(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """The report for people: what was repaired, then what is wrong, or that all is well."""
        summary = f"{self.articles} articles, {self.chunks} chunks, {self.vectors} vectors in {self.collection}"
        status = [f"problem: {p}" for p in self.problems] or [f"ok: catalog and vectors agree ({summary})"]
        return [f"repaired: {r}" for r in self.repaired] + status


def _sentence_cache_dir(store: Store) -> Path:
    # Where rag.ingest.sentence_vectors keeps its cache; built here without loading the embedding model.
    return store.settings.data_dir / "sentences"


def _bad_sentence_caches(store: Store, article_ids: set[str]) -> list[str]:
    folder = _sentence_cache_dir(store)
    bad = []
    for path in sorted(folder.glob("*.npy")) if folder.is_dir() else []:
        if path.stem not in article_ids:
            bad.append(path.name)
            continue
        try:
            np.load(path)
        except (ValueError, OSError, EOFError):
            bad.append(path.name)
    return bad


def _articles_of(store: Store, chunk_ids: list[str], batch: int = 500) -> set[str]:
    """The articles these chunks belong to, asked in batches (SQLite caps the number of parameters)."""
    found: set[str] = set()
    for i in range(0, len(chunk_ids), batch):
        found |= {c.article_id for c in store.catalog.chunks_by_id(chunk_ids[i : i + batch]).values()}
    return found


def check(store: Store) -> DoctorReport:
    """Compare the catalog with the vector collection and with itself; changes nothing."""
    catalog, vectors = store.catalog, store.vectors
    article_ids = set(catalog.article_ids())
    chunk_ids = catalog.chunk_ids()
    vector_ids = vectors.all_ids()
    orphan_chunks = catalog.orphan_chunk_ids()  # reported once, as orphans, not also under vectors or FTS
    orphan_set = set(orphan_chunks)
    missing = chunk_ids - vector_ids - orphan_set
    incomplete = _articles_of(store, sorted(missing))
    fts_missing, fts_stale, fts_mismatched = catalog.fts_differences()
    fts_missing = [c for c in fts_missing if c not in orphan_set]
    paths, duplicates, embedded = catalog.dangling_links()
    return DoctorReport(
        collection=vectors.name, articles=len(article_ids), chunks=len(chunk_ids), vectors=len(vector_ids),
        orphan_vectors=sorted(vector_ids - chunk_ids), missing_vectors=sorted(missing),
        unmarked_articles=sorted(article_ids - incomplete - catalog.embedded_ids(vectors.name)),
        orphan_chunks=orphan_chunks, fts_missing=fts_missing, fts_stale=fts_stale,
        fts_mismatched=fts_mismatched, dangling_paths=paths, dangling_duplicates=duplicates,
        dangling_embedded=embedded, bad_sentence_caches=_bad_sentence_caches(store, article_ids),
    )


def repair(store: Store) -> DoctorReport:
    """Make the store consistent again, catalog first (it is the truth), then the vectors.

    Returns the state afterwards (clean unless something could not be fixed) with `repaired`
    listing what was done.
    """
    found = check(store)
    done: list[str] = []
    if found.orphan_chunks or found.dangling_paths or found.dangling_duplicates or found.dangling_embedded:
        store.catalog.drop_dangling()
        done.append(
            f"dropped {len(found.orphan_chunks)} orphan chunks, {len(found.dangling_paths)} paths, "
            f"{len(found.dangling_duplicates)} duplicate links and {len(found.dangling_embedded)} embedding "
            "records of missing articles"
        )
    if found.fts_missing or found.fts_stale or found.fts_mismatched or found.orphan_chunks:
        store.catalog.rebuild_fts()
        done.append(f"rebuilt the keyword index from {store.catalog.count_chunks()} chunks")
    # Recompute: dropping orphan chunks turns their vectors into orphans too.
    chunk_ids, vector_ids = store.catalog.chunk_ids(), store.vectors.all_ids()
    if orphans := sorted(vector_ids - chunk_ids):
        store.vectors.delete_ids(orphans)
        done.append(f"deleted {len(orphans)} orphan vectors")
    missing = sorted(chunk_ids - vector_ids)
    to_embed = sorted(_articles_of(store, missing))
    for article_id in to_embed:
        store.embed_existing(article_id)
    if to_embed:
        done.append(f"re-embedded {len(to_embed)} articles ({len(missing)} chunks had no vector)")
    unmarked = set(store.catalog.article_ids()) - set(to_embed) - store.catalog.embedded_ids(store.vectors.name)
    for article_id in sorted(unmarked):
        store.catalog.mark_embedded(article_id, store.vectors.name)
    if unmarked:
        done.append(f"recorded {len(unmarked)} fully embedded articles as embedded")
    for name in found.bad_sentence_caches:
        (_sentence_cache_dir(store) / name).unlink(missing_ok=True)
    if found.bad_sentence_caches:
        done.append(f"deleted {len(found.bad_sentence_caches)} bad sentence-vector cache files (rebuilt on next ingest)")
    return check(store).model_copy(update={"repaired": done})
