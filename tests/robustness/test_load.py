"""Load: 8 concurrent askers for 60 seconds over ONE shared store (one SQLite connection, one Chroma
client, one ONNX session), each thread with its own Answerer, extractive backend, real seeded store.

Every answer under load must equal the answer its question got when asked alone, so a race in the
shared store shows up as a mismatch and not only as a crash. The figures are printed for CI logs.
bench/load.py runs the same from the command line (--seconds, --workers).
"""

from __future__ import annotations

import importlib.util
import sys
import time

from support import ROOT

SECONDS = 60.0
WORKERS = 8


def load_module():
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_eight_concurrent_askers_for_a_minute_get_the_same_answers_as_one_asker(seeded_store, capsys):
    bench = load_module()
    started = time.monotonic()
    report = bench.run_load(seeded_store, workers=WORKERS, seconds=SECONDS)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\n{report.summary()} (answers per worker: {sorted(report.per_worker.values())})")
    assert report.errors == [], report.errors[:3]
    assert report.mismatches == [], report.mismatches[:3]
    assert sorted(report.per_worker) == list(range(WORKERS))  # every asker got answers, none starved
    assert report.answers >= WORKERS * 2
    # It stops by itself: past the deadline only the answers already in flight are waited for.
    assert SECONDS <= report.seconds < SECONDS + max(report.latencies) + 5
    assert elapsed < report.seconds + 30  # plus asking each question once alone, first
