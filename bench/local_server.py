"""Benchmark of the local model server: start time, memory, time to first token and tokens/s.

    python bench/local_server.py                                # rag's server as configured, 3 rounds
    python bench/local_server.py --configs default,no-flash    # flash attention on vs off
    python bench/local_server.py --configs parallel-1,parallel-2 --clients 2   # slots for concurrent askers
    python bench/local_server.py --legacy                      # also llama-cpp-python's server, if installed

Every server is started (one after the other, timed) and kept running; the rounds then alternate
between them, so a neighbour's load on the shared cores hits each about equally. Each round asks
the same fixed answer prompts (prompts/answer.md filled with 6 sentences of the seed articles,
about 480 prompt tokens, rag's mean) in four ways:

- cold: a prompt no request has started with before (a fresh nonce heads the system prompt), so
  every prompt token is processed: time to first token, prompt and generated tokens/s;
- warm: the next question after a cold one with the same system prompt, as the second question of
  a session: what prompt caching saves;
- schema: warm's request again with `response_format` set to rag's answer JSON schema (constrained
  decoding): generation seconds, generated tokens/s and how often the reply is valid JSON, against
  warm's prompt-only JSON;
- with --clients N: N askers at once, two warm questions each: wall seconds for all answers
  (also once per round, alternating between servers).

Tokens/s are measured by the client over HTTP streaming, so servers are compared alike: prompt
tok/s = processed prompt tokens / time to first token; generated tok/s = (completion tokens - 1) /
(time from the first token to the last). RSS is the server process's resident memory after start
and its peak (VmHWM) at the end. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.llm.local_server import LocalServer, ServerOptions, ensure_model, free_port  # noqa: E402
from rag.llm.chat import answer_schema  # noqa: E402
from rag.prompts import get_prompt  # noqa: E402
from rag.settings import Settings  # noqa: E402

QUESTIONS = [
    "What did Zelenskyy ask Trump for?",
    "How many prisoners did each side swap?",
    "What did Trump say about Ukrainian power plants?",
    "What did Putin agree to about energy infrastructure?",
]
SOURCE_SENTENCES = 6  # with the fixed system prompt, about 480 prompt tokens: rag's mean in the evals
MAX_TOKENS = 64
CONFIGS = {
    "default": ServerOptions(),
    "no-flash": ServerOptions(flash_attn=False),
    "parallel-1": ServerOptions(parallel=1),
    "parallel-2": ServerOptions(parallel=2),
    "cache-8g": ServerOptions(cache_ram_mib=8192),  # llama.cpp's own default host prompt cache
}
# Measured for issue 11 on this machine (same model, ~440 prompt tokens, 40 generated, 2 threads).
OLD_FIGURES = "| llama-cpp-python 0.3.36 (issue 11's figures) | | | | 2698 | 16.2 | 27.2 | 10.3 | | |"


# --- fixed prompts ----------------------------------------------------------------------------------
def seed_sentences() -> list[tuple[str, str]]:
    """(outlet, sentence) for every sentence of the seed articles, in file order."""
    import yaml

    meta = yaml.safe_load((ROOT / "seeds" / "sources.yaml").read_text())
    out = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        outlet = (meta.get(path.name) or {}).get("outlet", "unknown")
        text = " ".join(path.read_text(encoding="utf-8").split())
        out += [(outlet, s) for s in re.split(r"(?<=[.!?”])\s+(?=[A-Z“])", text) if len(s.split()) >= 5]
    return out


def answer_messages(question: str, nonce: str) -> list[dict]:
    """prompts/answer.md with the 8 seed sentences sharing most words with the question."""
    words = lambda text: set(re.findall(r"[a-z0-9]+", text.lower())) - {"the", "a", "of", "to", "and", "what", "did"}
    score = lambda pair: len(words(pair[1]) & words(question)) / len(pair[1].split()) ** 0.5
    ranked = sorted(seed_sentences(), key=lambda pair: -score(pair))[:SOURCE_SENTENCES]
    order = list(dict.fromkeys(o for o, _ in ranked))
    numbered = list(enumerate(sorted(ranked, key=lambda pair: order.index(pair[0])), 1))
    blocks = "\n\n".join(
        f'<article outlet="{outlet}" date="2025-03-19">\n'
        + "\n".join(f"[{n}] {text}" for n, (o, text) in numbered if o == outlet) + "\n</article>"
        for outlet in order)
    system, user = get_prompt("answer").render(sources=blocks, question=question)
    return [{"role": "system", "content": f"Session {nonce}.\n{system}"}, {"role": "user", "content": user}]


# --- servers ----------------------------------------------------------------------------------------
@dataclass
class Target:
    name: str
    base_url: str = ""
    pid: int = 0
    start_seconds: float = 0.0
    rss_start_mib: float = 0.0
    first_call_seconds: float = 0.0
    peak_rss_mib: float = 0.0
    walls: list[float] = field(default_factory=list)
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    stop: object = None


def rss_mib(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_rag_server(name: str, options: ServerOptions, settings: Settings) -> Target:
    began = time.monotonic()
    server = LocalServer(settings.model_copy(update={"data_dir": settings.data_dir / name}), options).start()
    target = Target(name, server.base_url, server.process.pid, time.monotonic() - began, stop=server.stop)
    target.rss_start_mib = rss_mib(target.pid)
    return target


def start_legacy_server(settings: Settings, threads: int) -> Target:
    """llama-cpp-python's server (the previous local server), when it is installed."""
    port = free_port()
    log = (settings.data_dir / "legacy.log").open("w")
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(ensure_model(settings)), "--model_alias",
               "local", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(settings.local_n_ctx),
               "--n_threads", str(threads), "--verbose", "False"]
    began = time.monotonic()
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    while True:
        try:
            urllib.request.urlopen(f"{base_url}/models", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() - began > 180:
                raise SystemExit(f"llama-cpp-python's server did not start; see {log.name}")
            time.sleep(0.25)
    target = Target("llama-cpp-python", base_url, process.pid, time.monotonic() - began,
                    stop=lambda: (process.terminate(), process.wait(10)))
    target.rss_start_mib = rss_mib(process.pid)
    return target


# --- requests ---------------------------------------------------------------------------------------
@dataclass
class Sample:
    ttft: float
    total: float
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    content: str

    @property
    def prompt_tps(self) -> float:
        return (self.prompt_tokens - self.cached_tokens) / self.ttft if self.ttft else float("nan")

    @property
    def gen_tps(self) -> float:
        span = self.total - self.ttft
        return (self.completion_tokens - 1) / span if span > 0 and self.completion_tokens > 1 else float("nan")

    @property
    def valid_json(self) -> bool:
        try:
            return isinstance(json.loads(self.content).get("sentences"), list)
        except (ValueError, AttributeError):
            return False


def chat(base_url: str, messages: list[dict], response_format: dict | None = None) -> Sample:
    """One streamed chat completion, timed from the request to the first and the last token."""
    url = urllib.parse.urlsplit(base_url)
    body = {"model": "local", "messages": messages, "max_tokens": MAX_TOKENS, "temperature": 0, "seed": 7,
            "stream": True, "stream_options": {"include_usage": True}}
    if response_format:
        body["response_format"] = response_format
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    began = time.perf_counter()
    connection.request("POST", url.path + "/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:300]!r}")
    first, pieces, usage, chunks = 0.0, [], {}, 0
    for raw in response:
        line = raw.decode().strip()
        if not line.startswith("data:") or line == "data: [DONE]":
            continue
        event = json.loads(line[5:])
        usage = event.get("usage") or usage
        for choice in event.get("choices") or []:
            text = (choice.get("delta") or {}).get("content")
            if text:
                first = first or time.perf_counter() - began
                pieces.append(text)
                chunks += 1
    total = time.perf_counter() - began
    connection.close()
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return Sample(first, total, usage.get("prompt_tokens", 0), cached, usage.get("completion_tokens", chunks),
                  "".join(pieces))


def run_round(target: Target, n: int, schema: dict) -> None:
    nonce = f"{n}-{time.time_ns()}"
    q = QUESTIONS
    runs = {
        "cold": (q[n % len(q)], None),
        "warm": (q[(n + 1) % len(q)], None),
        "schema": (q[(n + 1) % len(q)], schema),
    }
    for kind, (question, response_format) in runs.items():
        target.samples.setdefault(kind, []).append(chat(target.base_url, answer_messages(question, nonce), response_format))


def run_clients(target: Target, clients: int) -> float:
    """Wall seconds for `clients` askers at once, two warm questions each."""
    nonce = f"clients-{time.time_ns()}"
    chat(target.base_url, answer_messages(QUESTIONS[-1], nonce))  # the system prompt is now cached

    def ask(i: int) -> None:
        for j in range(2):
            chat(target.base_url, answer_messages(QUESTIONS[(i + j) % len(QUESTIONS)], nonce))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - began


# --- report -----------------------------------------------------------------------------------------
def med(values) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def tables(targets: list[Target], clients: int) -> str:
    lines = ["| server | start s | first call s | RSS after start MiB | peak RSS MiB | time to first token s | prompt tok/s "
             "| generated tok/s | warm TTFT s (cached prompt tokens) | answer s, warm |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for t in targets:
        cold, warm = t.samples["cold"], t.samples["warm"]
        lines.append(
            f"| {t.name} | {t.start_seconds:.1f} | {t.first_call_seconds:.1f} | {t.rss_start_mib:.0f} | {t.peak_rss_mib:.0f} "
            f"| {med(s.ttft for s in cold):.1f} | {med(s.prompt_tps for s in cold):.1f} "
            f"| {med(s.gen_tps for s in cold):.1f} | {med(s.ttft for s in warm):.1f} "
            f"({med(s.cached_tokens for s in warm):.0f} of {med(s.prompt_tokens for s in warm):.0f}) "
            f"| {med(s.total for s in warm):.1f} |")
    lines.append(OLD_FIGURES)
    lines += ["", "| server | prompt-only JSON: generation s / tokens / tok/s / valid | "
              "json_schema: generation s / tokens / tok/s / valid |", "|---|---|---|"]
    for t in targets:
        plain, schema = t.samples["warm"], t.samples["schema"]
        cell = lambda ss: (f"{med(s.total - s.ttft for s in ss):.1f} / {med(s.completion_tokens for s in ss):.0f} / "
                           f"{med(s.gen_tps for s in ss):.1f} / {sum(s.valid_json for s in ss)} of {len(ss)}")
        lines.append(f"| {t.name} | {cell(plain)} | {cell(schema)} |")
    if clients > 1:
        lines += ["", f"| server | {clients} askers at once, 2 answers each: wall s (median of rounds) |", "|---|---|"]
        lines += [f"| {t.name} | {med(t.walls):.1f} |" for t in targets]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default="default", help=f"comma-separated, of: {', '.join(CONFIGS)}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="server threads; 0: all cores (rag's default)")
    parser.add_argument("--clients", type=int, default=0, help="also time this many concurrent askers")
    parser.add_argument("--legacy", action="store_true", help="also llama-cpp-python's server, if installed")
    args = parser.parse_args(argv)

    base = Settings()
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), model_dir=base.cache_dir / "models", local_threads=args.threads)
        ensure_model(settings)
        schema = {"type": "json_schema", "json_schema": {"name": "answer", "schema": answer_schema(), "strict": True}}
        targets: list[Target] = []
        try:
            for name in args.configs.split(","):
                targets.append(start_rag_server(name, CONFIGS[name], settings))
                print(f"started {name} in {targets[-1].start_seconds:.1f} s", file=sys.stderr)
            if args.legacy:
                if importlib.util.find_spec("llama_cpp") is None:
                    print("llama-cpp-python is not installed: its server is left out", file=sys.stderr)
                else:
                    targets.append(start_legacy_server(settings, args.threads or settings.local_threads or 2))
            for target in targets:  # the first request after start pays one-off costs: timed on its own
                began = time.monotonic()
                chat(target.base_url, [{"role": "user", "content": "Say OK."}])
                target.first_call_seconds = time.monotonic() - began
            for n in range(args.rounds):
                for target in targets:
                    run_round(target, n, schema)
                    if args.clients > 1:
                        target.walls.append(run_clients(target, args.clients))
                    print(f"round {n + 1}: {target.name} done", file=sys.stderr)
            for target in targets:
                target.peak_rss_mib = rss_mib(target.pid, "VmHWM")
        finally:
            for target in targets:
                target.stop()
    print(tables(targets, args.clients))
    return 0


if __name__ == "__main__":
    sys.exit(main())
