"""The chat backend factory: openai, local (packaged model via llama.cpp) or extractive (no model)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NoReturn, TypeVar

from langchain_core.language_models import BaseChatModel

from rag.errors import InputError, ModelError
from rag.llm.local_server import MODEL_NAME, LocalServer
from rag.settings import Settings

BACKENDS = ("openai", "local", "extractive")
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
LOCAL_RESTARTS = 1  # a local server that dies twice in one session has a problem a restart will not fix

T = TypeVar("T")


@dataclass
class Backend:
    """A ready chat backend. `llm` is None for the extractive backend, which needs no model."""

    name: str
    model: str
    llm: BaseChatModel | None = None
    response_format: dict | None = None
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

    def close(self) -> None:
        self.closed = True
        if self.server is not None:
            self.server.stop()

    def revive(self) -> None:
        """Restart the local server, which has died (once per session).

        The new server listens on a new port, so the chat model is rebuilt to follow it. Raises
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
                self.llm = _chat_openai(self.server.settings, "local", self.server.base_url, "local")
            finally:
                self.restarts += 1  # only now: a caller that sees the new count also sees the new client

    def died_again(self) -> ModelError:
        assert self.server is not None
        return ModelError(f"the local model server at {self.server.base_url} died again after a restart",
                          hint=f"see {self.server.log_path}; the machine may be short of memory")


def call_model(backend: Backend, call: Callable[[], T]) -> T:
    """Run one call to backend.llm; openai/httpx failures become a ModelError naming the server.

    `call` must read backend.llm afresh each time: when the local server has died, it is restarted
    (once per session, on a new port) and the call is made once more. Retries of 429/5xx/timeouts
    happen inside the client (settings.max_retries, with backoff) before an error gets here.
    """
    generation = backend.restarts
    try:
        return call()
    except Exception as exc:
        if not _server_died(exc, backend, generation):
            _raise_translated(exc, backend)
    backend.revive()
    generation = backend.restarts
    try:
        return call()
    except Exception as exc:
        if _server_died(exc, backend, generation):
            raise backend.died_again() from exc
        _raise_translated(exc, backend)


def stream_model(backend: Backend, start: Callable[[], Iterator[T]]) -> Iterator[T]:
    """call_model for a streamed reply: the same errors; a dead local server is restarted and the
    stream started again only if nothing has been yielded yet (a half-written draft is not repeated)."""
    yielded, generation = False, backend.restarts
    try:
        for piece in start():
            yielded = True
            yield piece
        return
    except Exception as exc:
        if yielded or not _server_died(exc, backend, generation):
            _raise_translated(exc, backend)
    backend.revive()
    generation = backend.restarts
    try:
        yield from start()
    except Exception as exc:
        if _server_died(exc, backend, generation):
            raise backend.died_again() from exc
        _raise_translated(exc, backend)


def _server_died(exc: BaseException, backend: Backend, generation: int) -> bool:
    """A connection failure to a local server whose process is gone (not a slow or busy one), or that
    another thread is restarting or has restarted since the call began (`generation`: backend.restarts
    back then)."""
    import openai

    if backend.server is None or not isinstance(exc, (openai.APIConnectionError, *_transport_errors())):
        return False
    restarting = backend._restart_lock.locked()  # then revive() waits for it and the call is made again
    return restarting or not backend.server.alive() or backend.restarts != generation


def _raise_translated(exc: Exception, backend: Backend) -> NoReturn:
    error = model_error(exc, backend)
    if error is None:
        raise exc
    raise error from exc


def _transport_errors() -> tuple[type[Exception], ...]:
    """httpx's base error, and httpx2's (the fork newer openai releases use) when installed."""
    import httpx

    try:
        import httpx2
    except ImportError:
        return (httpx.HTTPError,)
    return (httpx.HTTPError, httpx2.HTTPError)


