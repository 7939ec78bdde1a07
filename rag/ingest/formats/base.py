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
    `front_matter` is metadata the author wrote at the head of the file (Markdown front matter):
    unlike `meta` it wins over the sidecar. `note` says how the bytes were decoded when that is worth
    telling; `problem` is why one entry of a many-article source holds no article (text is then '').
    """

    text: str
    meta: dict[str, str] = field(default_factory=dict)
    key: str | None = None
    front_matter: dict[str, object] = field(default_factory=dict)
    note: str | None = None
    problem: str | None = None


class FormatReader(Protocol):
    """One format. `sniff` looks at the start of the decoded content and the file suffix (lowercase,
    with its dot, '' for a URL without one); `read` raises rag.errors.InputError with a one-line
    reason when the source holds no article."""

    name: str

    def sniff(self, head: str, suffix: str) -> bool: ...

    def read(self, data: bytes, source: str) -> list[Extracted]: ...
