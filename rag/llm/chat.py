"""A chat model behind an OpenAI-compatible API: OpenAI itself, or the packaged model on a local server.

Every call goes through ChatModel, which turns client failures into one-line ModelErrors naming the
server and restarts a local server that died (once per session, on a new port). Retries of
429/5xx/timeouts happen inside the client (settings.max_retries, with backoff).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NoReturn, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from rag.errors import ModelError
from rag.llm.failures import model_error, rejects_response_format, transport_errors
from rag.llm.local_server import MODEL_NAME, LocalServer
from rag.settings import Settings
from rag.types import Usage

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
LOCAL_RESTARTS = 1  # a local server that dies twice in one session has a problem a restart will not fix

T = TypeVar("T")


@dataclass
class Reply:
    """A chat model's reply text and what it cost."""

    text: str
    usage: Usage


def usage_of(message: AIMessage) -> Usage:
    """The token counts a reply reports (zero when the server reports none)."""
    meta = message.usage_metadata or {}
    return Usage(prompt_tokens=meta.get("input_tokens", 0), completion_tokens=meta.get("output_tokens", 0))


@dataclass
class ChatModel:
    """A LangChain chat model plus what rag needs around it: error translation, restarts, JSON schema."""

    llm: BaseChatModel
    model: str
    response_format: dict | None = None  # sent with structured calls; dropped if the server rejects it
    server: LocalServer | None = field(default=None, repr=False)
    restarts: int = 0
    closed: bool = False
    _restart_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def url(self) -> str:
        """The chat server's base URL, as errors name it."""
        if self.server is not None:
            return self.server.base_url
        return getattr(self.llm, "openai_api_base", None) or OPENAI_DEFAULT_URL

    def invoke(self, messages: list[BaseMessage], structured: bool = False, **limits) -> AIMessage:
        """One reply. `structured` sends the JSON schema; a server that rejects it is asked again without."""
        try:
            return self._call(lambda: _invoke_keeping_cut(self._bound(structured, limits), messages))
        except ModelError as exc:
            if not structured or self.response_format is None or not rejects_response_format(exc):
                raise
            self.response_format = None  # this server does not do JSON schemas: prompt-only from now on
            return self._call(lambda: _invoke_keeping_cut(self._bound(structured, limits), messages))

    def stream(self, messages: list[BaseMessage], structured: bool = False) -> Iterator[AIMessage]:
        """The reply in chunks. A dead local server is restarted and the stream begun again only if
        nothing has been yielded yet (a half-written draft is not repeated)."""
        import openai

        start = lambda: self._bound(structured, {}).stream(messages)  # noqa: E731
        yielded, generation = False, self.restarts
        try:
            for piece in start():
                yielded = True
                yield piece
            return
        except openai.LengthFinishReasonError:
            return  # cut at max_tokens: what was written stands (the reader keeps its complete sentences)
        except Exception as exc:
            if yielded or not self._server_died(exc, generation):
                self._raise_translated(exc)
        self.revive()
        generation = self.restarts
        try:
            yield from start()
        except Exception as exc:
            if self._server_died(exc, generation):
                raise self.died_again() from exc
            self._raise_translated(exc)

    def close(self) -> None:
        self.closed = True
        if self.server is not None:
            self.server.stop()

    def revive(self) -> None:
        """Restart the local server, which has died (once per session).

        The new server listens on a new port, so the client is rebuilt to follow it. Raises
        ModelError when the server died again after its restart, or cannot start.
        """
        assert self.server is not None
        with self._restart_lock:  # several threads may find the server dead at once; restart it once
            if self.server.alive():
                return  # another caller already restarted it
            if self.closed:
                raise ModelError("the local model server was stopped: this backend is closed")
            if self.restarts >= LOCAL_RESTARTS:
                raise self.died_again()
            try:
                self.server.stop()
                self.server.start()
                self.llm = chat_openai(self.server.settings, "local", self.server.base_url, "local")
            finally:
                self.restarts += 1  # only now: a caller that sees the new count also sees the new client

    def died_again(self) -> ModelError:
        assert self.server is not None
        return ModelError(f"the local model server at {self.server.base_url} died again after a restart",
                          hint=f"see {self.server.log_path}; the machine may be short of memory")

    # --- internals ---------------------------------------------------------------------------
    def _bound(self, structured: bool, limits: dict):
        """The client with this call's limits and, for structured calls, the JSON schema (read afresh
        on every attempt, so a restarted server's new port is used)."""
        extra = dict(limits)
        if structured and self.response_format is not None:
            extra["response_format"] = self.response_format
        return self.llm.bind(**extra) if extra else self.llm

    def _call(self, call: Callable[[], T]) -> T:
        """Run one call; a dead local server is restarted and the call made once more."""
        generation = self.restarts
        try:
            return call()
        except Exception as exc:
            if not self._server_died(exc, generation):
                self._raise_translated(exc)
        self.revive()
        generation = self.restarts
        try:
            return call()
        except Exception as exc:
            if self._server_died(exc, generation):
                raise self.died_again() from exc
            self._raise_translated(exc)

    def _server_died(self, exc: BaseException, generation: int) -> bool:
        """A connection failure to a local server whose process is gone (not a slow or busy one), or that
        another thread is restarting or has restarted since the call began (`generation`: restarts then)."""
        import openai

        if self.server is None or not isinstance(exc, (openai.APIConnectionError, *transport_errors())):
            return False
        restarting = self._restart_lock.locked()  # then revive() waits for it and the call is made again
        return restarting or not self.server.alive() or self.restarts != generation

    def _raise_translated(self, exc: Exception) -> NoReturn:
        error = model_error(exc, self)
        if error is None:
            raise exc
        raise error from exc


