"""Builders shared by the robustness tests: a corpus big enough that an ingest takes seconds, and
helpers to run `rag` as a real subprocess against a private data directory."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from support import ROOT, SEEDS


def variant_corpus(folder: Path, per_seed: int = 6, exact_copies: int = 3) -> list[Path]:
    """Short, distinct variants of every seed (a sliding window of its paragraphs plus an edition
    line), and a few byte-identical copies under other names, which must become no new article."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for seed in sorted(SEEDS.glob("*.txt")):
        paragraphs = [p.strip() for p in seed.read_text(encoding="utf-8").split("\n") if p.strip()]
        for i in range(per_seed):
            window = paragraphs[i % len(paragraphs) : i % len(paragraphs) + 3]
            text = f"Edition {i} of report {seed.stem[:3]}\n\n" + "\n\n".join(window) + f"\n\nRevision {i}.\n"
            path = folder / f"{seed.stem[:3]}_v{i:02d}.txt"
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for source in written[:exact_copies]:
        copy = folder / f"copy_of_{source.name}"
        shutil.copyfile(source, copy)
        written.append(copy)
    return written


def rag_env(data_dir: Path) -> dict[str, str]:
    """The environment for a `rag` subprocess: its own data dir, never a remote service."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_CHROMA_URL")}
    env["RAG_DATA_DIR"] = str(data_dir)
    return env


def start_rag(data_dir: Path, *args: str) -> subprocess.Popen:
    """`python -m rag.cli <args>` as a child process."""
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", *args], cwd=ROOT, env=rag_env(data_dir),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def committed_articles(data_dir: Path) -> int:
    """Articles committed to the catalog so far, read without disturbing the writer (0 if none yet)."""
    path = data_dir / "catalog.sqlite"
    if not path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            return db.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0
