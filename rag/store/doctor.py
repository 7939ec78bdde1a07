"""Doctor: find and repair disagreements between the catalog (the truth) and the Chroma collection.

`rag doctor [--json]` calls check() on a read-only Store: it writes nothing and takes no lock, so
it runs while an ingest writes (the catalog is read in one snapshot; the report notes the ingest,
whose half-written article may show as a difference). `rag doctor --fix [--force]` calls fix()
under the write lock, so repairs never interleave with an ingest.
Exit 0 means the store is consistent (after repairs with --fix); `report.repaired` lists what was done.

What can go wrong, and why: `Store.add` upserts vectors before the catalog commit that makes them
visible, so a kill between the two leaves orphan vectors; a kill after the commit but before
`mark_embedded` leaves an article whose vectors are not recorded; a lost or replaced Chroma folder
leaves catalog chunks without vectors; a kill while a sentence-vector cache file is written leaves
a file that breaks every later duplicate refresh.

A damaged file (a truncated or zeroed catalog.sqlite or chroma.sqlite3) is named, never "repaired"
by deleting what it no longer lists: opening it raises StoreDamaged, whose hint says what to do.
Neither may a repair quietly delete much: one that would delete more than MAX_QUIET_DELETES
records and more than MAX_QUIET_SHARE of them (vectors, or catalog rows) refuses without
`--force`, and with it first copies the store to <data_dir>/backups/<timestamp>/ (rag.store.salvage).
An interrupted ingest leaves the vectors of the one article it was writing: a few records, a small
share of any real store. A lost, emptied or replaced catalog orphans every vector, and a catalog
restored from an old backup a large share; those call for a person, not an automatic delete.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, Field, computed_field

from rag.errors import StoreDamaged, StoreError
from rag.ingest.locking import current_writer
from rag.settings import Settings
from rag.store.catalog import Catalog
from rag.store.embeddings import embedding_name
from rag.store.salvage import backup_store, read_damaged_catalog, refill_catalog, remove_catalog
from rag.store.store import Store, lost_catalog
from rag.store.vectors import VectorIndex

MAX_QUIET_DELETES = 5  # a repair may always delete this many records (vectors, or catalog rows) ...
MAX_QUIET_SHARE = 0.10  # ... or this share of them; beyond both it needs --force (see the module docstring)


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
    doomed_vectors: int = Field(0, description="Vectors a repair would delete (orphans, and those of orphan chunks).")
    doomed_records: int = Field(0, description="Catalog rows a repair would delete (orphan chunks, dangling links).")
    needs_force: bool = Field(False, description="A repair would delete more than a few records: --fix needs --force.")
    notes: list[str] = Field(default_factory=list, description="What to know when reading the report.")
    repaired: list[str] = Field(default_factory=list, description="What repair() did, one line each.")

    @computed_field
    @property
    def problems(self) -> list[str]:
        """One line per kind of disagreement found."""
        fix = "`rag doctor --fix`"
        orphan_vectors = f"vectors in Chroma have no chunk in the catalog (an interrupted ingest; {fix} deletes them)"
        if self.chunks == 0 and self.orphan_vectors:
            orphan_vectors = ("vectors in Chroma, but the catalog holds no chunks: catalog.sqlite was lost, emptied "
                              "or replaced (restore it from a backup or re-ingest your files)")
        found = [
            (self.orphan_vectors, orphan_vectors),
            (self.missing_vectors, f"catalog chunks have no vector in Chroma ({fix} embeds them)"),
            (self.unmarked_articles, f"articles are embedded but not recorded as embedded ({fix} records them)"),
            (self.orphan_chunks, f"catalog chunks belong to no article ({fix} drops them)"),
            (self.fts_missing, f"chunks are missing from the keyword index ({fix} rebuilds it)"),
            (self.fts_stale, f"keyword-index rows belong to no chunk ({fix} rebuilds the index)"),
            (self.fts_mismatched, f"keyword-index rows differ from their chunk's text ({fix} rebuilds the index)"),
            (self.dangling_paths, f"file paths point to a missing article ({fix} drops them)"),
            (self.dangling_duplicates, f"duplicate links name a missing article ({fix} drops them)"),
            (self.dangling_embedded, f"embedding records name a missing article ({fix} drops them)"),
            (self.bad_sentence_caches,
             f"sentence-vector cache files are unreadable or stale ({fix} deletes them; ingest rebuilds them)"),
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
        if self.needs_force:
            status.append(f"caution: a repair would delete {self.doomed_vectors} vectors and {self.doomed_records} "
                          "catalog records, more than a few: `rag doctor --fix` refuses, `rag doctor --fix --force` "
                          "does it after copying the store to backups/")
        return [f"repaired: {r}" for r in self.repaired] + status + [f"note: {n}" for n in self.notes]


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


def needs_force(doomed: int, population: int) -> bool:
    """Whether deleting `doomed` of `population` records is more than a repair may do unasked."""
    return doomed > MAX_QUIET_DELETES and doomed > MAX_QUIET_SHARE * population


def check(store: Store) -> DoctorReport:
    """Compare the catalog with the vector collection and with itself; changes nothing.

    Raises StoreDamaged when the catalog or the Chroma store is damaged: nothing can be compared then.
    """
    catalog, vectors = store.catalog, store.vectors
    catalog.verify()
    with catalog.snapshot():  # one committed state, even while an ingest commits
        article_ids = set(catalog.article_ids())
        chunk_ids = catalog.chunk_ids()
        orphan_chunks = catalog.orphan_chunk_ids()  # reported once, as orphans, not also under vectors or FTS
        fts_missing, fts_stale, fts_mismatched = catalog.fts_differences()
        paths, duplicates, embedded = catalog.dangling_links()
        embedded_ids = catalog.embedded_ids(vectors.name)
        records = catalog.count_records()
    vector_ids = vectors.all_ids()
    orphan_set = set(orphan_chunks)
    missing = chunk_ids - vector_ids - orphan_set
    incomplete = _articles_of(store, sorted(missing))
    fts_missing = [c for c in fts_missing if c not in orphan_set]
    doomed_vectors = len(vector_ids - (chunk_ids - orphan_set))
    doomed_records = len(orphan_chunks) + len(paths) + len(duplicates) + len(embedded)
    writer = current_writer(store.settings.data_dir)
    notes = [f"an ingest is running ({writer}): what it is writing may show as a difference; run `rag doctor` "
             "again when it has finished"] if writer else []
    return DoctorReport(
        collection=vectors.name, articles=len(article_ids), chunks=len(chunk_ids), vectors=len(vector_ids),
        orphan_vectors=sorted(vector_ids - chunk_ids), missing_vectors=sorted(missing),
        unmarked_articles=sorted(article_ids - incomplete - embedded_ids),
        orphan_chunks=orphan_chunks, fts_missing=fts_missing, fts_stale=fts_stale,
        fts_mismatched=fts_mismatched, dangling_paths=paths, dangling_duplicates=duplicates,
        dangling_embedded=embedded, bad_sentence_caches=_bad_sentence_caches(store, article_ids),
        doomed_vectors=doomed_vectors, doomed_records=doomed_records,
        needs_force=needs_force(doomed_vectors, len(vector_ids)) or needs_force(doomed_records, records),
        notes=notes,
    )


def _refuse(store: Store, found: DoctorReport) -> StoreError:
    data_dir = store.settings.data_dir
    if found.chunks == 0 and found.vectors:
        why = (f"the catalog holds no chunks but Chroma holds {found.vectors} vectors: {data_dir / 'catalog.sqlite'} "
               "was lost, emptied or replaced")
    else:
        why = (f"it would delete {found.doomed_vectors} of {found.vectors} vectors and {found.doomed_records} catalog "
               f"records, more than an interrupted ingest leaves (over {MAX_QUIET_DELETES} and over "
               f"{MAX_QUIET_SHARE:.0%})")
    return StoreError(
        f"`rag doctor --fix` refused: {why}",
        hint=f"restore catalog.sqlite from a backup or re-ingest your files; or run `rag doctor --fix --force`, "
             f"which first copies the store to {data_dir / 'backups'}/",
    )


def repair(store: Store, force: bool = False, backup: Path | None = None) -> DoctorReport:
    """Make the store consistent again, catalog first (it is the truth), then the vectors.

    Refuses (StoreError) to delete more than a few records unless `force`; with it, the store is
    first copied to backups/ (unless `backup` already holds such a copy). Returns the state
    afterwards (clean unless something could not be fixed) with `repaired` listing what was done.
    """
    found = check(store)
    done: list[str] = []
    if found.needs_force and not force:
        raise _refuse(store, found)
    if found.needs_force and backup is None:
        backup = backup_store(store.settings.data_dir, "a repair deleting more than a few records")
        done.append(f"copied the store to {backup} before deleting")
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


def _damage(settings: Settings) -> tuple[StoreDamaged | None, StoreDamaged | None]:
    """(catalog damage, vector store damage) found by opening each and reading it through."""
    catalog_damage = vectors_damage = None
    try:
        catalog = Catalog(settings.data_dir / "catalog.sqlite", readonly=True)
        try:
            catalog.verify()
        finally:
            catalog.close()
    except StoreDamaged as exc:
        catalog_damage = exc
    try:
        VectorIndex(settings.data_dir, settings.chroma_url, embedding_name(settings), readonly=True).all_ids()
    except StoreDamaged as exc:
        vectors_damage = exc
    if not (catalog_damage or vectors_damage):
        catalog_damage = lost_catalog(settings)
    return catalog_damage, vectors_damage


def fix(settings: Settings, force: bool = False, embeddings: Embeddings | None = None) -> DoctorReport:
    """`rag doctor --fix [--force]`: set damaged files right (only with `force`), then repair(). Hold the write lock.

    Without `force` a damaged file is raised as the StoreDamaged that names it. With it, the store
    is copied to backups/ first; a damaged catalog is replaced by what can still be read from it
    and a damaged Chroma store by an empty one, which repair() fills again from the catalog.
    """
    catalog_damage, vectors_damage = _damage(settings)
    done: list[str] = []
    backup = None
    if catalog_damage or vectors_damage:
        if not force:
            raise catalog_damage or vectors_damage
        backup = backup_store(settings.data_dir, "; ".join(e.message for e in (catalog_damage, vectors_damage) if e))
        done.append(f"copied the store to {backup} before changing it")
    salvage = None
    if catalog_damage:
        salvage = read_damaged_catalog(settings.data_dir / "catalog.sqlite")
        remove_catalog(settings.data_dir)
        Catalog(settings.data_dir / "catalog.sqlite").close()  # a fresh one: the store is no longer "lost"
    if vectors_damage:
        shutil.rmtree(settings.data_dir / "chroma")
        done.append("set the damaged Chroma store aside (its copy is in the backup); the vectors are rebuilt below")
    store = Store(settings, embeddings)
    try:
        if salvage is not None:
            done.append(refill_catalog(store, salvage, backup))
        report = repair(store, force=force, backup=backup)
    finally:
        store.close()
    return report.model_copy(update={"repaired": done + report.repaired})
