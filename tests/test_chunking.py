from pathlib import Path

import pytest

from rag.ingest.articles import build_article
from rag.store.chunking import chunk_text
from rag.settings import Settings
from rag.text.tokens import TokenCounter, get_encoding

from support import SEEDS


@pytest.fixture(scope="module")
def counter() -> TokenCounter:
    return TokenCounter(get_encoding("cl100k_base", Settings().tiktoken_path))


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name[:3])
def test_chunk_text_equals_article_text_at_offsets(path: Path, counter: TokenCounter):
    article = build_article(path, path.read_text(encoding="utf-8"))
    chunks = chunk_text(article.id, article.text, counter, max_tokens=120, overlap=30)
    assert len(chunks) >= 2
    for chunk in chunks:
        assert chunk.text == article.text[chunk.start : chunk.end]
        assert counter.count(chunk.text) <= 120 + 5  # whitespace between sentences adds a token or two
    # Together the chunks cover every sentence of the article.
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(article.text) if not ch.isspace())


def test_consecutive_chunks_overlap_by_whole_sentences(counter: TokenCounter):
    text = " ".join(f"Sentence number {i} says a thing about the war." for i in range(40))
    chunks = chunk_text("x", text, counter, max_tokens=60, overlap=20)
    assert all(b.start < a.end for a, b in zip(chunks, chunks[1:]))
    assert all(b.start > a.start for a, b in zip(chunks, chunks[1:]))


def test_a_sentence_longer_than_the_budget_is_cut_at_token_boundaries(counter: TokenCounter):
    text = "word " * 500 + "end."
    chunks = chunk_text("x", text, counter, max_tokens=100, overlap=0)
    assert len(chunks) >= 5
    assert "".join(c.text for c in chunks).replace(" ", "") == text.strip().replace(" ", "")


def test_tiktoken_works_offline_from_the_packaged_encoding(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    encoding = get_encoding("o200k_base", tmp_path)
    assert encoding.decode(encoding.encode("Patriot missiles")) == "Patriot missiles"
