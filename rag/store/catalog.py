"""The SQLite catalog: articles, file paths, chunks, the FTS5 lexical index and duplicate links.

It is the source of truth; the Chroma collection holds vectors for exactly the chunks listed here.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import StoreError
from rag.store.damage import access_hint, catalog_damaged, catalog_error, sqlite_header_problem
from rag.text.words import STOP_WORDS
from rag.types import Article, ArticleMeta, Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles(
  id TEXT PRIMARY KEY, text TEXT NOT NULL, title TEXT, date TEXT, outlet TEXT, abstract TEXT,
  byline TEXT, url TEXT, language TEXT, translation INTEGER NOT NULL DEFAULT 0, path TEXT NOT NULL,
  added_at TEXT NOT NULL DEFAULT (datetime('now')), updated TEXT);
CREATE TABLE IF NOT EXISTS paths(path TEXT PRIMARY KEY, article_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
  rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL, idx INTEGER NOT NULL,
  start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(text, tokenize='porter unicode61');
CREATE TABLE IF NOT EXISTS duplicates(
  article_id TEXT NOT NULL, original_id TEXT NOT NULL, score REAL NOT NULL,
  PRIMARY KEY(article_id, original_id));
CREATE TABLE IF NOT EXISTS embedded(article_id TEXT NOT NULL, collection TEXT NOT NULL,
  PRIMARY KEY(article_id, collection));
"""
_META_FIELDS = ("title", "date", "outlet", "abstract", "byline", "url", "language", "translation", "updated")
# Columns added to `articles` after the first release, with their types: old catalogs gain them on open.
_ADDED_COLUMNS = {"updated": "TEXT"}


def fts_query(text: str) -> str | None:
    """An FTS5 OR-query of the distinctive words of a free-text question."""
    words = [w for w in re.findall(r"\w+", text.lower()) if w not in STOP_WORDS]
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(words)) or None


