"""The packaged local model, for real: llama.cpp's server (xllamacpp) on 127.0.0.1.

The checks made before starting it are fast; everything that starts the server is the slow tier
(-m local_model).
"""

import os
import socket
from pathlib import Path

import pytest

from rag.answer.answerer import Answerer
from rag.answer.backends import LocalBackend, open_backend
from rag.errors import ModelError
from rag.llm.chat import ChatModel, answer_format, chat_openai, complete_items
from rag.llm.local_server import REQUIRED_CPU_FLAGS, LocalServer, check_runtime, ensure_model, missing_cpu_flags
from rag.settings import Settings

from support import AP, NYT, article_id_of

local_model = pytest.mark.local_model
CPUINFO = "processor\t: 0\nflags\t\t: fpu sse2 ssse3 avx {flags} popcnt\n\nprocessor\t: 1\n"


# --- before the server starts: what this machine must have ------------------------------------------
def test_cpu_flags_are_read_from_cpuinfo():
    assert missing_cpu_flags(CPUINFO.format(flags="avx2 fma f16c bmi2")) == []
    assert missing_cpu_flags(CPUINFO.format(flags="fma bmi2")) == ["avx2", "f16c"]
    assert missing_cpu_flags("no flags here") == list(REQUIRED_CPU_FLAGS)


def test_a_cpu_without_avx2_gets_one_line_naming_it_instead_of_a_crash():
    with pytest.raises(ModelError) as caught:
        check_runtime(cpuinfo=CPUINFO.format(flags="fma f16c bmi2"))
    message = str(caught.value)
    assert "lacks AVX2," in message and "--backend extractive" in message and "\n" not in message


def test_a_missing_openmp_runtime_is_named_with_its_package():
    with pytest.raises(ModelError) as caught:
        check_runtime(cpuinfo=CPUINFO.format(flags="avx2 fma f16c bmi2"), openmp_library="libgomp-absent.so.1")
    message = str(caught.value)
    assert "libgomp-absent.so.1" in message and "apt-get install libgomp1" in message and "\n" not in message


def test_this_machine_can_run_the_server():
    check_runtime()  # setup.sh installs libgomp1 where it is missing


def test_a_json_answer_cut_at_max_tokens_keeps_its_complete_sentences():
    whole = '{"sentences": [{"text": "Askar waited 21 months.", "sources": [2]}'
    assert complete_items(whole + ', {"text": "He publ') == whole + "]}"
    assert complete_items(whole + ', {"text": "a } inside", "sour') == whole + "]}"
    assert complete_items('{"sentences": [{"text": "Askar wai') == '{"sentences": []}'
    assert complete_items("") == '{"sentences": []}'


# --- the server itself ---------------------------------------------------------------------------


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


@local_model
def test_model_is_joined_and_verified(tmp_path):
    path = ensure_model(shared_model_settings(data_dir=tmp_path))
    assert path.stat().st_size > 1_000_000_000 and path.read_bytes()[:4] == b"GGUF"


@local_model
def test_local_answers_the_patriot_question_with_verbatim_quotes(local, seeded_store):
    answer = local.ask("What did Zelenskyy ask Trump for?")
    assert not answer.abstained and "patriot" in answer.answer.lower()
    assert {c.article_id for c in answer.citations} & {article_id_of(seeded_store, AP), article_id_of(seeded_store, NYT)}
    for c in answer.citations:
        assert seeded_store.catalog.article(c.article_id).text[c.start : c.end] == c.quote
    assert answer.usage.prompt_tokens > 0 and answer.usage.completion_tokens > 0


@local_model
def test_local_abstains_on_an_unrelated_question(local):
    assert local.ask("Who won the 2024 Super Bowl?").abstained


@local_model
def test_openai_backend_against_the_local_server(seeded_store, server):
    """The openai path (json_schema first, then prompt-only) against a real OpenAI-compatible server."""
    settings = seeded_store.settings.model_copy(update={"openai_base_url": server.base_url, "openai_model": "local"})
    backend = open_backend(settings, "openai")
    answer = Answerer(seeded_store, backend).ask("How many prisoners did each side swap?")
    assert backend.name == "openai" and not answer.abstained and "175" in answer.answer


@local_model
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


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of the sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.append(local.rsplit(":", 1)[0])
    return found


@local_model
def test_the_server_listens_on_loopback_only(server):
    assert _listening(server.port) == ["0100007F"]  # 127.0.0.1, and no IPv6 or wildcard socket


@local_model
def test_a_schema_answer_cut_at_max_tokens_is_a_reply_not_an_error(seeded_store, server):
    """llama.cpp stops at max_tokens mid-JSON; the openai client raises LengthFinishReasonError for that,
    which once ended a whole eval run as "the connection failed"."""
    from langchain_core.messages import HumanMessage

    llm = chat_openai(seeded_store.settings, "local", server.base_url, "local")
    chat = ChatModel(llm=llm, model="qwen", response_format=answer_format())
    reply = chat.invoke([HumanMessage("Write four long sentences about Patriot missiles, citing source 1.")],
                        structured=True, max_tokens=20)
    assert reply.content == complete_items(reply.content)  # valid JSON, closed after whole sentences
    assert reply.usage_metadata["output_tokens"] == 20
