"""The three answering backends behind one interface (after simonw/llm's Model.execute).

`answer(question, context, question_vector)` yields draft text while it writes (when streaming),
then one Proposal: the sentences it proposes, each with the numbers of the source sentences that
back it. Proposals are not trusted: the Answerer verifies every one. `complete()` fills a prompt
for the small rewriting calls (condense, briefing titles and headlines); a backend without a chat
model returns None and callers keep their verbatim fallback.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from rag.answer.context import Context
from rag.answer.model_output import parse_model_output, parse_partial
from rag.answer.selection import focus, select_sentences
from rag.errors import InputError
from rag.llm.chat import ChatModel, Reply, open_local, open_openai, usage_of
from rag.llm.prompts import get_prompt
from rag.settings import Settings
from rag.types import Usage


@dataclass
class Proposal:
    """What a backend proposes to say: (sentence, [source numbers]) pairs over the context it read."""

    sentences: list[tuple[str, list[int]]]
    context: Context
    usage: Usage = field(default_factory=Usage)


class Backend(ABC):
    """An answering backend. `writes` is True when it has a chat model that writes its own sentences."""

    name: str
    model: str
    writes: bool = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def answer(self, question: str, context: Context, question_vector: np.ndarray,
               stream: bool = False) -> Iterator[str | Proposal]:
        """Draft text pieces (only when streaming), then exactly one Proposal."""

    def complete(self, prompt: str, max_tokens: int, timeout: float | None = None, **values: str) -> Reply | None:
        """The reply to a prompt from prompts/, or None for a backend without a chat model."""
        return None

    def close(self) -> None:
        """Release what the backend holds (the local server)."""


class ExtractiveBackend(Backend):
    """No model: the answer is the source sentences that best answer the question, quoted."""

    name = model = "extractive"

    def answer(self, question: str, context: Context, question_vector: np.ndarray,
               stream: bool = False) -> Iterator[str | Proposal]:
        yield Proposal(select_sentences(question, context, question_vector, self.settings.min_relevance,
                                        self.settings.selection), context)


class ModelBackend(Backend):
    """A chat model writes 1-3 sentences citing numbered source sentences, as JSON."""

    writes = True

    def __init__(self, chat: ChatModel, settings: Settings) -> None:
        super().__init__(settings)
        self.chat = chat
        self.model = chat.model
        self.prompt = get_prompt("answer")

    def answer(self, question: str, context: Context, question_vector: np.ndarray,
               stream: bool = False) -> Iterator[str | Proposal]:
        context = focus(question, context, question_vector, self.settings.source_sentences, self.settings.selection)
        system, user = self.prompt.render(sources=context.render(), question=question)
        messages = [SystemMessage(system), HumanMessage(user)]
        message: AIMessage | None = None
        if not stream:
            message = self.chat.invoke(messages, structured=True)
        else:
            shown = ""
            for chunk in self.chat.stream(messages, structured=True):
                message = chunk if message is None else message + chunk
                draft = " ".join(t for t, _ in parse_partial(str(message.content)))
                if draft.startswith(shown) and len(draft) > len(shown):
                    yield draft[len(shown) :]
                    shown = draft
        if message is None:
            yield Proposal([], context)
            return
        yield Proposal(parse_model_output(str(message.content)), context, usage_of(message))

    def complete(self, prompt: str, max_tokens: int, timeout: float | None = None, **values: str) -> Reply | None:
        system, user = get_prompt(prompt).render(**values)
        limits: dict = {"max_tokens": max_tokens} | ({"timeout": timeout} if timeout is not None else {})
        message = self.chat.invoke([SystemMessage(system), HumanMessage(user)], **limits)
        return Reply(str(message.content), usage_of(message))

    def close(self) -> None:
        self.chat.close()


class OpenAIBackend(ModelBackend):
    """OpenAI, or any OpenAI-compatible server (OPENAI_BASE_URL)."""

    name = "openai"

    @classmethod
    def open(cls, settings: Settings) -> OpenAIBackend:
        return cls(open_openai(settings), settings)


class LocalBackend(ModelBackend):
    """The packaged model on a llama.cpp server that rag starts and stops."""

    name = "local"

    @classmethod
    def open(cls, settings: Settings) -> LocalBackend:
        return cls(open_local(settings), settings)


BACKENDS = ("openai", "local", "extractive")


def resolve_backend_name(settings: Settings, requested: str | None = None) -> str:
    """The backend to use: the request, the setting, or openai when a key is set and local otherwise."""
    name = requested or settings.backend
    if name == "auto":
        return "openai" if settings.openai_api_key or settings.openai_base_url else "local"
    if name not in BACKENDS:
        raise InputError(f"unknown backend {name!r}", hint=f"choose one of {', '.join(BACKENDS)}")
    return name


def open_backend(settings: Settings, requested: str | None = None) -> Backend:
    """Build (and for `local`, start) the chosen backend."""
    name = resolve_backend_name(settings, requested)
    if name == "extractive":
        return ExtractiveBackend(settings)
    return (OpenAIBackend if name == "openai" else LocalBackend).open(settings)
