"""How a damaged or unreachable store file is recognised and named for a person.

Every failure of the catalog's SQLite file or of the Chroma folder becomes one StoreError that
names the file, says what is wrong with it and what to do; a damaged file becomes a StoreDamaged,
which `rag doctor --fix` refuses to "repair" by deleting what the damaged file no longer lists.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from rag.errors import StoreDamaged, StoreError

_SQLITE_MAGIC = b"SQLite format 3\x00"
_DAMAGE_WORDS = ("malformed", "not a database", "file is encrypted")
_DENIED_WORDS = ("readonly", "read-only", "permission denied", "unable to open", "operation not permitted")


def catalog_hint(path: Path, lost: bool = False) -> str:
    keeps = "starts an empty catalog" if lost else "keeps what can still be read"
    return (f"restore {path.name} from a backup; or run `rag doctor --fix --force`, which copies the store to "
            f"{path.parent / 'backups'}/ and {keeps}; then re-ingest your files")


def vectors_hint(folder: Path) -> str:
    return (f"the vectors can be rebuilt from the catalog: run `rag doctor --fix --force`, which moves "
            f"{folder.name}/ to {folder.parent / 'backups'}/ and re-embeds every article; or restore {folder.name}/ "
            "from a backup")


def access_hint(path: Path) -> str:
    return f"check that {path} exists and that you may read and write it, or set RAG_DATA_DIR to a folder you own"


def data_dir_problem(data_dir: Path) -> StoreError | None:
    """The error naming a data dir that cannot be one (it, or a folder above it, is a file), or None."""
    blocker = next((p for p in (data_dir, *data_dir.parents) if p.exists()), None)
    if blocker is None or blocker.is_dir():
        return None
    what = "is a file" if blocker == data_dir else f"cannot be created: {blocker} is a file"
    return StoreError(f"the data directory {data_dir} {what}",
                      hint="set RAG_DATA_DIR to a folder; a missing one is created")


def sqlite_header_problem(path: Path) -> str | None:
    """What a look at an SQLite file's size and 100-byte header shows to be wrong, or None.

    A 0-byte file is a valid empty database to SQLite, so it passes here; `rag doctor` notices an
    empty catalog beside a full vector collection. The size check is skipped while a write-ahead
    log holds pages not yet copied into the file (a checkpoint in progress).
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(100)
    except OSError:
        return None  # not there or not readable: opening it reports that in its own words
    if size == 0:
        return None
    if not head.startswith(_SQLITE_MAGIC[: len(head)]) or len(head) < len(_SQLITE_MAGIC):
        return f"it is not an SQLite database ({size} bytes without the SQLite header)"
    if len(head) < 100:
        return f"it is truncated ({size} bytes, shorter than the SQLite header)"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    header_valid = pages > 0 and head[24:28] == head[92:96]  # SQLite's rule for trusting the page count
    wal = path.with_name(path.name + "-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0
    if header_valid and not wal_pending and size < pages * page_size:
        return f"it is truncated ({size} bytes where its header promises {pages * page_size})"
    return None


def catalog_damaged(path: Path, what: str) -> StoreDamaged:
    return StoreDamaged(f"the catalog {path} is damaged: {what}", hint=catalog_hint(path), path=str(path))


def catalog_error(exc: sqlite3.Error, path: Path) -> StoreError | None:
    """The StoreError an SQLite failure of the catalog means to a user; None for a programming error."""
    if type(exc) not in (sqlite3.DatabaseError, sqlite3.OperationalError):
        return None  # IntegrityError, ProgrammingError ...: a bug in rag, keep its traceback
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    lowered = text.lower()
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or any(w in lowered for w in _DAMAGE_WORDS):
        return catalog_damaged(path, sqlite_header_problem(path) or text)
    if "no such table" in lowered or "no such column" in lowered:
        return catalog_damaged(path, f"it is not a complete rag catalog ({text})")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or any(
        w in lowered for w in _DENIED_WORDS
    ):
        return StoreError(f"cannot use the catalog {path}: {text}", hint=access_hint(path.parent))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreError(f"the catalog {path} is busy: {text}", hint="another process holds it; try again",
                          retryable=True)
    if name.startswith("SQLITE_FULL"):
        return StoreError(f"cannot write the catalog {path}: the disk is full", hint="free some space")
    return StoreError(f"the catalog {path} failed: {text}")


def chroma_error(exc: Exception, folder: Path, what: str = "open") -> StoreError:
    """The StoreError a failure of the embedded Chroma store means to a user."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    lowered = text.lower()
    code = re.search(r"\(code: (\d+)\)", text)
    sqlite_code = int(code.group(1)) if code else None
    database = folder / "chroma.sqlite3"
    if sqlite_code in (11, 26) or any(w in lowered for w in _DAMAGE_WORDS):
        problem = sqlite_header_problem(database) or text
        return StoreDamaged(f"the vector store {database} is damaged: {problem}", hint=vectors_hint(folder),
                            path=str(database))
    if sqlite_code in (8, 14, 23) or any(w in lowered for w in _DENIED_WORDS):
        return StoreError(f"cannot {what} the vector store in {folder}: {text}", hint=access_hint(folder))
    return StoreError(f"{what} failed in the embedded Chroma store {folder}: {text}", retryable=True)