class Catalog:
    """Typed access to the catalog database; every write is one transaction.

    Every SQLite failure leaves a method as one StoreError naming the file (rag.store.damage): a
    damaged file as StoreDamaged, a folder without permissions as what to check. `readonly` opens
    the file for reading only and never creates it (a missing or empty file reads as an empty
    catalog), so `rag doctor` can look while an ingest writes.
    """

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        if problem := sqlite_header_problem(path):
            raise catalog_damaged(path, problem)
        if readonly and (not path.is_file() or path.stat().st_size == 0):
            self.db = sqlite3.connect(":memory:", check_same_thread=False)
        elif readonly:
            self.db = _open_readonly(path)
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create {path.parent}: {exc.strerror}",
                                 hint=access_hint(path.parent)) from None
            self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        if not readonly:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
        if not readonly or self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            self.db.executescript(_SCHEMA)
        if not readonly:
            self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        have = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
        for column, kind in _ADDED_COLUMNS.items():
            if column not in have:
                self.db.execute(f"ALTER TABLE articles ADD COLUMN {column} {kind}")
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with self.db:
                yield self.db
        except sqlite3.Error as exc:
            _reraise(exc, self.path)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one committed state of the catalog, even while an ingest commits (WAL)."""
        if self.db.in_transaction:  # already inside one: its reads are consistent as they are
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("ROLLBACK")

    def verify(self) -> None:
        """Raise StoreDamaged unless SQLite's quick check finds every page and index of the file sound."""
        found = [r[0] for r in self.db.execute("PRAGMA quick_check(5)")]
        if found != ["ok"]:
            raise catalog_damaged(self.path, "; ".join(found))

    # --- articles -------------------------------------------------------------------------
    def add_article(self, article: Article, chunks: list[Chunk]) -> None:
        """Record an article, its path and chunks (and their lexical index) atomically."""
        meta = article.meta.model_dump()
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO articles(id, text, path, " + ", ".join(_META_FIELDS) + ") "
                "VALUES (?, ?, ?" + ", ?" * len(_META_FIELDS) + ")",
                (article.id, article.text, article.path, *(meta[f] for f in _META_FIELDS)),
            )
            self._delete_chunks(db, [article.id])
            for chunk in chunks:
                cursor = db.execute(
                    "INSERT INTO chunks(id, article_id, idx, start, end, text) VALUES (?, ?, ?, ?, ?, ?)",
                    (chunk.id, chunk.article_id, chunk.index, chunk.start, chunk.end, chunk.text),
                )
                db.execute("INSERT INTO chunks_fts(rowid, text) VALUES (?, ?)", (cursor.lastrowid, chunk.text))
            db.execute("INSERT OR REPLACE INTO paths(path, article_id) VALUES (?, ?)", (article.path, article.id))

    @staticmethod
    def _delete_chunks(db: sqlite3.Connection, article_ids: Iterable[str]) -> None:
        for article_id in article_ids:
            db.execute(
                "DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE article_id = ?)", (article_id,)
            )
            db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))

    def remove_article(self, article_id: str) -> None:
        """Forget an article with its chunks, paths, duplicate links and embedding records."""
        with self.transaction() as db:
            self._delete_chunks(db, [article_id])
            db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            db.execute("DELETE FROM paths WHERE article_id = ?", (article_id,))
            db.execute("DELETE FROM duplicates WHERE article_id = ? OR original_id = ?", (article_id, article_id))
            db.execute("DELETE FROM embedded WHERE article_id = ?", (article_id,))

    def set_path(self, path: str, article_id: str) -> None:
        """Record that a file holds an article; an article whose own path was dropped (renamed) takes this one."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO paths(path, article_id) VALUES (?, ?)", (path, article_id))
            db.execute("UPDATE articles SET path = ? WHERE id = ? AND path NOT IN (SELECT path FROM paths)",
                       (path, article_id))

    def article_for_path(self, path: str) -> str | None:
        row = self.db.execute("SELECT article_id FROM paths WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def paths_of(self, article_id: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT path FROM paths WHERE article_id = ?", (article_id,))]

    def drop_path(self, path: str) -> None:
        """Forget a file path; an article recorded under it moves to another path it has, if any."""
        with self.transaction() as db:
            db.execute("DELETE FROM paths WHERE path = ?", (path,))
            db.execute("UPDATE articles SET path = (SELECT min(p.path) FROM paths p WHERE p.article_id = articles.id) "
                       "WHERE path = ? AND id IN (SELECT article_id FROM paths)", (path,))

    def paths(self, file: str | None = None) -> list[tuple[str, str]]:
        """Every (path, article id) recorded; of one file: its own path and '<file>#<key>' of each article in it."""
        cond = " WHERE path = ? OR substr(path, 1, ?) = ?" if file is not None else ""
        args = (file, len(file) + 1, file + "#") if file is not None else ()
        return [(r[0], r[1]) for r in self.db.execute(f"SELECT path, article_id FROM paths{cond} ORDER BY path", args)]

    def has_article(self, article_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def article(self, article_id: str) -> Article | None:
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return article_from_row(row) if row else None

    def articles(self) -> list[Article]:
        return [article_from_row(r) for r in self.db.execute("SELECT * FROM articles ORDER BY date, added_at, id")]

    def article_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY id")]

    def resolve_id(self, prefix: str) -> list[str]:
        """Article ids starting with `prefix`."""
        return [r[0] for r in self.db.execute("SELECT id FROM articles WHERE id LIKE ?", (prefix + "%",))]

    def filter_ids(self, outlets: list[str] | None = None, since: str | None = None, until: str | None = None) -> list[str]:
        """Article ids matching outlet names (case-insensitive substrings) and a date range."""
        clauses, args = [], []
        if outlets:
            clauses.append("(" + " OR ".join("lower(outlet) LIKE ?" for _ in outlets) + ")")
            args += [f"%{o.lower()}%" for o in outlets]
        if since:
            clauses.append("date >= ?")
            args.append(since)
        if until:
            clauses.append("substr(date, 1, 10) <= ?")
            args.append(until)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        return [r[0] for r in self.db.execute("SELECT id FROM articles" + where, args)]

    # --- chunks ---------------------------------------------------------------------------
    def chunks_of(self, article_id: str) -> list[Chunk]:
        rows = self.db.execute("SELECT * FROM chunks WHERE article_id = ? ORDER BY idx", (article_id,))
        return [_chunk(r) for r in rows]

    def chunks_by_id(self, chunk_ids: list[str]) -> dict[str, Chunk]:
        marks = ",".join("?" * len(chunk_ids))
        rows = self.db.execute(f"SELECT * FROM chunks WHERE id IN ({marks})", chunk_ids) if chunk_ids else []
        return {r["id"]: _chunk(r) for r in rows}

    def chunk_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM chunks")}

    def count_chunks(self) -> int:
        return self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def lexical_search(self, query: str, limit: int, article_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, bm25 score) best first; higher is better."""
        match = fts_query(query)
        if match is None:
            return []
        sql = (
            "SELECT c.id, -bm25(chunks_fts) AS score FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
            "WHERE chunks_fts MATCH ?"
        )
        args: list[object] = [match]
        if article_ids is not None:
            sql += f" AND c.article_id IN ({','.join('?' * len(article_ids))})"
            args += article_ids
        sql += " ORDER BY bm25(chunks_fts) LIMIT ?"
        return [(r[0], r[1]) for r in self.db.execute(sql, [*args, limit])]

    # --- duplicates and embeddings ----------------------------------------------------------
    def set_duplicates(self, links: list[tuple[str, str, float]]) -> None:
        """Replace all duplicate links with (derived article, original article, score)."""
        with self.transaction() as db:
            db.execute("DELETE FROM duplicates")
            db.executemany("INSERT INTO duplicates(article_id, original_id, score) VALUES (?, ?, ?)", links)

    def add_duplicates(self, links: list[tuple[str, str, float]]) -> None:
        """Add (derived article, original article, score) links, replacing any between the same pair."""
        with self.transaction() as db:
            for derived, original, _ in links:
                db.execute("DELETE FROM duplicates WHERE (article_id = ? AND original_id = ?) "
                           "OR (article_id = ? AND original_id = ?)", (derived, original, original, derived))
            db.executemany("INSERT INTO duplicates(article_id, original_id, score) VALUES (?, ?, ?)", links)

    def duplicates(self) -> list[tuple[str, str, float]]:
        return [tuple(r) for r in self.db.execute("SELECT article_id, original_id, score FROM duplicates")]

    def clusters(self) -> dict[str, str]:
        """Each article id mapped to the id of the original its duplicate cluster descends from."""
        parent = {a: o for a, o, _ in self.duplicates()}
        out = {}
        for article_id in self.article_ids():
            root, seen = article_id, set()
            while root in parent and root not in seen:
                seen.add(root)
                root = parent[root]
            out[article_id] = root
        return out

    def mark_embedded(self, article_id: str, collection: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO embedded(article_id, collection) VALUES (?, ?)", (article_id, collection))

    def is_embedded(self, article_id: str, collection: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM embedded WHERE article_id = ? AND collection = ?", (article_id, collection)
        ).fetchone()
        return row is not None

    def unembed(self, collection: str, article_ids: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany(
                "DELETE FROM embedded WHERE article_id = ? AND collection = ?", [(a, collection) for a in article_ids]
            )

    # --- consistency checks (rag.store.doctor) ----------------------------------------------------
    def orphan_chunk_ids(self) -> list[str]:
        """Chunks whose article row is gone."""
        sql = "SELECT id FROM chunks WHERE article_id NOT IN (SELECT id FROM articles) ORDER BY id"
        return [r[0] for r in self.db.execute(sql)]

    def fts_differences(self) -> tuple[list[str], list[int], list[str]]:
        """(chunk ids without a lexical row, lexical rowids without a chunk, chunk ids whose lexical text differs)."""
        missing = [r[0] for r in self.db.execute(
            "SELECT id FROM chunks WHERE rowid NOT IN (SELECT rowid FROM chunks_fts) ORDER BY id")]
        stale = [r[0] for r in self.db.execute(
            "SELECT rowid FROM chunks_fts WHERE rowid NOT IN (SELECT rowid FROM chunks) ORDER BY rowid")]
        differ = [r[0] for r in self.db.execute(
            "SELECT c.id FROM chunks c JOIN chunks_fts f ON f.rowid = c.rowid WHERE f.text != c.text ORDER BY c.id")]
        return missing, stale, differ

    def rebuild_fts(self) -> None:
        """Rewrite the lexical index from the chunks table, in one transaction."""
        with self.transaction() as db:
            db.execute("DELETE FROM chunks_fts")
            db.execute("INSERT INTO chunks_fts(rowid, text) SELECT rowid, text FROM chunks")

    def dangling_links(self) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
        """(paths, duplicate links, embedded records) that name an article the catalog no longer has."""
        paths = [r[0] for r in self.db.execute(
            "SELECT path FROM paths WHERE article_id NOT IN (SELECT id FROM articles) ORDER BY path")]
        duplicates = [(r[0], r[1]) for r in self.db.execute(
            "SELECT article_id, original_id FROM duplicates WHERE article_id NOT IN (SELECT id FROM articles) "
            "OR original_id NOT IN (SELECT id FROM articles) ORDER BY article_id, original_id")]
        embedded = [(r[0], r[1]) for r in self.db.execute(
            "SELECT article_id, collection FROM embedded WHERE article_id NOT IN (SELECT id FROM articles) "
            "ORDER BY article_id, collection")]
        return paths, duplicates, embedded

    def drop_dangling(self) -> None:
        """Delete chunks (with their lexical rows), paths, duplicate links and embedded records of missing articles."""
        gone = "NOT IN (SELECT id FROM articles)"
        with self.transaction() as db:
            db.execute(f"DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE article_id {gone})")
            db.execute(f"DELETE FROM chunks WHERE article_id {gone}")
            db.execute(f"DELETE FROM paths WHERE article_id {gone}")
            db.execute(f"DELETE FROM duplicates WHERE article_id {gone} OR original_id {gone}")
            db.execute(f"DELETE FROM embedded WHERE article_id {gone}")

    def count_records(self) -> int:
        """Rows of the tables a repair may delete from: chunks, paths, duplicate links, embedding records."""
        tables = ("chunks", "paths", "duplicates", "embedded")
        return sum(self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)

    def embedded_ids(self, collection: str) -> set[str]:
        """Articles recorded as embedded in a collection."""
        return {r[0] for r in self.db.execute("SELECT article_id FROM embedded WHERE collection = ?", (collection,))}


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection; in a folder nobody may write (so no writer either), one that needs no -shm file."""
    uri = path.resolve().as_uri() + "?mode=ro"
    db = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if os.access(path.parent, os.W_OK) or not getattr(exc, "sqlite_errorname", "").startswith(
            ("SQLITE_READONLY", "SQLITE_CANTOPEN")
        ):
            raise
        db.close()
        # A WAL database needs a -shm file beside it to be read, which a read-only folder cannot get;
        # immutable=1 reads the file as it is (no one can be writing to a folder that is read-only).
        db = sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False)
    return db


def _translating(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            _reraise(exc, self.path)

    return wrapper


def _reraise(exc: sqlite3.Error, path: Path):
    if (error := catalog_error(exc, path)) is None:
        raise exc
    raise error from exc


for _name, _method in list(vars(Catalog).items()):
    if inspect.isfunction(_method) and _name not in ("transaction", "snapshot", "close"):
        setattr(Catalog, _name, _translating(_method))
del _name, _method


def article_from_row(row: sqlite3.Row) -> Article:
    """An Article from a row of the articles table (also a row read from a damaged copy by rag.store.salvage)."""
    present = row.keys()  # a catalog written before a column was added (read-only or salvaged) lacks it
    meta = ArticleMeta(**{f: row[f] for f in _META_FIELDS if f in present})
    return Article(id=row["id"], path=row["path"], text=row["text"], meta=meta)


def _chunk(row: sqlite3.Row) -> Chunk:
    return Chunk(
        id=row["id"], article_id=row["article_id"], index=row["idx"], start=row["start"], end=row["end"],
        text=row["text"],
    )