def model_error(exc: BaseException, backend: Backend) -> ModelError | None:
    """A one-line ModelError for a failure of the openai/httpx client, or None for anything else.

    The message names the server and the HTTP status; it never contains the API key (a 401's
    body is not shown at all, since servers echo part of the key there).
    """
    import openai

    local = backend.server is not None
    who = f"the local model server at {backend.url}" if local else f"the OpenAI-compatible server at {backend.url}"
    check_url = f"see {backend.server.log_path}" if local else "check OPENAI_BASE_URL"
    retries = getattr(backend.llm, "max_retries", None)
    retried = f"rag retried up to {retries} times with backoff; " if retries else ""
    if isinstance(exc, openai.AuthenticationError):
        return ModelError(f"{who} rejected the API key (401)", hint="check OPENAI_API_KEY")
    if isinstance(exc, openai.PermissionDeniedError):
        return ModelError(f"{who} refused access (403)", hint="check that the API key may use this model")
    if isinstance(exc, openai.NotFoundError):
        return ModelError(f"{who} has no model {backend.model!r} or no chat completions endpoint (404)",
                          hint="check RAG_OPENAI_MODEL, and that OPENAI_BASE_URL ends in /v1")
    if isinstance(exc, openai.RateLimitError):
        return ModelError(f"{who} is limiting the request rate (429)", retryable=True,
                          hint=f"{retried}wait a minute and try again")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500:
            return ModelError(f"{who} failed with HTTP {status}", retryable=True,
                              hint=f"{retried}the server has a problem; try again later")
        return ModelError(f"{who} rejected the request (HTTP {status}): {_server_says(exc, backend)}")
    if isinstance(exc, openai.APITimeoutError):
        timeout = getattr(backend.llm, "request_timeout", None)
        within = f" within {timeout:g} s" if isinstance(timeout, (int, float)) else ""
        return ModelError(f"{who} did not answer{within}", retryable=True,
                          hint=f"{retried}raise RAG_REQUEST_TIMEOUT or try again")
    if isinstance(exc, openai.APIConnectionError):
        return ModelError(f"cannot connect to {who}", retryable=True,
                          hint=f"{retried}is the server running? {check_url}")
    if isinstance(exc, (openai.OpenAIError, *_transport_errors())):
        return ModelError(f"the connection to {who} failed: {type(exc).__name__}", retryable=True,
                          hint="try again")
    return None


def _server_says(exc, backend: Backend) -> str:
    """The server's error message on one line, short, with the API key masked should it be echoed."""
    body = getattr(exc, "body", None)
    said = body.get("message") if isinstance(body, dict) else None
    said = said or re.sub(r"^Error code: \d+ - ", "", str(getattr(exc, "message", "") or exc))
    text = " ".join(str(said).split())[:200]
    key = getattr(backend.llm, "openai_api_key", None)
    secret = key.get_secret_value() if key is not None else ""
    return text.replace(secret, "****") if len(secret) >= 4 else text


def resolve_backend_name(settings: Settings, requested: str | None = None) -> str:
    """The backend to use: the request, the setting, or openai when a key is set and local otherwise."""
    name = requested or settings.backend
    if name == "auto":
        return "openai" if settings.openai_api_key or settings.openai_base_url else "local"
    if name not in BACKENDS:
        raise InputError(f"unknown backend {name!r}", hint=f"choose one of {', '.join(BACKENDS)}")
    return name


def answer_schema(max_sentences: int = 4) -> dict:
    """JSON schema of a model's answer: sentences, each with the source sentence numbers backing it."""
    return {
        "type": "object",
        "properties": {
            "sentences": {
                "type": "array",
                "maxItems": max_sentences,
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string"},
                        "sources": {"type": "array", "items": {"type": "integer"}},
                    },
                    "required": ["text", "sources"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["sentences"],
        "additionalProperties": False,
    }


def _chat_openai(settings: Settings, model: str, base_url: str | None, api_key: str) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model, base_url=base_url, api_key=api_key, temperature=settings.temperature, seed=settings.seed,
        max_tokens=settings.answer_max_tokens, timeout=settings.request_timeout, max_retries=settings.max_retries,
    )


def open_backend(settings: Settings, requested: str | None = None) -> Backend:
    """Build (and for `local`, start) the chosen backend."""
    name = resolve_backend_name(settings, requested)
    if name == "extractive":
        return Backend(name="extractive", model="extractive")
    if name == "openai":
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        if not key and not settings.openai_base_url:
            raise ModelError("the openai backend needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server)",
                             hint="or use --backend local / extractive")
        llm = _chat_openai(settings, settings.openai_model, settings.openai_base_url, key or "not-needed")
        strict = {"type": "json_schema", "json_schema": {"name": "answer", "schema": answer_schema(), "strict": True}}
        return Backend(name="openai", model=settings.openai_model, llm=llm, response_format=strict)
    server = LocalServer(settings).start()
    llm = _chat_openai(settings, "local", server.base_url, "local")
    # No response_format: llama-cpp-python enforces a schema with a grammar checked against all 151k
    # tokens of Qwen's vocabulary at every step (13x slower here); the model writes the JSON unaided
    # and parse_model_output repairs or falls back to [n] markers when it does not.
    return Backend(name="local", model=MODEL_NAME, llm=llm, response_format=None, server=server)
