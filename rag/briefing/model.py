"""What a briefing is: key points and sections of cited facts, discrepancies, sources (the JSON shape)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rag.types import Citation
from rag.briefing.discrepancies import Discrepancy
from rag.types import Usage


class Point(BaseModel):
    """One fact of the briefing: a sentence, the verified quotes behind it and who reports it."""

    text: str
    citations: list[Citation]
    outlets: list[str]
    independent_sources: int
    written_by: str = Field("article", description="'article' (the verbatim sentence) or 'model' (checked).")


class Section(BaseModel):
    title: str
    points: list[Point]


class Source(BaseModel):
    """An article the briefing read."""

    article_id: str
    outlet: str | None
    title: str | None
    date: str | None
    derived_from: str | None = Field(None, description="The original this article retells (not a separate source).")


class Briefing(BaseModel):
    headline: str
    topic: str | None = None
    points: list[Point] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    discrepancies: list[Discrepancy] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    independent_sources: int = 0
    dropped: list[str] = Field(default_factory=list,
                               description="Model sentences not used: their source did not support them.")
    notes: list[str] = Field(default_factory=list, description="What went wrong on the way, e.g. a failed model call.")
    backend: str = "extractive"
    model: str = "extractive"
    calls: int = 0
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0

    def public(self) -> dict:
        """The JSON shape of `rag brief --json`."""
        return self.model_dump(mode="json")

    def all_points(self) -> list[Point]:
        return self.points + [p for s in self.sections for p in s.points]
