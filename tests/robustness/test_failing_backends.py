"""Chat backends that fail for real: OpenAI-compatible servers on 127.0.0.1 that answer 401, 429,
5xx, stall or are not there, and a local server process killed with SIGKILL mid-session.

Each failure must reach the user as one ModelError line naming the server (never the API key);
429/5xx/timeouts are retried with backoff by the client (counted at the server), 401 is not; a
dead local server is restarted once on a new port. Real seeded store, real HTTP, real processes.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import pytest
from langchain_core.messages import HumanMessage
from pydantic import SecretStr
from typer.testing import CliRunner

from rag.answer.answerer import Answerer

from rag.types import Answer
from rag.cli import app
from rag.types import Turn
from rag.errors import ModelError, RagError
from rag.llm.local_server import free_port
from rag.answer.backends import LocalBackend, open_backend
from rag.llm.chat import ChatModel, chat_openai
from rag.settings import Settings

from backends import ScriptedServer, StubLocalServer

KEY = "sk-live-SECRET-4242-do-not-print"
QUESTION = "What did Zelenskyy ask Trump for?"
BACKOFF_MIN = 0.5 * 0.75  # openai's first retry waits 0.5 s less up to 25% jitter, then doubles


def ask_openai(store, base_url: str, question: str = QUESTION, history=None, **settings) -> Answer:
    """Answer one question with the openai backend pointed at `base_url`."""
    update = {"openai_base_url": base_url, "openai_api_key": SecretStr(KEY), "max_retries": 2,
              "request_timeout": 10.0, **settings}
    backend = open_backend(store.settings.model_copy(update=update), "openai")
    return Answerer(store, backend).ask(question, history)


def assert_one_clear_line(error: RagError, *parts: str) -> None:
    text = str(error)
    assert "\n" not in text and KEY not in text and "SECRET" not in text
    for part in parts:
        assert part in error.message, (part, error.message)


def test_401_is_a_clear_model_error_without_the_key_and_is_not_retried(seeded_store):
    with ScriptedServer(401) as server, pytest.raises(ModelError) as caught:
        ask_openai(seeded_store, server.base_url)
    assert caught.value.message == f"the OpenAI-compatible server at {server.base_url} rejected the API key (401)"
    assert_one_clear_line(caught.value)
    assert not caught.value.retryable and "OPENAI_API_KEY" in caught.value.hint
    assert len(server.requests) == 1
    assert server.requests[0]["headers"]["authorization"] == f"Bearer {KEY}"  # the key was really sent


def test_401_through_the_cli_prints_one_line_and_exits_1(seeded_store, monkeypatch):
    with ScriptedServer(401) as server:
        monkeypatch.setenv("RAG_DATA_DIR", str(seeded_store.settings.data_dir))
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        result = CliRunner().invoke(app, ["ask", QUESTION, "--backend", "openai"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: the OpenAI-compatible server at http://127.0.0.1:")
    assert "rejected the API key (401)" in lines[0] and KEY not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("status, says", [(429, "is limiting the request rate (429)"),
                                          (500, "failed with HTTP 500"), (503, "failed with HTTP 503")])
def test_429_and_5xx_are_retried_with_backoff_then_fail_naming_status_and_url(seeded_store, status, says):
    with ScriptedServer(status) as server, pytest.raises(ModelError) as caught:
        ask_openai(seeded_store, server.base_url, max_retries=2)
    assert_one_clear_line(caught.value, says, server.base_url)
    assert caught.value.retryable and "retried up to 2 times" in caught.value.hint
    times = server.times()
    assert len(times) == 3  # the first try and max_retries=2 retries
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[0] >= BACKOFF_MIN and gaps[1] >= 2 * BACKOFF_MIN, gaps  # exponential backoff


def test_a_429_then_success_is_answered_after_one_retry(seeded_store):
    with ScriptedServer(429, "ok") as server:
        answer = ask_openai(seeded_store, server.base_url)
    assert len(server.requests) == 2 and not answer.abstained
    assert all(seeded_store.catalog.article(c.article_id).text[c.start : c.end] == c.quote for c in answer.citations)


def test_a_stalled_server_times_out_is_retried_and_fails_clearly(seeded_store):
    with ScriptedServer("stall") as server, pytest.raises(ModelError) as caught:
        started = time.monotonic()
        ask_openai(seeded_store, server.base_url, request_timeout=0.5, max_retries=1)
    assert_one_clear_line(caught.value, server.base_url, "did not answer within 0.5 s")
    assert caught.value.retryable and "RAG_REQUEST_TIMEOUT" in caught.value.hint
    assert len(server.requests) == 2 and time.monotonic() - started < 8


def test_a_server_that_is_not_listening_fails_naming_the_url(seeded_store):
    url = f"http://127.0.0.1:{free_port()}/v1"  # a port nobody listens on
    with pytest.raises(ModelError) as caught:
        ask_openai(seeded_store, url, max_retries=1)
    assert caught.value.message == f"cannot connect to the OpenAI-compatible server at {url}"
    assert_one_clear_line(caught.value)


@pytest.mark.parametrize("status, says", [(404, "has no model 'gpt-test' or no chat completions endpoint (404)"),
                                          (400, "rejected the request (HTTP 400): Invalid value")])
def test_other_client_errors_are_not_retried_and_never_echo_the_key(seeded_store, status, says):
    with ScriptedServer(status) as server, pytest.raises(ModelError) as caught:
        ask_openai(seeded_store, server.base_url, openai_model="gpt-test")
    assert_one_clear_line(caught.value, says, server.base_url)
    assert len(server.requests) == 1
    if status == 400:
        assert "The key sent was ****" in caught.value.message  # the server echoed it; rag masked it


def test_the_condense_call_fails_the_same_clear_way(seeded_store):
    history = [Turn(question="What did Putin agree to about energy strikes?", answer="He agreed to pause them.")]
    with ScriptedServer(401) as server, pytest.raises(ModelError) as caught:
        ask_openai(seeded_store, server.base_url, question="And what did Russia say about that?", history=history)
    assert "Follow-up question" in server.requests[0]["body"]["messages"][-1]["content"]  # it was condense
    assert_one_clear_line(caught.value, "rejected the API key (401)")


# --- a local server that dies -------------------------------------------------------------------
def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def stub_backend(tmp_path, scripts=None) -> LocalBackend:
    """A local backend whose server is a real child process (the stub), managed by LocalServer."""
    settings = Settings(data_dir=tmp_path / "local", max_retries=1, local_start_timeout=30)
    server = StubLocalServer(settings, scripts).start()
    chat = ChatModel(llm=chat_openai(settings, "local", server.base_url, "local"), model="stub", server=server)
    return LocalBackend(chat, settings)


@pytest.fixture
def stub_local(tmp_path):
    backend = stub_backend(tmp_path)
    yield backend
    backend.close()


def test_a_killed_local_server_is_restarted_once_then_a_second_death_fails_clearly(seeded_store, stub_local):
    answerer = Answerer(seeded_store, stub_local)
    first_pid, first_url = stub_local.chat.server.process.pid, stub_local.chat.url
    os.killpg(first_pid, signal.SIGKILL)

    answer = answerer.ask(QUESTION)
    assert not answer.abstained and answer.citations
    second_pid = stub_local.chat.server.process.pid
    assert second_pid != first_pid and stub_local.chat.server.alive() and _gone(first_pid)
    assert stub_local.chat.restarts == 1 and stub_local.chat.url != first_url
    assert stub_local.chat.llm.openai_api_base == stub_local.chat.server.base_url  # the client follows the new port

    os.killpg(second_pid, signal.SIGKILL)
    with pytest.raises(ModelError) as caught:
        answerer.ask(QUESTION)
    assert caught.value.message == f"the local model server at {stub_local.chat.url} died again after a restart"
    assert str(stub_local.chat.server.log_path) in caught.value.hint
    stub_local.close()
    assert _gone(second_pid) and not stub_local.chat.server.alive()


def test_a_server_restarted_from_the_condense_step_outlives_that_step(seeded_store, stub_local):
    """LangChain runs the condense step in a pool thread that ends with the step; the restarted server
    must not die with it (PR_SET_PDEATHSIG follows the forking thread, not the process)."""
    answerer = Answerer(seeded_store, stub_local)
    os.killpg(stub_local.chat.server.process.pid, signal.SIGKILL)
    history = [Turn(question="What did Putin agree to about energy strikes?", answer="He agreed to pause them.")]
    first = answerer.ask("And what did Zelenskyy want from him?", history)
    assert first.standalone_question == QUESTION and stub_local.chat.restarts == 1
    time.sleep(1.0)  # a SIGTERM from the pool thread's exit would have landed by now
    assert stub_local.chat.server.alive()
    assert not answerer.ask(QUESTION).abstained and stub_local.chat.restarts == 1


def test_a_local_server_killed_while_answering_is_restarted_and_the_question_answered(seeded_store, tmp_path):
    backend = stub_backend(tmp_path, scripts=[["stall"], ["ok"]])  # the first process hangs mid-request
    first_pid = backend.chat.server.process.pid
    killer = threading.Timer(1.0, os.killpg, (first_pid, signal.SIGKILL))
    killer.start()
    try:
        answer = Answerer(seeded_store, backend).ask(QUESTION)
        assert not answer.abstained and backend.chat.restarts == 1 and backend.chat.server.process.pid != first_pid
    finally:
        killer.cancel()
        backend.close()


def test_askers_sharing_a_backend_find_it_dead_together_and_restart_it_once(seeded_store, stub_local):
    os.killpg(stub_local.chat.server.process.pid, signal.SIGKILL)
    answers, errors = [], []

    def ask() -> None:
        try:
            answers.append(Answerer(seeded_store, stub_local).ask(QUESTION))
        except Exception as exc:  # collected, asserted below
            errors.append(exc)

    askers = [threading.Thread(target=ask) for _ in range(4)]
    for t in askers:
        t.start()
    for t in askers:
        t.join(60)
    assert errors == [] and len(answers) == 4 and not any(a.abstained for a in answers)
    assert stub_local.chat.restarts == 1 and stub_local.chat.server.alive()


def test_a_closed_backend_is_not_restarted(seeded_store, stub_local):
    stub_local.close()
    with pytest.raises(ModelError, match="this backend is closed"):
        Answerer(seeded_store, stub_local).ask(QUESTION)
    assert stub_local.chat.server.process is None


def test_streamed_calls_are_translated_and_restart_a_dead_server_before_the_first_chunk(stub_local, seeded_store):
    """ChatModel.stream is what Answerer.stream (rag chat) uses."""
    messages = [HumanMessage("Sources:\n[1] Zelenskyy requested Patriot missiles.\n\nQuestion: what?")]
    os.killpg(stub_local.chat.server.process.pid, signal.SIGKILL)
    chunks = list(stub_local.chat.stream(messages))
    assert "Patriot" in "".join(str(c.content) for c in chunks) and stub_local.chat.restarts == 1

    with ScriptedServer(401) as server, pytest.raises(ModelError) as caught:
        settings = seeded_store.settings.model_copy(update={"openai_base_url": server.base_url,
                                                            "openai_api_key": SecretStr(KEY)})
        backend = open_backend(settings, "openai")
        list(backend.chat.stream(messages))
    assert_one_clear_line(caught.value, f"{server.base_url} rejected the API key (401)")


def test_a_401_while_streaming_an_answer_is_a_clear_model_error(seeded_store):
    with ScriptedServer(401) as server:
        settings = seeded_store.settings.model_copy(update={"openai_base_url": server.base_url,
                                                            "openai_api_key": SecretStr(KEY)})
        answerer = Answerer(seeded_store, open_backend(settings, "openai"))
        with pytest.raises(ModelError) as caught:
            list(answerer.stream(QUESTION))
    assert_one_clear_line(caught.value, "rejected the API key (401)")


@pytest.mark.local_model
def test_the_real_local_server_killed_mid_session_is_restarted_and_nothing_is_left(seeded_store, tmp_path):
    settings = Settings(data_dir=tmp_path / "local", model_dir=Settings().cache_dir / "models")
    backend = open_backend(settings, "local")
    first_pid = backend.chat.server.process.pid
    second_pid = None
    try:
        answerer = Answerer(seeded_store, backend)
        os.killpg(first_pid, signal.SIGKILL)
        answer = answerer.ask(QUESTION)
        assert not answer.abstained and "patriot" in answer.answer.lower(), answer.answer
        second_pid = backend.chat.server.process.pid
        assert second_pid != first_pid and backend.chat.server.alive() and _gone(first_pid)
        assert backend.chat.restarts == 1 and backend.chat.llm.openai_api_base == backend.chat.server.base_url

        os.killpg(second_pid, signal.SIGKILL)  # a second death in the same session is not papered over
        with pytest.raises(ModelError, match="died again after a restart"):
            answerer.ask(QUESTION)
    finally:
        port = backend.chat.server.port
        backend.close()
    assert _gone(first_pid) and (second_pid is None or _gone(second_pid))
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
