"""Follow-up questions made standalone, using the conversation so far."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.types import Turn

if TYPE_CHECKING:
    from rag.answer.backends import Backend


def _history_text(history: list[Turn], turns: int = 3) -> str:
    return "\n".join(f"User: {t.question}\nAssistant: {t.answer}" for t in history[-turns:])


def condense(question: str, history: list[Turn], backend: Backend) -> str:
    """A standalone question. Without a model, the last question is prepended so retrieval keeps its topic."""
    if not history:
        return question
    fallback = f"{history[-1].question} {question}"
    reply = backend.complete("condense", max_tokens=80, history=_history_text(history), question=question)
    if reply is None:
        return fallback
    lines = [line.strip() for line in reply.text.splitlines() if line.strip()]
    rewritten = lines[0].strip('"') if lines else ""
    return rewritten if 5 <= len(rewritten) <= 400 else fallback
