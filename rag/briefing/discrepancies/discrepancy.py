"""What every detector returns and takes: a discrepancy with one verbatim version per outlet, and the
scope a detector may weigh besides the claims."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from rag.briefing.claims import ClaimSet
from rag.briefing.grouping import Fact, mutual_best
from rag.settings import BriefingSettings


class Version(BaseModel):
    """One outlet's side of a discrepancy: what it says, and the verbatim sentence that says it."""

    text: str = Field(description="The part that differs (a number, the quoted words) or the claim.")
    outlet: str | None
    article_id: str
    quote: str
    start: int
    end: int
    also_in: list[str] = Field(default_factory=list)
    n: int | None = Field(None, description="Its citation number in the briefing's sources.")


class Discrepancy(BaseModel):
    about: str
    kind: str = Field(description="numbers | wording | title | attribution | single_source")
    versions: list[Version]


_DEFAULTS = BriefingSettings()


@dataclass(frozen=True)
class Scope:
    """What a detector may weigh besides the claims. The defaults switch off every comparison that
    needs a threshold, so `Scope()` leaves only the detectors that need none (titles)."""

    pair_threshold: float = math.inf  # the same-claim score two claims need to be compared
    wording_ratio: float = math.inf  # least word-sequence similarity of two readings of one quotation
    facts: list[Fact] = field(default_factory=list)
    shown: frozenset[int] = frozenset()  # indexes into `facts` that the briefing shows
    single_source_limit: int = 0  # most single-outlet claims listed
    taken: frozenset[int] = frozenset()  # claim rows already part of a difference found before
    quotation_min_words: int = _DEFAULTS.quotation_min_words
    quotation_min_content: int = _DEFAULTS.quotation_min_content
    unrelated_share: float = _DEFAULTS.unrelated_share


Detector = Callable[[ClaimSet, Scope], list[Discrepancy]]


def version(cs: ClaimSet, row: int, text: str) -> Version:
    """A claim's side of a discrepancy, showing `text` for it."""
    c = cs.claims[row]
    return Version(text=text, outlet=c.outlet, article_id=c.article_id, quote=c.text, start=c.start, end=c.end,
                   also_in=c.also_in)


def close_pairs(cs: ClaimSet, threshold: float) -> Iterable[tuple[int, int]]:
    """Claim pairs from different clusters that are close and each other's best match."""
    n = len(cs.claims)
    for i in range(n):
        for j in range(i + 1, n):
            if cs.independent(i, j) and cs.scores[i, j] >= threshold and mutual_best(cs, i, j):
                yield i, j
