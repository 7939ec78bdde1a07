"""Attribution: the same proposal is credited to different owners ("Russia's offer" vs "Trump's plan")."""

from __future__ import annotations

import re

from rag.briefing.claims import ClaimSet
from rag.briefing.discrepancies.discrepancy import Discrepancy, Scope, close_pairs, version
from rag.text.words import normalise

_OWNER = re.compile(r"\b([A-Z][\w.]+)['’]s\s+(offer|plan|proposal|idea|deal|initiative|demands?|conditions?)\b")


def _owned(text: str) -> list[tuple[str, str]]:
    """(owner, proposal) for each proposal a text credits to someone: "Russia's offer"."""
    return sorted(_OWNER.findall(normalise(text)))


def detect(cs: ClaimSet, scope: Scope) -> list[Discrepancy]:
    """The same proposal credited to different owners by two close, mutually best-matching claims."""
    out = []
    for i, j in close_pairs(cs, scope.pair_threshold):
        owned_i, owned_j = _owned(cs.claims[i].text), _owned(cs.claims[j].text)
        if owned_i and owned_j and not {o for o, _ in owned_i} & {o for o, _ in owned_j}:
            said_i = ", ".join(f"{o}'s {k}" for o, k in owned_i)
            said_j = ", ".join(f"{o}'s {k}" for o, k in owned_j)
            out.append(Discrepancy(about=f"Whose proposal it was: {said_i} or {said_j}", kind="attribution",
                                   versions=[version(cs, i, said_i), version(cs, j, said_j)]))
    return out
