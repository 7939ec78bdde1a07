"""Running `rag serve`'s app for tests: uvicorn on 127.0.0.1 and a free port, in a thread of the test process
(so the session's MiniLM is reused), over a private copy of the seeded store."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from rag.serve.app import create_app
from rag.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_store(seeded_store, target: Path) -> Path:
    """A copy of the seeded data dir that a server may write to."""
    shutil.copytree(seeded_store.settings.data_dir, target)
    return target


@dataclass
class Served:
    url: str
    app: object

    @property
    def engine(self):
        """The server's shared Engine (its queue, store and jobs)."""
        return self.app.state.engine


@contextmanager
def running_server(settings: Settings, embeddings=None, backend: str = "extractive") -> Iterator[Served]:
    """The app served on 127.0.0.1 until the block ends."""
    port = free_port()
    app = create_app(settings, backend, embeddings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name="test-rag-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 300
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(30)
