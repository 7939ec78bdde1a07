"""Two writers never interleave (the second fails at once with LockBusy), and searches keep
answering while another process ingests into the same store. Real Chroma, MiniLM and processes."""

from __future__ import annotations

import os
import time
from pathlib import Path

from typer.testing import CliRunner

from rag.cli import app
from rag.store.doctor import check
from rag.errors import LockBusy
from rag.ingest.pipeline import ingest_paths
from rag.store.search import HybridRetriever

from support import make_store, write_lock_held
from corpus import committed_articles, start_rag, variant_corpus

FAST = 5.0  # seconds: "fails fast" means it does not wait for the lock holder


def flat(output: str) -> str:
    """CLI output with rich's wrapping at 80 columns undone (the tmp paths are long)."""
    return " ".join(output.split())


def test_second_ingest_fails_fast_with_lock_busy_while_a_thread_holds_the_write_lock(
    tmp_path: Path, isolated_data_dir: Path
):
    variant_corpus(tmp_path / "corpus", per_seed=1, exact_copies=0)
    with write_lock_held(isolated_data_dir, seconds=60):
        started = time.monotonic()
        busy = CliRunner().invoke(app, ["ingest", str(tmp_path / "corpus")])
        elapsed = time.monotonic() - started
    assert busy.exit_code == LockBusy.exit_code == 3
    assert f"is being written by pid {os.getpid()}" in flat(busy.output) and "wait for it to finish" in busy.output
    assert "Traceback" not in busy.output
    assert elapsed < FAST
    assert committed_articles(isolated_data_dir) == 0

    done = CliRunner().invoke(app, ["ingest", str(tmp_path / "corpus")])
    assert done.exit_code == 0, done.output
    assert committed_articles(isolated_data_dir) == 5


def _lock_holder(data_dir: Path) -> str:
    path = data_dir / "write.lock"
    return path.read_text().strip() if path.exists() else ""


def test_search_keeps_answering_and_a_second_ingest_is_refused_while_another_process_ingests(
    tmp_path: Path, isolated_data_dir: Path, embeddings
):
    variant_corpus(tmp_path / "first", per_seed=1, exact_copies=0)
    variant_corpus(tmp_path / "more", per_seed=6, exact_copies=0)
    for path in (tmp_path / "more").iterdir():  # distinct from the first batch
        path.write_text("Another edition.\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    store = make_store(isolated_data_dir, embeddings)
    ingest_paths(store, [tmp_path / "first"])
    retriever = HybridRetriever.from_store(store)

    writer = start_rag(isolated_data_dir, "ingest", str(tmp_path / "more"))
    deadline = time.monotonic() + 60
    while _lock_holder(isolated_data_dir) != f"pid {writer.pid}":
        assert writer.poll() is None and time.monotonic() < deadline, "the writer never took the lock"
        time.sleep(0.005)
    started = time.monotonic()
    busy = CliRunner().invoke(app, ["ingest", str(tmp_path / "first")])
    assert busy.exit_code == 3 and f"being written by pid {writer.pid}" in flat(busy.output)
    assert time.monotonic() - started < FAST

    searches, seen_articles, slowest = 0, set(), 0.0
    while writer.poll() is None:
        started = time.monotonic()
        docs = retriever.search("Ukrainian power plants and the energy ceasefire", k=3)
        slowest = max(slowest, time.monotonic() - started)
        assert len(docs) == 3
        assert all(store.catalog.article(d.metadata["article_id"]).text[d.metadata["start"] : d.metadata["end"]]
                   == d.page_content for d in docs)
        searches += 1
        seen_articles.add(committed_articles(isolated_data_dir))
        time.sleep(0.05)  # leave the writer most of the CPU
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err[-2000:]
    assert searches >= 5 and slowest < FAST
    assert len(seen_articles) > 1, "no search overlapped the writes"

    assert len(store.catalog.article_ids()) == 5 + 30
    assert check(store).clean
    assert retriever.search("Another edition", k=3)
