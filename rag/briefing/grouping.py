"""The reduce step of a briefing: claims that say the same thing become one fact; facts form sections.

A fact is a star around one claim: from every other article at most one claim joins it, the one
that is its mutual best match and close enough. Mutual best matching keeps a sentence from being
pulled into a fact that merely shares its topic. A claim that matches but disagrees on a number is
left out of the fact (it is a discrepancy, not corroboration).

Sections are topics: facts that several outlets report are clustered (average linkage on centred
sentence embeddings joined with their distinctive words), then every other fact joins the section of
the corroborated fact it is closest to, or none.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, Field

from rag.briefing.claims import ClaimSet
from rag.text.words import NAME, SPEECH_VERB, WEEKDAYS, stems


class Fact(BaseModel):
    """Claims from different articles that say the same thing; `rows[0]` is the claim it formed around."""

    rows: list[int]
    conflicting: list[int] = Field(default_factory=list, description="Matching claims that disagree on a number.")
    independent_sources: int
    weight: int = Field(description="Independent sources reporting it, counting those that disagree on details.")
    centrality: float
    depth: float = Field(description="Mean depth of its claims in their articles: news near the top matters more.")
    counts: bool = Field(False, description="Whether it states a number (hard facts first).")


def mutual_best(cs: ClaimSet, i: int, j: int) -> bool:
    """Whether j is i's best match among the claims of j's duplicate cluster, and i is j's best in i's."""
    claims = cs.claims
    in_j = [k for k, c in enumerate(claims) if c.cluster == claims[j].cluster]
    in_i = [k for k, c in enumerate(claims) if c.cluster == claims[i].cluster]
    return max(in_j, key=lambda k: cs.scores[i, k]) == j and max(in_i, key=lambda k: cs.scores[k, j]) == i


def _support(cs: ClaimSet, threshold: float) -> list[int]:
    """For each claim, how many other duplicate clusters have a claim this close."""
    n = len(cs.claims)
    return [len({cs.claims[j].cluster for j in range(n) if cs.independent(i, j) and cs.scores[i, j] >= threshold})
            for i in range(n)]


def _centrality(cs: ClaimSet) -> np.ndarray:
    """Mean cosine of each claim to its three closest claims from other clusters: how much it is the shared story."""
    cos = cs.vectors @ cs.vectors.T
    out = np.zeros(len(cs.claims))
    for i in range(len(cs.claims)):
        others = sorted((cos[i, j] for j in range(len(cs.claims)) if cs.independent(i, j)), reverse=True)
        out[i] = float(np.mean(others[:3])) if others else 0.0
    return out


def group_facts(cs: ClaimSet, threshold: float, conflict: Callable[[str, str], bool]) -> list[Fact]:
    """Facts, most widely reported first; every claim belongs to exactly one fact."""
    n = len(cs.claims)
    support = _support(cs, threshold)
    centrality = _centrality(cs)
    order = sorted(range(n), key=lambda i: (-support[i], -centrality[i], cs.claims[i].position))
    taken: set[int] = set()
    facts: list[Fact] = []
    for i in order:
        if i in taken:
            continue
        rows, conflicting = [i], []
        for article_id in dict.fromkeys(c.article_id for c in cs.claims):
            if article_id == cs.claims[i].article_id:
                continue
            candidates = [j for j in range(n) if cs.claims[j].article_id == article_id and j not in taken
                          and cs.scores[i, j] >= threshold]
            if not candidates:
                continue
            j = max(candidates, key=lambda k: cs.scores[i, k])
            if not mutual_best(cs, i, j):
                continue
            if conflict(cs.claims[i].text, cs.claims[j].text):
                conflicting.append(j)
            else:
                rows.append(j)
        taken.update(rows)
        clusters = {cs.claims[r].cluster for r in rows}
        facts.append(Fact(rows=rows, conflicting=conflicting, independent_sources=len(clusters),
                          weight=len(clusters | {cs.claims[r].cluster for r in conflicting}),
                          centrality=float(centrality[i]), depth=float(np.mean([cs.claims[r].depth for r in rows])),
                          counts=bool(re.search(r"\d", cs.claims[i].text))))
    _mirror_conflicts(cs, facts)
    facts.sort(key=importance)
    return facts


def _mirror_conflicts(cs: ClaimSet, facts: list[Fact]) -> None:
    """A disagreement goes both ways: the fact holding the other claim records it too."""
    home = {r: f for f in facts for r in f.rows}
    for fact in facts:
        for row in fact.conflicting:
            other = home[row]
            if fact.rows[0] not in other.conflicting:
                other.conflicting.append(fact.rows[0])
    for fact in facts:
        fact.weight = len({cs.claims[r].cluster for r in fact.rows + fact.conflicting})


def importance(fact: Fact) -> tuple:
    """Sort key: more independent sources first, then facts with numbers, then nearer the top of the
    articles, then more central."""
    return (-fact.independent_sources, -fact.weight, not fact.counts, round(fact.depth, 1), -fact.centrality)


_WHEN = "(?:" + "|".join(WEEKDAYS) + "|week|weekend|month|year|morning|evening)"
_NEEDS_CONTEXT = re.compile(
    rf"^\W*(?:[a-z]+,\s*)?(?:he|she|they|(?:this|that)(?!\s+{_WHEN}\b)|these|those|but|and|so)\b"
    rf"|[,”\"]\s*(?:he|she|they) {SPEECH_VERB}\b", re.I)
_FIRST_PERSON = re.compile(r"^\W*(?:we|i|you|our|my)\b", re.I)
_NAME_LATER = re.compile(rf"\s{NAME}")


def stands_alone(text: str) -> bool:
    """Whether a sentence makes sense without the one before it: no 'He said', 'Furthermore, they ...' or
    '..., he added', no unattributed 'We will not go for it.', and no piece of a longer quotation (unbalanced
    quote marks)."""
    text = text.strip()
    if _NEEDS_CONTEXT.search(text):
        return False
    if _FIRST_PERSON.search(text) and not _NAME_LATER.search(text):
        return False
    return text.count("“") == text.count("”") and text.count('"') % 2 == 0


def representative(cs: ClaimSet, fact: Fact, flagged: frozenset[int] = frozenset()) -> int:
    """The claim that best stands for the fact: not flagged as wrong (a 'former' president), from an
    original article, readable on its own, saying least that the others do not (so its sources back all
    of it), closest to the others, then earliest."""
    if len(fact.rows) == 1:
        return fact.rows[0]

    def shared(r: int) -> float:
        others = frozenset().union(*(cs.stems[o] for o in fact.rows if o != r))
        return round(len(cs.stems[r] & others) / max(1, len(cs.stems[r])), 1)

    def agreement(r: int) -> float:
        return float(np.mean([cs.scores[r, o] for o in fact.rows if o != r]))

    return max(fact.rows, key=lambda r: (r not in flagged, not cs.claims[r].derived, stands_alone(cs.claims[r].text),
                                         shared(r), agreement(r), -cs.claims[r].position))


def topic_vectors(cs: ClaimSet) -> np.ndarray:
    """Per claim: the embedding minus the corpus mean (what is shared by all is not a topic), joined with
    IDF-weighted word indicators; rows are unit length."""
    centred = cs.vectors - cs.vectors.mean(axis=0) if len(cs.claims) > 1 else cs.vectors
    centred = centred / np.clip(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9, None)
    vocabulary = {w: k for k, w in enumerate(sorted(cs.idf))}
    words = np.zeros((len(cs.claims), len(vocabulary)))
    for i, claim_stems in enumerate(cs.stems):
        for w in claim_stems:
            words[i, vocabulary[w]] = cs.idf[w]
    words = words / np.clip(np.linalg.norm(words, axis=1, keepdims=True), 1e-9, None)
    return np.hstack([centred, words]) / np.sqrt(2)


def sections(cs: ClaimSet, facts: list[Fact], max_sections: int, merge_similarity: float,
             join_similarity: float, min_anchors: int = 4) -> list[list[int]]:
    """Indexes into `facts` per section, heaviest section first; facts that fit no section are left out."""
    if not facts:
        return []
    vectors = topic_vectors(cs)
    centroids = np.array([vectors[f.rows].mean(axis=0) for f in facts])
    centroids = centroids / np.clip(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9, None)
    sim = centroids @ centroids.T
    anchors = [k for k, f in enumerate(facts) if f.weight >= 2]
    if len(anchors) < min_anchors:  # little is corroborated (a narrow topic): the best facts anchor sections
        anchors = list(range(min(len(facts), max(min_anchors, len(anchors)))))
    groups = [[k] for k in anchors]
    while len(groups) > 1:
        link, x, y = max((float(np.mean(sim[np.ix_(groups[a], groups[b])])), a, b)
                         for a in range(len(groups)) for b in range(a + 1, len(groups)))
        if len(groups) <= max_sections and link < merge_similarity:
            break
        groups[x] += groups.pop(y)
    for k in range(len(facts)):
        if k in anchors:
            continue
        closeness = [max(float(sim[k, a]) for a in group) for group in groups]
        best = int(np.argmax(closeness))
        if closeness[best] >= join_similarity:
            groups[best].append(k)
    for group in groups:
        group.sort()
    groups.sort(key=lambda g: (-sum(facts[k].weight for k in g), g[0]))
    return groups


def _covered(cs: ClaimSet, words: frozenset[str], others: list[int]) -> float:
    """IDF-weighted share of `words` that the best of the other claims also uses."""
    total = sum(cs.idf.get(w, 0.0) for w in words)
    if not total or not others:
        return 0.0
    return max(sum(cs.idf.get(w, 0.0) for w in words & cs.stems[o]) for o in others) / total


def shared_clause(cs: ClaimSet, lead: int, others: list[int], gain: float) -> str:
    """The text a point shows for its lead claim: the whole sentence, or, when the sentence adds a clause
    the other outlets do not report ("... power plants — an idea that experts said was unworkable"), the
    clause they do report, verbatim and marked with an ellipsis, so the source count fits what is shown."""
    text = " ".join(cs.claims[lead].text.split())
    clauses = [c.strip() for c in re.split(r"\s+[—–]\s+|;\s+", text) if c.strip()]
    if len(clauses) < 2 or not others:
        return text
    whole = _covered(cs, cs.stems[lead], others)
    best = max(clauses, key=lambda c: _covered(cs, stems(c), others))
    if _covered(cs, stems(best), others) < whole + gain or len(best.split()) < 6 or not stands_alone(best):
        return text
    return best.rstrip(" ,.;:") + " …" if best is clauses[0] else "… " + best
