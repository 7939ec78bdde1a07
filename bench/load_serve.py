"""Load test of `rag serve`: concurrent chat clients (the official openai client, streaming) for a while,
with latency percentiles. Every request must succeed; times are reported, not asserted.

    python bench/load_serve.py                                 # seeds into a temp dir, a server started here
    python bench/load_serve.py --seconds 30 --clients 4
    python bench/load_serve.py --url http://127.0.0.1:8000     # a running `rag serve` (127.0.0.1 only)

Each answer is compared with the one the same question got when asked alone first, so a request that
got another request's answer shows up as a mismatch, not only a crash.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from load import QUESTIONS, LoadReport  # noqa: E402  (the same questions and report as bench/load.py)


def ask(client, question: str) -> tuple[str, bool]:
    """One streamed chat request: (the text it streamed, whether it ended with finish_reason 'stop')."""
    stream = client.chat.completions.create(model="rag", stream=True, messages=[{"role": "user", "content": question}])
    text, finished = "", False
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finished = finished or chunk.choices[0].finish_reason == "stop"
    return text, finished


def run(url: str, clients: int, seconds: float) -> LoadReport:
    """`clients` threads, each with its own openai client, asking round-robin until `seconds` have passed."""
    import openai

    def client():
        return openai.OpenAI(base_url=f"{url}/v1", api_key=os.environ.get("RAG_API_KEY", "unused"),
                             max_retries=0, timeout=300)

    expected = {q: ask(client(), q)[0] for q in QUESTIONS}  # alone, and warms the server
    report = LoadReport(workers=clients, seconds=seconds)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def work(n: int) -> None:
        own, i = client(), n
        while time.monotonic() < deadline:
            question = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            began = time.perf_counter()
            try:
                text, finished = ask(own, question)
            except Exception as exc:  # noqa: BLE001 - counted and shown
                with lock:
                    report.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            took = time.perf_counter() - began
            with lock:
                report.latencies.append(took)
                report.per_worker[n] = report.per_worker.get(n, 0) + 1
                if not finished:
                    report.errors.append(f"{question!r}: the stream ended without finish_reason 'stop'")
                elif text != expected[question]:
                    report.mismatches.append(f"{question!r}: {text[:120]!r}")

    threads = [threading.Thread(target=work, args=(n,), name=f"chat-client-{n}") for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 300)
    report.seconds = time.monotonic() - began
    return report


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, backend: str) -> tuple[subprocess.Popen, str]:
    """`rag serve` on a free 127.0.0.1 port over `data_dir`; returns it and its URL once /health answers."""
    import httpx

    port = free_port()
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port), "--backend", backend],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"rag serve exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("rag serve did not start in 300 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to keep asking (default 60)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent chat clients (default 8)")
    parser.add_argument("--url", help="a running server on this machine; default: start one here")
    parser.add_argument("--backend", default="extractive", help="for the server started here (default extractive)")
    args = parser.parse_args(argv)
    if args.url and urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        print("error: the load test only sends traffic to a server on this machine (127.0.0.1)", file=sys.stderr)
        return 2

    sys.path.insert(0, str(ROOT))
    server = None
    with tempfile.TemporaryDirectory(prefix="rag-load-serve-") as tmp:
        url = args.url
        if url is None:
            from rag.ingest.pipeline import build_store
            from rag.settings import Settings

            print(f"ingesting seeds/ into {tmp} and starting rag serve ...", file=sys.stderr)
            build_store(Settings(), Path(tmp), ROOT / "seeds").close()
            server, url = start_server(Path(tmp), args.backend)
        try:
            report = run(url.rstrip("/"), args.clients, args.seconds)
        finally:
            if server is not None:
                server.terminate()
                server.wait(30)
    print(report.summary().replace("load:", "load_serve:").replace("workers", "clients"))
    print(f"p95 {report.percentile(95) * 1000:.0f} ms")
    for problem in (report.errors + report.mismatches)[:5]:
        print(problem, file=sys.stderr)
    return 1 if report.errors or report.mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
