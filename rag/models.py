"""The chat backend factory: openai, local (packaged model via llama.cpp) or extractive (no model)."""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from rag.errors import InputError, ModelError
from rag.local_model import MODEL_NAME, LocalServer
from rag.settings import Settings

BACKENDS = ("openai", "local", "extractive")


@dataclass
class Backend:
    """A ready chat backend. `llm` is None for the extractive backend, which needs no model."""

    name: str
    model: str
    llm: BaseChatModel | None = None
    response_format: dict | None = None
    server: LocalServer | None = field(default=None, repr=False)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


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