def _invoke_keeping_cut(llm, messages: list[BaseMessage]) -> AIMessage:
    """One reply; a JSON-schema reply cut at max_tokens (which the openai client raises as an error, not
    a reply) keeps the sentences it completed, as a reply cut without a schema would."""
    import openai

    try:
        return llm.invoke(messages)
    except openai.LengthFinishReasonError as exc:
        usage = exc.completion.usage
        counts = {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens,
                  "total_tokens": usage.total_tokens} if usage else None
        return AIMessage(content=complete_items(exc.completion.choices[0].message.content or ""),
                         usage_metadata=counts)


def complete_items(cut: str) -> str:
    """The JSON answer {"sentences": [...]} of a cut reply, closed after its last complete sentence
    object (none: an empty list, so the answer abstains rather than quote half a sentence)."""
    end = len(cut)
    while (end := cut.rfind("}", 0, end)) > 0:
        candidate = cut[: end + 1] + "]}"
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get("sentences"), list):
            return candidate
    return json.dumps({"sentences": []})


def chat_openai(settings: Settings, model: str, base_url: str | None, api_key: str) -> BaseChatModel:
    """LangChain's OpenAI client with rag's sampling, token, timeout and retry settings."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model, base_url=base_url, api_key=api_key, temperature=settings.temperature, seed=settings.seed,
        max_tokens=settings.answer_max_tokens, timeout=settings.request_timeout, max_retries=settings.max_retries,
    )


def answer_schema(max_sentences: int = 4) -> dict:
    """JSON schema of a model's answer: sentences, each with the source sentence numbers backing it."""
    sentence = {"type": "object", "properties": {"text": {"type": "string"},
                                                  "sources": {"type": "array", "items": {"type": "integer"}}},
                "required": ["text", "sources"], "additionalProperties": False}
    return {"type": "object", "properties": {"sentences": {"type": "array", "maxItems": max_sentences, "items": sentence}},
            "required": ["sentences"], "additionalProperties": False}


def answer_format() -> dict:
    """The response_format that makes a server write answers in the answer schema."""
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": answer_schema(), "strict": True}}


def open_openai(settings: Settings) -> ChatModel:
    """OpenAI or any OpenAI-compatible server, answering with a strict JSON schema."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not key and not settings.openai_base_url:
        raise ModelError("the openai backend needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server)",
                         hint="or use --backend local / extractive")
    llm = chat_openai(settings, settings.openai_model, settings.openai_base_url, key or "not-needed")
    return ChatModel(llm=llm, model=settings.openai_model, response_format=answer_format())


def open_local(settings: Settings) -> ChatModel:
    """Start the packaged model's llama.cpp server and talk to it.

    Answers use the JSON schema too: llama.cpp enforces it natively (llguidance) for 0.2-0.8 s per
    answer, so a reply always parses; the eval answers were word for word those of prompt-only JSON
    (docs/local-server.md).
    """
    server = LocalServer(settings).start()
    return ChatModel(llm=chat_openai(settings, "local", server.base_url, "local"), model=MODEL_NAME,
                     response_format=answer_format(), server=server)
