"""Shared test helpers and seed names (imported by tests; conftest.py holds only fixtures)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
AP, SUMMARY, AP_TRANSLATION, NYT, NOTUS = sorted(p.name for p in SEEDS.glob("*.txt"))


def make_store(data_dir: Path, embeddings, **settings):
    from rag.store.store import Store

    return Store(Settings(data_dir=data_dir, **settings), embeddings=embeddings)


def article_id_of(store, file_name: str) -> str:
    return next(a.id for a in store.catalog.articles() if Path(a.path).name == file_name)


@contextmanager
def write_lock_held(data_dir: Path, seconds: float = 120) -> Iterator[None]:
    """Another thread holds the store's write lock (as a running ingest would) until the block ends."""
    from rag.ingest.locking import write_lock

    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with write_lock(data_dir):
            locked.set()
            release.wait(seconds)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10), "the lock was not taken"
        yield
    finally:
        release.set()
        holder.join()
