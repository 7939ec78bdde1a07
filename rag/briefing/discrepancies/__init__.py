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
from rag.settings import BriefingSettings

DETECTORS: tuple[Detector, ...] = (title.detect, numbers.detect, wording.detect, attribution.detect,
                                   single_source.detect)

__all__ = ["DETECTORS", "Detector", "Discrepancy", "Scope", "Version", "conflicts", "find_discrepancies",
           "number_conflict", "quantities", "title_discrepancies"]


def find_discrepancies(cs: ClaimSet, facts: list[Fact], shown: set[int], options: BriefingSettings) -> list[Discrepancy]:
    """Every kind of difference, in the order of DETECTORS, without repeating a set of claims; each
    detector knows the claims the ones before it have used (`Scope.taken`)."""
    scope = Scope(pair_threshold=options.differ_pair, wording_ratio=options.wording_ratio, facts=facts,
                  shown=frozenset(shown), single_source_limit=options.single_source_differences,
                  quotation_min_words=options.quotation_min_words,
                  quotation_min_content=options.quotation_min_content, unrelated_share=options.unrelated_share)
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
