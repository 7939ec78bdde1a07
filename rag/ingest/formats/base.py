"""What every format reader promises: the articles in one source, as text plus stated metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Extracted:
    """One article read from a source (a file, a fetched page, one entry of a feed or export).

    `text` is the article body only, paragraphs separated by blank lines. `meta` holds what the
    source states, under ArticleMeta's field names (title, date, updated, outlet, byline, url,
    language, abstract); absent keys are unknown. `key` tells apart the articles of a source that
    holds many (a feed entry's id or link, a JSON Lines line number); None for a single article.
    """

    text: str
    meta: dict[str, str] = field(default_factory=dict)
    key: str | None = None


class FormatReader(Protocol):
    """One format. `sniff` looks at the start of the decoded content and the file suffix (lowercase,
    with its dot, '' for a URL without one); `read` raises rag.errors.InputError with a one-line
    reason when the source holds no article."""

    name: str

    def sniff(self, head: str, suffix: str) -> bool: ...

    def read(self, data: bytes, source: str) -> list[Extracted]: ...
