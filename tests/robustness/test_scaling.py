"""Work grows linearly with the text: 4x the text may take about 4x the time, never 16x.

Each test measures its own baseline on the same machine, so the assertion is a ratio, not a time;
absolute figures (a 5 MB article with the real model) come from bench/ingest_scale.py.
"""

from __future__ import annotations

import gc
import hashlib
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from rag.ingest.pipeline import ingest_paths
from rag.settings import Settings
from rag.store.chunking import chunk_text
from rag.text.sentences import split_sentences
from rag.text.tokens import TokenCounter, get_encoding

from support import SEEDS, make_store

GROWTH = 4
ALLOWED = 6.0  # linear work gives about 4 (up to 5 on a busy machine, as memory grows); a quadratic step 16
SLACK = 0.01  # seconds: timer noise on runs of a few milliseconds


def seed_prose(chars: int, join: str = "\n\n") -> str:
    """Seed paragraphs, each numbered so no two are the same, up to `chars` characters."""
    paragraphs = [p for s in sorted(SEEDS.glob("*.txt")) for p in s.read_text(encoding="utf-8").split("\n") if p.strip()]
    parts, size, i = [], 0, 0
    while size < chars:
        part = f"{paragraphs[i % len(paragraphs)]} (Part {i}.)"
        parts.append(part)
        size += len(part) + len(join)
        i += 1
    return join.join(parts)[:chars]


# Text shapes that once made a step quadratic: prose, a line per word, a paragraph without line breaks,
# runs of abbreviations (every full stop a candidate boundary), one run of punctuation, one long word.
SHAPES: dict[str, Callable[[int], str]] = {
    "prose": seed_prose,
    "one word per line": lambda n: "word\n" * (n // 5),
    "one long line": lambda n: seed_prose(n, join=" "),
    "abbreviations": lambda n: "Mr. U.S. Dr. e.g. A. said " * (n // 26),
    "punctuation run": lambda n: "!" * n + " Then",
    "one long word": lambda n: "a" * n + ". Then",
}


def assert_linear(work: Callable[[str], object], small: str, large: str, budget: float = 1.0) -> None:
    """Times `work` on both texts in turns (so a busy moment of the machine hits both), with the garbage
    collector paused as timeit does, keeping the best of up to five rounds while they fit in `budget`."""
    base = grown = float("inf")
    spent, rounds = 0.0, 0
    collecting = gc.isenabled()
    gc.disable()
    try:
        while rounds < 5 and (rounds == 0 or spent < budget):
            for text in (small, large):
                started = time.perf_counter()
                work(text)
                took = time.perf_counter() - started
                spent += took
                if text is small:
                    base = min(base, took)
                else:
                    grown = min(grown, took)
            rounds += 1
    finally:
        if collecting:
            gc.enable()
    assert grown <= ALLOWED * base + SLACK, f"{GROWTH}x the text took {grown / base:.1f}x the time ({base:.3f}s -> {grown:.3f}s)"


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_splitting_four_times_the_text_takes_about_four_times_as_long(shape: str):
    make = SHAPES[shape]
    small, large = make(100_000), make(100_000 * GROWTH)
    assert len(split_sentences(large)) >= len(split_sentences(small))
    assert_linear(split_sentences, small, large)


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    return TokenCounter(get_encoding("cl100k_base", Settings().tiktoken_path))


@pytest.mark.parametrize("shape", ["prose", "one word per line"])
def test_chunking_four_times_the_text_takes_about_four_times_as_long(shape: str, counter: TokenCounter):
    make = SHAPES[shape]
    small, large = make(50_000), make(50_000 * GROWTH)
    assert_linear(lambda text: chunk_text("x", text, counter, max_tokens=200, overlap=40), small, large, budget=3.0)


class HashedWords(Embeddings):
    """Feature hashing of words into 384 signed buckets. The real model spends minutes on a 5 MB
    article (bench/ingest_scale.py measures it); this test is about everything around the model."""

    def _vector(self, text: str) -> list[float]:
        vector = np.zeros(384, dtype=np.float32)
        for word in text.lower().split():
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vector[h % 384] += 1.0 if h >> 63 else -1.0
        norm = float(np.linalg.norm(vector))
        return (vector / norm if norm else vector).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.mark.parametrize("megabytes", [2, 5])
def test_a_long_article_ingests_with_progress_that_moves_during_the_file(tmp_path: Path, megabytes: int):
    folder = tmp_path / "in"
    folder.mkdir()
    text = seed_prose(megabytes * 1_000_000)
    (folder / "long.txt").write_text(text, encoding="utf-8")
    # A seed article beside it: the long text retells its paragraphs, so the two are compared for copies.
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], folder / "a-seed.txt")
    store = make_store(tmp_path / "data", HashedWords())
    events: list[tuple[str, float]] = []
    report = ingest_paths(store, [folder], lambda what, share: events.append((what, share)))
    assert [f.status for f in report.files] == ["new", "new"] and report.new_chunks > 1000
    article = max(store.catalog.articles(), key=lambda a: len(a.text))
    for chunk in store.catalog.chunks_of(article.id)[:: max(1, report.new_chunks // 50)]:
        assert article.text[chunk.start : chunk.end] == chunk.text
    # The bar moves while the one file is under way (chunk vectors, then sentence vectors) and ends full.
    moves = [share for _, share in events if share > 0]
    assert len(moves) >= 20 and min(share for _, share in events) >= 0 and sum(moves) == 2.0
    assert any("embedding" in what for what, _ in events) and any("sentences" in what for what, _ in events)
