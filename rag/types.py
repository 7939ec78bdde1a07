"""The values every stage passes around: articles, chunks, citations, answers, conversation turns, token usage."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class Usage(BaseModel):
    """Tokens a chat model read and wrote."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        """Count another call's tokens in."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


class ArticleMeta(BaseModel):
    """What is known about an article beyond its text."""

    title: str | None = None
    date: str | None = Field(None, description="ISO date of publication, optionally with time.")
    updated: str | None = Field(None, description="ISO date of the last update, where the source states one.")
    outlet: str | None = None
    abstract: str | None = None
    byline: str | None = None
    url: str | None = None
    language: str | None = None
    translation: bool = Field(False, description="Declared a translation of another report.")


class Article(BaseModel):
    """One article: normalised text, its content id and metadata."""

    id: str
    path: str
    text: str
    meta: ArticleMeta

    @property
    def label(self) -> str:
        """A short human name: outlet and title, or the file name."""
        name = self.meta.title or Path(self.path).name
        return f"{self.meta.outlet}: {name}" if self.meta.outlet else name


class Chunk(BaseModel):
    """A piece of an article: `text == article.text[start:end]`."""

    id: str
    article_id: str
    index: int
    start: int
    end: int
    text: str


class Citation(BaseModel):
    """A verified quote: `article.text[start:end]` is the quote, give or take folded characters."""

    n: int
    article_id: str
    outlet: str | None = None
    title: str | None = None
    date: str | None = None
    quote: str
    start: int
    end: int
    also_in: list[str] = Field(default_factory=list, description="Derived copies that carry the same sentence.")


class Turn(BaseModel):
    """One earlier exchange of a conversation."""

    question: str
    answer: str


class Claim(BaseModel):
    """One sentence of the answer and the citation numbers that back it."""

    text: str
    citations: list[int]


class Answer(BaseModel):
    """A verified answer; `answer` carries [n] markers that index `citations`."""

    question: str
    standalone_question: str
    answer: str
    abstained: bool
    claims: list[Claim] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list, description="Model sentences removed as unsupported.")
    independent_sources: int = 0
    outlets: list[str] = Field(default_factory=list)
    backend: str
    model: str
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0

    def public(self) -> dict:
        """The JSON shape of `rag ask --json`."""
        return self.model_dump(mode="json")


def source_name(outlet: str | None, title: str | None, date: str | None) -> str:
    """How people know a source: "Outlet — Headline (2025-03-19)", leaving out what is unknown."""
    name = outlet or "unknown outlet"
    if title:
        name += f" — {title}"
    return name + (f" ({date[:10]})" if date else "")
