"""Backups taken before a forced repair, and what can still be read from a damaged catalog.

`rag doctor --fix --force` copies the store here before it deletes anything; a damaged catalog
is replaced by a fresh one holding every article, path and duplicate link still readable from
the damaged copy. Chunks and the keyword index are rebuilt from the article text (chunking is
deterministic, so the chunk ids, and the vectors keyed by them, match the ones from ingest).
"""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import tempfile
from contextlib import closing
from datetime import datetime
from pathlib import Path

from rag.errors import StoreError
from rag.store.catalog import article_from_row
from rag.store.store import Store

CATALOG_FILES = ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm")

_RESTORE = """Copied by `rag doctor --fix --force` before it changed the store: {why}.
To go back, stop rag and copy these files over the ones in {data_dir}:
  catalog.sqlite (with catalog.sqlite-wal if present) and the chroma/ folder.
This folder can be deleted once the store works as it should.
"""


def backup_store(data_dir: Path, why: str) -> Path:
    """Copy the catalog files and the Chroma folder to data_dir/backups/<timestamp>/; return that folder.

    Call it under the write lock, so nothing changes while the copy is made.
    """
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = data_dir / "backups" / stamp
    n = 1
    while target.exists():
        target, n = data_dir / "backups" / f"{stamp}-{n}", n + 1
    try:
        target.mkdir(parents=True)
        for name in CATALOG_FILES[:2]:  # the -shm index is rebuilt from the other two
            if (data_dir / name).is_file():
                shutil.copy2(data_dir / name, target / name)
        if (data_dir / "chroma").is_dir():
            shutil.copytree(data_dir / "chroma", target / "chroma")
        (target / "README.txt").write_text(_RESTORE.format(why=why, data_dir=data_dir), encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot back up the store to {target}: {exc.strerror or exc}",
                         hint="free some space or fix the permissions; nothing was changed") from None
    return target


def _rowids(db: sqlite3.Connection, table: str) -> list[int]:
    """The rowids a table's b-tree still lists: forwards up to any damage, then backwards up to it."""
    found: dict[int, None] = {}
    for order in ("ASC", "DESC"):
        try:
            for (rowid,) in db.execute(f"SELECT rowid FROM {table} ORDER BY rowid {order}"):
                if rowid in found:
                    return list(found)  # met the rowids read from the other end
                found[rowid] = None
            return list(found)  # read to the end without meeting damage
        except sqlite3.DatabaseError:
            continue
    return list(found)


def _readable_rows(db: sqlite3.Connection, table: str) -> list[sqlite3.Row]:
    """The rows of a table that can still be read whole, one at a time so one lost page loses one row."""
    rows = []
    for rowid in _rowids(db, table):
        try:
            row = db.execute(f"SELECT * FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            continue  # the row, or the overflow pages of its text, are gone
        if row is not None:
            rows.append(row)
    return rows


class Salvage:
    """What could still be read from a damaged catalog file."""

    def __init__(self, articles: list, paths: list[tuple[str, str]], links: list[tuple[str, str, float]]) -> None:
        self.articles, self.paths, self.links = articles, paths, links


def read_damaged_catalog(path: Path) -> Salvage:
    """The articles, (path, article id) rows and duplicate links still readable from a damaged catalog."""
    articles, paths, links = [], [], []
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        copy = Path(scratch) / path.name  # SQLite may write to a file it opens (a WAL replay): not to the backup's
        for name in CATALOG_FILES[:2]:
            if (path.parent / name).is_file():
                shutil.copy2(path.parent / name, Path(scratch) / name)
        try:
            with closing(sqlite3.connect(copy)) as db:
                # Lets SQLite read a file shorter than its header says (truncated) instead of refusing it whole.
                db.execute("PRAGMA writable_schema=ON")
                db.row_factory = sqlite3.Row
                for row in _readable_rows(db, "articles"):
                    try:
                        articles.append(article_from_row(row))
                    except Exception:  # a row garbled by the damage: its article is lost, like an unreadable one
                        continue
                paths = [(r["path"], r["article_id"]) for r in _readable_rows(db, "paths")]
                links = [(r["article_id"], r["original_id"], r["score"]) for r in _readable_rows(db, "duplicates")]
        except sqlite3.DatabaseError:
            pass  # not even the schema is readable: nothing to save
    return Salvage(articles, paths, links)


def remove_catalog(data_dir: Path) -> None:
    for name in CATALOG_FILES:
        (data_dir / name).unlink(missing_ok=True)


def refill_catalog(store: Store, salvage: Salvage, backup: Path) -> str:
    """Put what was salvaged into the store's fresh catalog; return what was done.

    The files of articles that could not be read (when their path row could) are listed in
    <backup>/lost-files.txt, so they can be ingested again.
    """
    for article in salvage.articles:
        store.catalog.add_article(article, store.chunk(article))
    kept = {a.id for a in salvage.articles}
    for path, article_id in salvage.paths:
        if article_id in kept:
            store.catalog.set_path(path, article_id)
    store.catalog.set_duplicates([link for link in salvage.links if link[0] in kept and link[1] in kept])
    lost = sorted({path for path, article_id in salvage.paths if article_id not in kept})
    done = f"replaced the damaged catalog by one holding the {len(salvage.articles)} articles that could still be read"
    if lost:
        (backup / "lost-files.txt").write_text("".join(f"{p}\n" for p in lost), encoding="utf-8")
        shown = " ".join(shlex.quote(p) for p in lost[:3]) + (" ..." if len(lost) > 3 else "")
        done += (f"; {len(lost)} files were ingested but their articles are lost: `rag ingest {shown}` "
                 f"(all listed in {backup / 'lost-files.txt'})")
    else:
        done += "; re-ingest your files to bring back any that are missing"
    return done
