"""Load test: concurrent askers over one store, with latency percentiles and throughput.

    python bench/load.py --seconds 60 --workers 8                  # seeds ingested into a temp dir
    python bench/load.py --data-dir .rag --seconds 30 --workers 4  # an existing store

Each worker is a thread with its own Answerer (extractive backend by default) over ONE shared Store:
one SQLite connection (check_same_thread=False; SQLite is built serialized), one Chroma client and
one ONNX session (whose run() is thread-safe). Every answer is compared with the answer the same
question got when asked alone first, so a data race shows up as a mismatch, not only as a crash.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What did Zelenskyy ask Trump for?",
    "How many prisoners were swapped?",
    "What did Putin agree to about energy strikes?",
    "What did Peskov say about reciprocity?",
    "What did Trump say about Ukrainian power plants?",
    "Which Russian official did Mike Waltz talk to about the upcoming talks?",
    "Who won the 2024 Super Bowl?",
]


@dataclass
class LoadReport:
    workers: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    per_worker: dict[int, int] = field(default_factory=dict)

    @property
    def answers(self) -> int:
        return len(self.latencies)

    def percentile(self, p: float) -> float:
        return float(np.percentile(self.latencies, p)) if self.latencies else float("nan")

    def summary(self) -> str:
        rate = self.answers / self.seconds if self.seconds else 0.0
        return (f"load: {self.workers} workers x {self.seconds:.1f} s: {self.answers} answers, {rate:.2f} answers/s; "
                f"latency p50 {self.percentile(50) * 1000:.0f} ms, p90 {self.percentile(90) * 1000:.0f} ms, "
                f"p99 {self.percentile(99) * 1000:.0f} ms, max {max(self.latencies, default=0) * 1000:.0f} ms; "
                f"{len(self.errors)} errors, {len(self.mismatches)} mismatches")


def fingerprint(answer) -> tuple:
    """What must not change between a question asked alone and under load."""
    return answer.answer, answer.abstained, tuple((c.article_id, c.start, c.end, c.quote) for c in answer.citations)


def run_load(store, workers: int, seconds: float, questions: list[str] = QUESTIONS, backend: str = "extractive",
             store_per_worker: bool = False) -> LoadReport:
    """Ask `questions` round-robin from `workers` threads for `seconds`; every answer is checked."""
    from rag.answer.answerer import Answerer
    from rag.answer.backends import open_backend
    from rag.store.store import Store

    alone = Answerer(store, open_backend(store.settings, backend))
    expected = {q: fingerprint(alone.ask(q)) for q in questions}  # also warms every lazy part of the store
    report = LoadReport(workers=workers, seconds=seconds)
    lock = threading.Lock()
    deadline: list[float] = []  # set by the barrier once every worker is ready, before any is released
    start = threading.Barrier(workers + 1, action=lambda: deadline.append(time.monotonic() + seconds))

    def work(n: int) -> None:
        try:
            own = Store(store.settings) if store_per_worker else store  # own catalog, Chroma client, ONNX session
            answerer = Answerer(own, open_backend(own.settings, backend))
        except Exception:
            with lock:
                report.errors.append(traceback.format_exc(limit=3))
            start.abort()
            return
        start.wait()
        i = n
        while time.monotonic() < deadline[0]:
            question = questions[i % len(questions)]
            i += 1
            began = time.perf_counter()
            try:
                answer = answerer.ask(question)
            except Exception:
                with lock:
                    report.errors.append(traceback.format_exc(limit=5))
                continue
            took = time.perf_counter() - began
            with lock:
                report.latencies.append(took)
                report.per_worker[n] = report.per_worker.get(n, 0) + 1
                if fingerprint(answer) != expected[question]:
                    report.mismatches.append(f"{question!r}: {answer.answer[:120]!r}")

    threads = [threading.Thread(target=work, args=(n,), name=f"asker-{n}") for n in range(workers)]
    for t in threads:
        t.start()
    try:
        start.wait()
    except threading.BrokenBarrierError:  # a worker could not start; its error is in the report
        pass
    began = time.monotonic()
    for t in threads:
        t.join(seconds + 60)
    report.seconds = time.monotonic() - began
    return report


def seeded_store(data_dir: Path):
    """A store with the seed articles ingested into `data_dir`."""
    from rag.ingest.pipeline import build_store
    from rag.settings import Settings

    return build_store(Settings(), data_dir, ROOT / "seeds")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to keep asking (default 60)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent askers, one thread each (default 8)")
    parser.add_argument("--data-dir", type=Path, help="an ingested store; default: seeds/ into a temp dir")
    parser.add_argument("--backend", default="extractive", help="extractive (default), local or openai")
    parser.add_argument("--store-per-worker", action="store_true", help="give each worker its own Store")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from rag.settings import Settings
    from rag.store.store import Store

    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        if args.data_dir is None:
            print(f"ingesting seeds/ into {tmp} ...", file=sys.stderr)
            store = seeded_store(Path(tmp))
        else:
            store = Store(Settings(data_dir=args.data_dir))
            if not store.catalog.article_ids():
                print(f"error: no articles in {args.data_dir} (run `rag ingest` first)", file=sys.stderr)
                return 2
        report = run_load(store, args.workers, args.seconds, backend=args.backend,
                          store_per_worker=args.store_per_worker)
    print(report.summary())
    for problem in (report.errors + report.mismatches)[:5]:
        print(problem, file=sys.stderr)
    return 1 if report.errors or report.mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
