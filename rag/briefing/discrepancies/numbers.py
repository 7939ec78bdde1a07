"""Numbers: two accounts of the same thing give different quantities of the same noun (175 vs hundreds)."""

from __future__ import annotations

import re

from rag.briefing.claims import ClaimSet
from rag.briefing.discrepancies.discrepancy import Discrepancy, Scope, close_pairs, version
from rag.text.words import NUMBER_WORDS, STOP_WORDS, VAGUE_AMOUNTS, normalise, stem

_QUANTITY = re.compile(
    r"\b(\d[\d,.]*|" + "|".join([*NUMBER_WORDS, *VAGUE_AMOUNTS]) + r")(?:-[a-z]+)?\s+((?:[a-z][\w']*\s*){1,3})",
    re.I)


def counted(text: str) -> list[tuple[str, str, str]]:
    """(noun stem, amount, the words as written) for each quantity of a noun: '175 prisoners'."""
    folded = normalise(text)
    out = []
    for match in _QUANTITY.finditer(folded):
        amount = match.group(1).lower().replace(",", "").rstrip(".")
        amount = NUMBER_WORDS.get(amount, amount)
        if re.fullmatch(r"(1[89]|20)\d\d", amount):
            continue  # a year
        for word in re.finditer(r"[A-Za-z][\w']*", match.group(2)):
            if word.group(0).lower() in STOP_WORDS:  # "hundreds of the prisoners"
                continue
            out.append((stem(word.group(0).lower()), amount, folded[match.start() : match.start(2) + word.end()]))
            break
    return out


def quantities(text: str) -> dict[str, set[str]]:
    """Quantity words per noun stem that follows them: '175 prisoners' -> {'prisoner': {'175'}}."""
    out: dict[str, set[str]] = {}
    for noun, amount, _ in counted(text):
        out.setdefault(noun, set()).add(amount)
    return out


def number_conflict(a: str, b: str) -> dict[str, tuple[set[str], set[str]]]:
    """Nouns both texts count, with different and no shared quantities."""
    qa, qb = quantities(a), quantities(b)
    return {noun: (qa[noun], qb[noun]) for noun in qa.keys() & qb.keys() if not qa[noun] & qb[noun]}


def conflicts(a: str, b: str) -> bool:
    """Whether two texts count the same thing differently."""
    return bool(number_conflict(a, b))


def detect(cs: ClaimSet, scope: Scope) -> list[Discrepancy]:
    """Close, mutually best-matching claims of different outlets that count the same noun differently."""
    out = []
    for i, j in close_pairs(cs, scope.pair_threshold):
        for noun, (qa, qb) in sorted(number_conflict(cs.claims[i].text, cs.claims[j].text).items()):
            said = {row: "; ".join(p for n, _, p in counted(cs.claims[row].text) if n == noun) for row in (i, j)}
            word = next(w for w in re.findall(r"[A-Za-z][\w']*", said[i]) if stem(w.lower()) == noun)
            out.append(Discrepancy(
                about=f"How many {word.lower()}: {' / '.join(sorted(qa))} or {' / '.join(sorted(qb))}", kind="numbers",
                versions=[version(cs, i, said[i]), version(cs, j, said[j])]))
    return out
