"""An exclusive lock for commands that write the store, so two ingests never interleave."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import LockBusy


@contextmanager
def write_lock(data_dir: Path, wait: bool = False) -> Iterator[None]:
    """Hold data_dir/write.lock; without `wait`, fail at once with LockBusy if another process has it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "write.lock"
    with path.open("a+") as handle:
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
