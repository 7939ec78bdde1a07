"""Follow-up questions made standalone, using the conversation so far."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from rag.llm.backends import Backend, call_model
from rag.llm.prompts import get_prompt


class Turn(BaseModel):
    """One earlier exchange of a conversation."""

    question: str
    answer: str


def _history_text(history: list[Turn], turns: int = 3) -> str:
    return "\n".join(f"User: {t.question}\nAssistant: {t.answer}" for t in history[-turns:])


def condense(question: str, history: list[Turn], backend: Backend) -> str:
    """A standalone question. Without a model, the last question is prepended so retrieval keeps its topic."""
    if not history:
        return question
    fallback = f"{history[-1].question} {question}"
    if backend.llm is None:
        return fallback
    prompt = get_prompt("condense")
    system, user = prompt.render(history=_history_text(history), question=question)
    messages = [SystemMessage(system), HumanMessage(user)]
    reply = call_model(backend, lambda: backend.llm.bind(max_tokens=80).invoke(messages))
    lines = [line.strip() for line in str(reply.content).splitlines() if line.strip()]
    rewritten = lines[0].strip('"') if lines else ""
    return rewritten if 5 <= len(rewritten) <= 400 else fallback
