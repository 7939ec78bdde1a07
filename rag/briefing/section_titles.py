"""Section titles without a model: the phrase most typical of a section's facts."""

from __future__ import annotations

import math
import re

from rag.text.words import SPEECH_VERBS, STOP_WORDS, WEEKDAYS, normalise, stem, stems

# Words that make poor titles on their own or at a title's edge (stop words may stand inside one).
_GENERIC = STOP_WORDS | SPEECH_VERBS | set(WEEKDAYS) | set(
    "good additional agreed made make take taking according including however first last new another many much "
    "several three form way time day days week weeks month whose here yes spoke spoken talked met held gave came "
    "went got put set led".split())
_ADJECTIVE_END = re.compile(r"(?:ian|ive|al|ous|ful|ic|ed|ing|ly|ern|ish|ese)$", re.I)


def _grams(text: str) -> set[tuple[str, ...]]:
    """1-3 word phrases of a text that start and end with a content word."""
    words = re.findall(r"[A-Za-z][\w’'-]*", normalise(text))
    out = set()
    for size in (1, 2, 3):
        for k in range(len(words) - size + 1):
            gram = tuple(words[k : k + size])
            if {gram[0].lower(), gram[-1].lower()} & _GENERIC or not all(
                    stems(w) or w.lower() in STOP_WORDS for w in gram) or _ADJECTIVE_END.search(gram[-1]):
                continue
            out.add(gram)
    return out


def key_phrase(facts: list[list[str]], corpus: list[str], used: set[str]) -> str:
    """A section title without a model: the 1-3 word phrase most typical of the section's facts.

    A phrase scores by how many of the section's facts use it (each fact counts once, however many
    outlets repeat it) times its rarity in all claims; longer phrases get a small bonus. Phrases
    already used as titles are skipped.
    """
    def key(gram: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(stem(w.lower()) for w in gram)

    corpus_df: dict[tuple[str, ...], int] = {}
    for text in corpus:
        for g in {key(g) for g in _grams(text)}:
            corpus_df[g] = corpus_df.get(g, 0) + 1
    local: dict[tuple[str, ...], int] = {}
    surface: dict[tuple[str, ...], tuple[str, ...]] = {}
    for texts in facts:
        seen: set[tuple[str, ...]] = set()
        for text in texts:
            for g in _grams(text):
                surface.setdefault(key(g), g)
                seen.add(key(g))
        for g in seen:
            local[g] = local.get(g, 0) + 1
    n = len(corpus)
    least = 2 if len(facts) > 1 else 1

    def score(g: tuple[str, ...], count: int) -> float:
        names_only = all(w[:1].isupper() for w in surface[g])  # "United States" names no topic
        rarity = math.log((n + 1) / (corpus_df.get(g, 0) + 0.5))
        return count * rarity * (1 + 0.25 * (len(g) - 1)) * (0.5 if names_only else 1.0)

    scored = sorted(((score(g, count), g) for g, count in local.items() if count >= least), reverse=True)
    for _, g in scored:
        phrase = " ".join(surface[g])
        if phrase.lower() not in used:
            return phrase[0].upper() + phrase[1:]
    return "Other reports"
