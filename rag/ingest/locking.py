"""An exclusive lock for commands that write the store, so two ingests never interleave."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import LockBusy, StoreError
from rag.store.damage import data_dir_problem


@contextmanager
def write_lock(data_dir: Path, wait: bool = False) -> Iterator[None]:
    """Hold data_dir/write.lock; without `wait`, fail at once with LockBusy if another process has it."""
    path = data_dir / "write.lock"
    if problem := data_dir_problem(data_dir):
        raise problem
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as exc:
        raise StoreError(
            f"cannot write the lock file {path}: {exc.strerror}",
            hint=f"check that {data_dir} is a folder you may write, or set RAG_DATA_DIR to one",
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise LockBusy(
                f"the store in {data_dir} is being written by {holder}",
                hint="wait for it to finish, then run again",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_writer(data_dir: Path) -> str | None:
    """Who holds the write lock now ("pid 1234"), or None; looks without taking it or writing anything."""
    try:
        handle = (data_dir / "write.lock").open("r")
    except OSError:
        return None  # no lock file (nothing ever wrote here) or not readable: no writer we can see
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = handle.read().strip() or "another process"
            return None if holder == f"pid {os.getpid()}" else holder  # our own lock: a --fix holds it
        except OSError:
            return None
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
