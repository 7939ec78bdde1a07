"""Shared test helpers and seed names (imported by tests; conftest.py holds only fixtures)."""

from __future__ import annotations

from pathlib import Path

from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
AP, SUMMARY, AP_TRANSLATION, NYT, NOTUS = sorted(p.name for p in SEEDS.glob("*.txt"))


def make_store(data_dir: Path, embeddings, **settings):
    from rag.store.store import Store

    return Store(Settings(data_dir=data_dir, **settings), embeddings=embeddings)


def article_id_of(store, file_name: str) -> str:
    return next(a.id for a in store.catalog.articles() if Path(a.path).name == file_name)
