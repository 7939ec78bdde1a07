"""The OpenAI-compatible routes: `POST /v1/chat/completions` (model "rag") and `GET /v1/models`.

The last user message is the question and the turns before it are the history, exactly as `rag chat`
uses them. The reply's content is the verified answer with [n] markers and a numbered list of sources;
the same citations come as data in the extra `citations` field, and the whole answer (`rag ask --json`)
in `rag`. When streaming, the model's draft arrives first as `reasoning_content` (clients that show
reasoning show it as the answer being written); `content` carries only what survived verification.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from rag.answer.render import SOURCES_HEADING, plain_answer
from rag.errors import InputError, RagError, require_words
from rag.serve.engine import Engine
from rag.serve.guard import error_body, status_of
from rag.serve.queue import last
from rag.serve.schemas import ERRORS, ChatMessage, ChatRequest
from rag.serve.waiting import until_gone
from rag.types import Answer, Turn

MODEL = "rag"
router = APIRouter(prefix="/v1", tags=["openai"], responses=ERRORS)


def conversation(messages: list[ChatMessage], turns: int) -> tuple[str, list[Turn]]:
    """(the question, earlier turns): the last user message, and user/assistant pairs before it."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        raise InputError("the conversation has no user message", hint="end the messages with the user's question")
    question = require_words(messages[users[-1]].text())
    history: list[Turn] = []
    pending: str | None = None
    for message in messages[: users[-1]]:
        if message.role == "user":
            pending = message.text()
        elif message.role == "assistant" and pending is not None:  # the answer, without its list of sources
            history.append(Turn(question=pending, answer=message.text().split(SOURCES_HEADING)[0].strip()))
            pending = None
    return question, history[-turns:] if turns else []


def completion(answer: Answer, ident: str, created: int) -> dict:
    """A `chat.completion` object carrying the verified answer."""
    usage = answer.usage
    return {
        "id": ident, "object": "chat.completion", "created": created, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": plain_answer(answer)},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                  "total_tokens": usage.prompt_tokens + usage.completion_tokens},
        "citations": [c.model_dump(mode="json") for c in answer.citations],
        "rag": answer.public(),
    }


def chunk(ident: str, created: int, delta: dict, finish: str | None = None, **extra: object) -> str:
    """One server-sent event of a `chat.completion.chunk`."""
    body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def pieces(text: str, words: int = 4) -> list[str]:
    """The verified text in small pieces, so a client shows it arriving as it would a model's."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]


@router.get("/models", summary="The one model served: rag")
def models() -> dict:
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "rag"}]}


# One server-sent event: `data` holds a chat.completion.chunk as JSON, and the last one `[DONE]`.
SSE_EVENT = {"type": "object", "required": ["data"],
             "properties": {"data": {"type": "string"}, "event": {"type": "string"}, "id": {"type": "string"}}}


@router.post("/chat/completions", summary="Answer the last user message from the articles, with citations",
             response_model=None,
             responses={200: {"description": "A chat completion (JSON), or with `stream` its chunks as server-sent "
                                             "events", "content": {"application/json": {"schema": {"type": "object"}},
                                                                   "text/event-stream": {"schema": SSE_EVENT}}}})
async def chat_completions(body: ChatRequest, request: Request):
    engine: Engine = request.app.state.engine
    if body.model != MODEL:
        raise InputError(f"the model {body.model!r} does not exist", hint=f"use model {MODEL!r}")
    if len(body.messages) > engine.settings.serve.max_messages:
        raise InputError(f"{len(body.messages)} messages is more than {engine.settings.serve.max_messages}",
                         hint="send the recent part of the conversation")
    question, history = conversation(body.messages, engine.settings.serve.history_turns)
    answerer = engine.answerer()
    ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    reservation = engine.queue.reserve()
    if not body.stream:
        answer = await until_gone(request, last(engine.queue.run(
            reservation, lambda stop: iter([answerer.ask(question, history)]))))
        return completion(answer, ident, created)

    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    async def events() -> AsyncIterator[str]:
        answer: Answer | None = None
        try:
            yield chunk(ident, created, {"role": "assistant", "content": ""})
            async for piece in engine.queue.run(reservation, lambda stop: answerer.stream(question, history)):
                if isinstance(piece, Answer):
                    answer = piece
                else:
                    yield chunk(ident, created, {"reasoning_content": piece})
            if answer is None:
                raise RagError("the model gave no answer", retryable=True)
            for part in pieces(plain_answer(answer)):
                yield chunk(ident, created, {"content": part})
            final = completion(answer, ident, created)
            yield chunk(ident, created, {}, "stop", citations=final["citations"], rag=final["rag"])
            if include_usage:
                yield f"data: {json.dumps({**final, 'object': 'chat.completion.chunk', 'choices': []})}\n\n"
        except RagError as exc:  # the status line is sent already: the error travels as an event
            yield f"data: {json.dumps(error_body(exc.message, 'server_error', exc.hint, str(status_of(exc))))}\n\n"
        finally:
            reservation.release()
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                             background=BackgroundTask(reservation.release))  # also when never started
