"""Checks that a sentence a model wrote says no more than the article sentence it was made from.

rag.citations.is_supported asks whether evidence backs a claim (numbers present, close in meaning,
few new words). A small model that shortens a sentence fails in subtler ways, each checked here:
dropping "not", "could" or "said" (a hedged or attributed statement becomes a fact), gluing names
that stood apart ("U.S. President Zelensky"), and swapping who did what to whom ("Kyiv accused
Russia" from "Russia accused Kyiv").
"""

from __future__ import annotations

import re

from rag.text.words import HEDGES, NEGATIONS, SPEECH_VERBS, names_in, normalise, stem, tokens

_ATTRIBUTIONS = SPEECH_VERBS | {"according", "statement"}
# Verbs whose subject and object must not trade places in a rewrite (stems: 'accus' matches 'accused').
_ROLE_VERBS = ("accus", "attack", "blam", "said", "say", "told", "tell", "agre", "reject", "refus", "request",
               "ask", "launch", "hit", "strik", "struck", "target", "urg", "warn", "demand", "support", "back")


def words_of(text: str) -> set[str]:
    """Lower-case words, with "n't" kept on its verb."""
    return set(re.findall(r"[a-z]+(?:n't)?", normalise(text).lower().replace("’", "'")))


def keeps_meaning_markers(source: str, rewrite: str) -> bool:
    """The rewrite keeps a negation, a hedge and an attribution whenever its source has one, and adds
    no negation."""
    src, new = words_of(source), words_of(rewrite)
    src |= {"n't"} if "n't" in normalise(source).lower() else set()
    new |= {"n't"} if "n't" in normalise(rewrite).lower() else set()
    if bool(new & NEGATIONS) and not src & NEGATIONS:
        return False
    new_stems = new | {stem(w) for w in new}  # 'requests' keeps 'requested'
    return all(not src & kind or new & kind or new_stems & {stem(w) for w in src & kind}
               for kind in (NEGATIONS, HEDGES, _ATTRIBUTIONS))


def _name_runs(text: str, names: set[str]) -> list[list[str]]:
    """Runs of consecutive tokens that are names ("U.S. President Zelensky"), lower-cased."""
    runs: list[list[str]] = [[]]
    for token in tokens(text):
        if token.lower() in names:
            runs[-1].append(token.lower())
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _subsequence(part: list[str], whole: list[str]) -> bool:
    it = iter(whole)
    return all(any(w == p for w in it) for p in part)


def sentence_case(title: str, evidence: str) -> str:
    """'Zelenskyy Agrees To Pause' -> 'Zelenskyy agrees to pause': words capitalised only for title case
    are lowered; names (capitalised inside the evidence's sentences) keep their capital."""
    names = names_in(evidence)
    words = title.split(" ")
    kept = [w if w.strip("“”\"'.,:;!?()").lower() in names or not w[:1].isupper() else w.lower() for w in words[1:]]
    return " ".join([words[0]] + kept)


def keeps_names_together(evidence: str, rewrite: str) -> bool:
    """Names the rewrite puts side by side stand that way (in that order) in the evidence, so
    "U.S. President Zelensky" cannot be made of "U.S. President Trump" and "President Zelensky"."""
    names = names_in(evidence)
    source_runs = _name_runs(evidence, names)
    return all(any(_subsequence(run, source) for source in source_runs)
               for run in _name_runs(rewrite, names) if len(run) > 1)


def _roles(text: str, names: set[str]) -> set[tuple[str, str, str]]:
    """(name, 'subject'|'object', verb stem) for names right before or after an action verb."""
    words = [t.lower() for t in tokens(text)]
    out = set()
    for k, token in enumerate(words):
        verb = next((v for v in _ROLE_VERBS if token.startswith(v)), None)
        if verb is None:
            continue
        for j in range(max(0, k - 2), k):
            if words[j] in names:
                out.add((words[j], "subject", verb))
        for j in range(k + 1, min(len(words), k + 3)):
            if words[j] in names:
                out.add((words[j], "object", verb))
    return out


def keeps_roles(source: str, rewrite: str) -> bool:
    """No name that acts in the source (Russia accused ...) is acted upon in the rewrite (... accused
    Russia), or the other way round."""
    names = {t.lower() for t in tokens(source) if t[0].isupper()}
    before, after = _roles(source, names), _roles(rewrite, names)
    flipped = {(n, "object" if r == "subject" else "subject", v) for n, r, v in after}
    return not {x for x in flipped if x in before and (x[0], "subject" if x[1] == "object" else "object", x[2])
                not in before}
