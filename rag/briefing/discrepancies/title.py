"""Titles: a person's title carries a status word in one outlet only ("Former U.S. President")."""

from __future__ import annotations

import re

from rag.briefing.claims import ClaimSet
from rag.briefing.discrepancies.discrepancy import Discrepancy, Scope, version
from rag.text.words import NAME

_STATUS = r"(?P<status>[Ff]ormer|[Ee]x-|[Ll]ate|[Aa]cting|[Ii]nterim|[Oo]utgoing)"
_TITLE = (r"(?P<title>(?:[A-Z][\w.]*\s+){0,2}?(?:President|Prime Minister|Chancellor|Secretary of State|Minister|"
          r"Governor|Senator|King|Queen|Ambassador|Director|Mayor|Speaker))")
_STATUS_TITLE = re.compile(_STATUS + r"\s+" + _TITLE + rf"\s+(?P<name>(?:{NAME}\s+){{0,2}}{NAME})")


def detect(cs: ClaimSet, scope: Scope) -> list[Discrepancy]:
    """A status word ('former') before a title that other outlets use for the same person without it.
    Needs no threshold: the same title and surname are the same person."""
    out = []
    for i, claim in enumerate(cs.claims):
        for match in _STATUS_TITLE.finditer(claim.text):
            title, surname = match.group("title").split()[-1], match.group("name").split()[-1]
            plain = re.compile(rf"(?<!{match.group('status')} )\b(?:[A-Z][\w.]*\s+){{0,2}}{re.escape(title)}\s+"
                               rf"(?:{NAME}\s+){{0,2}}{re.escape(surname)}\b")
            others: dict[str, int] = {}
            for j, other in enumerate(cs.claims):
                if cs.independent(i, j) and other.cluster not in others:
                    hit = plain.search(other.text)
                    if hit and not re.search(match.group("status") + r"\s+$", other.text[: hit.start()], re.I):
                        others[other.cluster] = j
            if others:
                said = match.group(0)
                plain_title = " ".join(said.split()[1 : len(said.split()) - len(match.group("name").split())])
                out.append(Discrepancy(
                    about=f"{claim.outlet or 'One outlet'} calls {match.group('name')} “{match.group('status')} "
                          f"{plain_title}”; other outlets do not say “{match.group('status').lower()}”",
                    kind="title",
                    versions=[version(cs, i, said)] + [version(cs, j, plain.search(cs.claims[j].text).group(0))
                                                       for j in others.values()]))
    return out
