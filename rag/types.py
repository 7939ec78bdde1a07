"""Small value types shared by several stages."""

from __future__ import annotations

from pydantic import BaseModel


class Usage(BaseModel):
    """Tokens a chat model read and wrote."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        """Count another call's tokens in."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
