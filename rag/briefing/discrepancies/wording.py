"""Wording: a quotation reads differently in another outlet ("could be" vs "would be")."""

from __future__ import annotations

import difflib
import re

from rag.briefing.claims import ClaimSet
from rag.briefing.discrepancies.discrepancy import Discrepancy, Scope, version
from rag.text.words import join_hyphens, normalise, quotations, stem, stems

_WORDS = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def _tokens(text: str) -> list[str]:
    """Lower-case words; hyphenated words joined ('cease-fire' is 'ceasefire'), apostrophes kept."""
    return _WORDS.findall(join_hyphens(normalise(text).lower()))


def _edge_misfit(quote: list[str], window: list[str]) -> int:
    """Words a window has beyond the quote's ends, or lacks at them (a swapped end word is a fit)."""
    ops = difflib.SequenceMatcher(None, quote, window, autojunk=False).get_opcodes()
    misfit = 0
    for tag, i1, i2, j1, j2 in (ops[0], ops[-1]) if len(ops) > 1 else ops:
        if tag != "equal":
            misfit += abs((j2 - j1) - (i2 - i1))
    return misfit


def _best_window(quote: list[str], words: list[str]) -> tuple[list[str], list[str]]:
    """(window, matched words): the stretch of `words` sharing most words with the quote in order,
    then fitting its ends best, then closest to it in length."""
    best_key, best = None, (0, 0)
    for size in range(max(1, len(quote) - 3), len(quote) + 4):
        for start in range(0, max(1, len(words) - size + 1)):
            window = words[start : start + size]
            key = (len(_matched(quote, window)), -_edge_misfit(quote, window), -abs(size - len(quote)), -start)
            if best_key is None or key > best_key:
                best_key, best = key, (start, start + size)
    window = words[best[0] : best[1]]
    return window, _matched(quote, window)


def _matched(quote: list[str], window: list[str]) -> list[str]:
    blocks = difflib.SequenceMatcher(None, quote, window, autojunk=False).get_matching_blocks()
    return [w for b in blocks for w in quote[b.a : b.a + b.size]]


def _contains(words: list[str], part: list[str]) -> bool:
    return any(words[k : k + len(part)] == part for k in range(len(words) - len(part) + 1))


def _span_text(sentence: str, words: list[str]) -> str:
    """The original characters of a stretch of words (for display)."""
    pattern = r"\W+".join(re.escape(w) for w in words)
    match = re.search(pattern, join_hyphens(normalise(sentence)), re.I)
    return match.group(0) if match else " ".join(words)


def _reading(quote: list[str], other: str, min_content: int) -> tuple[str, list[str]] | None:
    """How another claim renders a quotation: (text to show, the words aligned with the quote).

    The text is the claim's own overlapping quotation if it has one, else the best-matching words."""
    for quoted in quotations(other):
        if len({stem(w) for w in _matched(quote, _tokens(quoted)) if stems(w)}) >= min_content:
            return quoted.strip(" ,."), _best_window(quote, _tokens(quoted))[0]
    window, _ = _best_window(quote, _tokens(other))
    return (_span_text(other, window), window) if window else None


def detect(cs: ClaimSet, scope: Scope) -> list[Discrepancy]:
    """Quotations that another outlet renders with different words; one discrepancy per quotation.

    One reading must not contain the other (a longer or shorter excerpt of the same words is no
    difference). Derived copies are left out: a translation rewords everything.
    """
    texts: dict[int, str] = {}
    links: list[set[int]] = []
    originals = [i for i, c in enumerate(cs.claims) if not c.derived]
    for i in originals:
        for quoted in quotations(cs.claims[i].text):
            quote = _tokens(quoted)
            if len(quote) < scope.quotation_min_words + 1:
                continue
            linked = {i}
            for j in originals:
                if not cs.independent(i, j) or len(stems(quoted) & cs.stems[j]) < scope.quotation_min_content:
                    continue
                found = _reading(quote, cs.claims[j].text, scope.quotation_min_content)
                if found is None:
                    continue
                reading, words = found
                matched = _matched(quote, words)
                ratio = difflib.SequenceMatcher(None, quote, words, autojunk=False).ratio()
                content = [w for w in matched if stems(w)]
                if ratio >= scope.wording_ratio and len(matched) >= scope.quotation_min_words and len(content) >= scope.quotation_min_content \
                        and not _contains(_tokens(cs.claims[j].text), quote) \
                        and not _contains(_tokens(cs.claims[i].text), _tokens(reading)):
                    linked.add(j)
                    texts.setdefault(j, reading)
            if len(linked) > 1:
                texts[i] = quoted.strip(" ,.")
                links.append(linked)
    return _merge_wordings(cs, links, texts)


def _merge_wordings(cs: ClaimSet, links: list[set[int]], texts: dict[int, str]) -> list[Discrepancy]:
    """Join linked claims into one discrepancy per quotation; one version per duplicate cluster."""
    merged: list[set[int]] = []
    for linked in links:
        touching = [m for m in merged if m & linked]
        for m in touching:
            merged.remove(m)
            linked = linked | m
        merged.append(linked)
    out = []
    for rows in merged:
        by_cluster: dict[str, int] = {}
        for row in sorted(rows, key=lambda r: cs.claims[r].position):
            by_cluster.setdefault(cs.claims[row].cluster, row)
        chosen = sorted(by_cluster.values(), key=lambda r: (cs.claims[r].date or "", r))
        if len({tuple(_tokens(texts[r])) for r in chosen}) < 2:
            continue
        head = " ".join(texts[chosen[0]].split()[:6])
        out.append(Discrepancy(about=f"Outlets quote “{head}…” in different words", kind="wording",
                               versions=[version(cs, r, texts[r]) for r in chosen]))
    return out
