"""Single source: a notable claim (a number, a quotation or a named speaker) that only one outlet makes."""

from __future__ import annotations

import re

from rag.briefing.claims import ClaimSet
from rag.briefing.discrepancies.discrepancy import Discrepancy, Scope, version
from rag.briefing.discrepancies.numbers import counted
from rag.text.words import NAME, SPEECH_VERB, names_in, quotations, stems

_NAMED_SPEAKER = re.compile(rf"\b{NAME} {NAME}(?:,[^,]{{3,80}},)? {SPEECH_VERB}\b")
_RARE = 3.0  # IDF of a name few claims use: shared by two outlets, it means they report the same thing


def _names_in(text: str) -> frozenset[str]:
    """Stems of the capitalised words inside a sentence (not its first word): names of people and places."""
    return frozenset().union(*(stems(name) for name in names_in(text)))


def detect(cs: ClaimSet, scope: Scope) -> list[Discrepancy]:
    """Shown facts that one outlet alone reports, with a number, a quotation or a named speaker,
    nearest the top of their article first.

    A claim counts as single-source only if no other outlet has a claim near it in meaning and none
    counts the same thing the same way; claims already part of another difference are skipped.
    """
    unrelated_below = scope.unrelated_share * scope.pair_threshold
    candidates = []
    for k in scope.shown:
        fact = scope.facts[k]
        row = fact.rows[0]
        claim = cs.claims[row]
        notable = re.search(r"\d", claim.text) or quotations(claim.text) or _NAMED_SPEAKER.search(claim.text)
        if fact.weight > 1 or row in scope.taken or not notable:
            continue
        others = [j for j in range(len(cs.claims)) if cs.independent(row, j)]
        amounts = {(n, a) for n, a, _ in counted(claim.text)}
        rare = {n for n in _names_in(claim.text) if cs.idf.get(n, 0.0) >= _RARE}
        if any(cs.scores[row, j] >= unrelated_below or amounts & {(n, a) for n, a, _ in counted(cs.claims[j].text)}
               or rare & _names_in(cs.claims[j].text) for j in others):
            continue  # another outlet reports something close, counts the same thing or names the same place
        candidates.append((claim.depth, claim.position, row))
    out = []
    for _, _, row in sorted(candidates)[: scope.single_source_limit]:
        claim = cs.claims[row]
        out.append(Discrepancy(about=f"Found only in {claim.outlet or 'one outlet'}", kind="single_source",
                               versions=[version(cs, row, claim.text)]))
    return out
