"""The packaged local model, for real: llama.cpp's server on 127.0.0.1 (slow tier: -m local_model)."""

import os
import socket

import pytest

from rag.answer.answerer import Answerer
from rag.llm.local_server import LocalServer, ensure_model
from rag.answer.backends import LocalBackend, open_backend
from rag.llm.chat import ChatModel, chat_openai
from rag.settings import Settings

from support import AP, NYT, article_id_of

pytestmark = pytest.mark.local_model


def shared_model_settings(**overrides) -> Settings:
    """Settings whose model dir is the shared cache, so the 1.1 GB model is joined once per machine."""
    base = Settings()
    return Settings(model_dir=base.cache_dir / "models", **overrides)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with LocalServer(shared_model_settings(data_dir=tmp_path_factory.mktemp("local"))) as running:
        yield running


@pytest.fixture(scope="module")
def local(seeded_store, server):
    llm = chat_openai(seeded_store.settings, "local", server.base_url, "local")
    return Answerer(seeded_store, LocalBackend(ChatModel(llm=llm, model="qwen"), seeded_store.settings))


def test_model_is_joined_and_verified(tmp_path):
    path = ensure_model(shared_model_settings(data_dir=tmp_path))
    assert path.stat().st_size > 1_000_000_000 and path.read_bytes()[:4] == b"GGUF"


def test_local_answers_the_patriot_question_with_verbatim_quotes(local, seeded_store):
    answer = local.ask("What did Zelenskyy ask Trump for?")
    assert not answer.abstained and "patriot" in answer.answer.lower()
    assert {c.article_id for c in answer.citations} & {article_id_of(seeded_store, AP), article_id_of(seeded_store, NYT)}
    for c in answer.citations:
        assert seeded_store.catalog.article(c.article_id).text[c.start : c.end] == c.quote
    assert answer.usage.prompt_tokens > 0 and answer.usage.completion_tokens > 0


def test_local_abstains_on_an_unrelated_question(local):
    assert local.ask("Who won the 2024 Super Bowl?").abstained


def test_openai_backend_against_the_local_server(seeded_store, server):
    """The openai path (json_schema first, then prompt-only) against a real OpenAI-compatible server."""
    settings = seeded_store.settings.model_copy(update={"openai_base_url": server.base_url, "openai_model": "local"})
    backend = open_backend(settings, "openai")
    answer = Answerer(seeded_store, backend).ask("How many prisoners did each side swap?")
    assert backend.name == "openai" and not answer.abstained and "175" in answer.answer


def test_open_backend_starts_and_close_stops_the_server_with_nothing_left(seeded_store, tmp_path):
    settings = shared_model_settings(data_dir=tmp_path)
    backend = open_backend(settings, "local")
    pid, port = backend.chat.server.process.pid, backend.chat.server.port
    assert backend.chat.server.alive()
    backend.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
