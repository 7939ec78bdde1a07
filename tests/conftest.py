"""Shared fixtures: every test gets its own data dir; the seeded store is built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


from support import SEEDS, make_store


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point RAG_DATA_DIR at a fresh folder so tests never share state."""
    data = tmp_path / "data"
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_CHROMA_URL", "RAG_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    return data


@pytest.fixture(scope="session")
def embeddings():
    """The real packaged MiniLM model, loaded once."""
    from rag.store.embeddings import MiniLMEmbeddings

    return MiniLMEmbeddings()


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the seed folder that a test may change."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory, embeddings):
    """A real Chroma + catalog with the five seed articles ingested (read-only for tests)."""
    from rag.ingest.pipeline import ingest_paths

    store = make_store(tmp_path_factory.mktemp("seeded"), embeddings)
    ingest_paths(store, [SEEDS])
    return store
