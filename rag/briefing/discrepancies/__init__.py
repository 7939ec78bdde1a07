"""Where the reports differ: cheap, checkable detectors over the claims of several outlets.

Each detector is one module with the same `detect(claims, scope) -> list[Discrepancy]`; it compares
claims from different duplicate clusters (a translation never disagrees with its original) and
returns the sides verbatim. DETECTORS lists them in the order their findings are shown: the ones
with two sides first, then claims only one outlet makes.
"""

from __future__ import annotations

from dataclasses import replace

from rag.briefing.claims import ClaimSet
from rag.briefing.discrepancies import attribution, numbers, single_source, title, wording
from rag.briefing.discrepancies.discrepancy import Detector, Discrepancy, Scope, Version
from rag.briefing.discrepancies.numbers import conflicts, number_conflict, quantities
from rag.briefing.grouping import Fact

DETECTORS: tuple[Detector, ...] = (title.detect, numbers.detect, wording.detect, attribution.detect,
                                   single_source.detect)

__all__ = ["DETECTORS", "Detector", "Discrepancy", "Scope", "Version", "conflicts", "find_discrepancies",
           "number_conflict", "quantities", "title_discrepancies"]


def find_discrepancies(cs: ClaimSet, facts: list[Fact], shown: set[int], pair_threshold: float,
                       wording_ratio: float, single_source_limit: int) -> list[Discrepancy]:
    """Every kind of difference, in the order of DETECTORS, without repeating a set of claims; each
    detector knows the claims the ones before it have used (`Scope.taken`)."""
    scope = Scope(pair_threshold=pair_threshold, wording_ratio=wording_ratio, facts=facts,
                  shown=frozenset(shown), single_source_limit=single_source_limit)
    rows = {(c.article_id, c.start): c.row for c in cs.claims}
    seen: set[frozenset] = set()
    out: list[Discrepancy] = []
    for detect in DETECTORS:
        for d in detect(cs, scope):
            key = frozenset((v.article_id, v.start) for v in d.versions)
            if key not in seen:
                seen.add(key)
                out.append(d)
        scope = replace(scope, taken=frozenset(rows[(v.article_id, v.start)] for d in out for v in d.versions))
    return out


def title_discrepancies(cs: ClaimSet) -> list[Discrepancy]:
    """Status-word differences alone ('former'); they need no threshold, so a briefing can set those
    claims aside before it groups facts."""
    return title.detect(cs, Scope())
