"""Ingest at scale: how long one long article takes, stage by stage, with the real packaged model.

    python bench/ingest_scale.py                       # 0.5 MB and 5 MB of prose, 200,000 one-word lines
    python bench/ingest_scale.py --mb 5 --no-lines     # one size only
    python bench/ingest_scale.py --mb 5 --ingest       # also the whole `ingest_paths`, with its progress

Each stage is timed on its own (wall and CPU seconds of this process): splitting, chunking, chunk
vectors, sentence vectors (for finding copies), then optionally the full ingest into a temporary
store. CPU seconds divided by the cores the model uses estimate the wall time on an idle machine;
wall times on a shared machine are longer. Text is built from the seed paragraphs, each numbered.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prose(chars: int) -> str:
    paragraphs = [p for s in sorted((ROOT / "seeds").glob("*.txt"))
                  for p in s.read_text(encoding="utf-8").split("\n") if p.strip()]
    parts, size, i = [], 0, 0
    while size < chars:
        parts.append(f"{paragraphs[i % len(paragraphs)]} (Part {i}.)")
        size += len(parts[-1]) + 2
        i += 1
    return "\n\n".join(parts)[:chars]


def timed(work: Callable[[], object]) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds of this process)."""
    cpu, wall = os.times(), time.perf_counter()
    result = work()
    after = os.times()
    return result, time.perf_counter() - wall, (after.user - cpu.user) + (after.system - cpu.system)


def stages(name: str, text: str, store) -> None:
    from rag.ingest.articles import build_article
    from rag.ingest.derived_copies import comparable_sentences
    from rag.store.embeddings import as_array
    from rag.text.sentences import split_sentences

    article = build_article(Path(f"/bench/{name}.txt"), text)
    spans, split_s, _ = timed(lambda: split_sentences(article.text))
    chunks, chunk_s, _ = timed(lambda: store.chunk(article))
    print(f"{name}: {len(text) / 1e6:.2f} MB, {len(spans)} sentences, {len(chunks)} chunks; "
          f"split {split_s:.2f} s, chunk {chunk_s:.2f} s", flush=True)
    _, wall, cpu = timed(lambda: store.embeddings.embed_documents([c.text for c in chunks]))
    print(f"  chunk vectors:    {wall:7.1f} s wall, {cpu:7.1f} s CPU ({len(chunks) / max(cpu, 1e-9):.1f} chunks per CPU s)",
          flush=True)
    sentences = comparable_sentences(article)
    _, wall, cpu = timed(lambda: as_array(store.embeddings, sentences))
    print(f"  sentence vectors: {wall:7.1f} s wall, {cpu:7.1f} s CPU ({len(sentences)} sentences, "
          f"{len(sentences) / max(cpu, 1e-9):.1f} per CPU s)", flush=True)


def ingest(name: str, text: str, settings, embeddings) -> None:
    from rag.ingest.pipeline import ingest_paths
    from rag.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
        store = Store(settings.model_copy(update={"data_dir": Path(tmp) / "data"}), embeddings=embeddings)
        moves: list[tuple[float, str]] = []
        started = time.perf_counter()

        def progress(what: str, share: float) -> None:
            moves.append((time.perf_counter() - started, what))

        try:
            report, wall, cpu = timed(lambda: ingest_paths(store, [folder], progress))
            print(f"  ingest_paths:     {wall:7.1f} s wall, {cpu:7.1f} s CPU, {report.new_chunks} chunks, "
                  f"{len(moves)} progress reports", flush=True)
        except Exception as exc:  # report, do not hide: a failure is a figure too
            print(f"  ingest_paths:     FAILED after {time.perf_counter() - started:.1f} s: {type(exc).__name__}: {exc}")
        phases: dict[str, float] = {}
        for at, what in moves:
            phases.setdefault(re.sub(r"\d+", "N", what.removeprefix(f"{name}.txt: ")), at)
        print("  phases started at: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()), flush=True)
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[0.5, 5.0], help="Sizes of prose to measure.")
    parser.add_argument("--lines", type=int, default=200_000, help="One-word lines to measure.")
    parser.add_argument("--no-lines", action="store_true", help="Skip the one-word-lines file.")
    parser.add_argument("--ingest", action="store_true", help="Also run the full ingest_paths on each text.")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from rag.settings import Settings
    from rag.store.store import Store

    settings = Settings()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; chunks of {settings.chunk_tokens} tokens")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(settings.model_copy(update={"data_dir": Path(tmp)}))
        texts = {f"prose-{mb:g}MB": prose(int(mb * 1e6)) for mb in args.mb}
        if not args.no_lines:
            texts[f"lines-{args.lines}"] = "word\n" * args.lines
        for name, text in texts.items():
            stages(name, text, store)
            if args.ingest:
                ingest(name, text, settings, store.embeddings)
        store.close()
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
