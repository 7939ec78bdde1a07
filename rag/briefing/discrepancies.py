"""Where the reports differ: cheap, checkable detectors over the claims of several outlets.

Each detector compares claims from different duplicate clusters (a translation never disagrees with
its original) and returns the sides verbatim:
- numbers: two accounts of the same thing give different quantities of the same noun (175 vs hundreds);
- wording: a quotation reads differently in another outlet ("could be" vs "would be");
- title: a person's title carries a status word in one outlet only ("Former U.S. President");
- attribution: the same proposal is credited to different owners ("Russia's offer" vs "Trump's plan");
- single source: a notable claim (a number or a quotation) that only one outlet makes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from pydantic import BaseModel, Field

from rag.answer.citations import normalise
from rag.briefing.claims import ClaimSet, stem, stems
from rag.briefing.grouping import Fact, mutual_best

_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
                 "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15",
                 "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100"}
_VAGUE = ("dozens", "hundreds", "thousands", "millions", "several", "numerous", "scores")
_QUANTITY = re.compile(
    r"\b(\d[\d,.]*|" + "|".join(list(_NUMBER_WORDS) + list(_VAGUE)) + r")(?:-[a-z]+)?\s+((?:[a-z][\w']*\s*){1,3})",
    re.I)
_QUOTED = re.compile(r"“([^“”]{12,}?)”|\"([^\"]{12,}?)\"")
_WORDS = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_STATUS = r"(?P<status>[Ff]ormer|[Ee]x-|[Ll]ate|[Aa]cting|[Ii]nterim|[Oo]utgoing)"
_TITLE = (r"(?P<title>(?:[A-Z][\w.]*\s+){0,2}?(?:President|Prime Minister|Chancellor|Secretary of State|Minister|"
          r"Governor|Senator|King|Queen|Ambassador|Director|Mayor|Speaker))")
_NAME = r"(?P<name>(?:[A-Z][\w’'-]+\s+){0,2}[A-Z][\w’'-]+)"
_STATUS_TITLE = re.compile(_STATUS + r"\s+" + _TITLE + r"\s+" + _NAME)
_NAMED_SPEAKER = re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+(?:,[^,]{3,80},)? (?:said|says|told|stated|wrote)\b")
_RARE = 3.0  # IDF of a name few claims use: shared by two outlets, it means they report the same thing
_OWNER = re.compile(r"\b([A-Z][\w.]+)['’]s\s+(offer|plan|proposal|idea|deal|initiative|demands?|conditions?)\b")


class Version(BaseModel):
    """One outlet's side of a discrepancy: what it says, and the verbatim sentence that says it."""

    text: str = Field(description="The part that differs (a number, the quoted words) or the claim.")
    outlet: str | None
    article_id: str
    quote: str
    start: int
    end: int
    also_in: list[str] = Field(default_factory=list)
    n: int | None = Field(None, description="Its citation number in the briefing's sources.")


class Discrepancy(BaseModel):
    about: str
    kind: str = Field(description="numbers | wording | title | attribution | single_source")
    versions: list[Version]


def _version(cs: ClaimSet, row: int, text: str) -> Version:
    c = cs.claims[row]
    return Version(text=text, outlet=c.outlet, article_id=c.article_id, quote=c.text, start=c.start, end=c.end,
                   also_in=c.also_in)


def _counted(text: str) -> list[tuple[str, str, str]]:
    """(noun stem, amount, the words as written) for each quantity of a noun: '175 prisoners'."""
    folded = normalise(text)
    out = []
    for match in _QUANTITY.finditer(folded):
        amount = match.group(1).lower().replace(",", "").rstrip(".")
        amount = _NUMBER_WORDS.get(amount, amount)
        if re.fullmatch(r"(1[89]|20)\d\d", amount):
            continue  # a year
        for word in re.finditer(r"[A-Za-z][\w']*", match.group(2)):
            if word.group(0).lower() in ("of", "the", "a", "more", "than", "about", "some"):
                continue
            out.append((stem(word.group(0).lower()), amount, folded[match.start() : match.start(2) + word.end()]))
            break
    return out


def quantities(text: str) -> dict[str, set[str]]:
    """Quantity words per noun stem that follows them: '175 prisoners' -> {'prisoner': {'175'}}."""
    out: dict[str, set[str]] = {}
    for noun, amount, _ in _counted(text):
        out.setdefault(noun, set()).add(amount)
    return out


def number_conflict(a: str, b: str) -> dict[str, tuple[set[str], set[str]]]:
    """Nouns both texts count, with different and no shared quantities."""
    qa, qb = quantities(a), quantities(b)
    return {noun: (qa[noun], qb[noun]) for noun in qa.keys() & qb.keys() if not qa[noun] & qb[noun]}


def conflicts(a: str, b: str) -> bool:
    return bool(number_conflict(a, b))


def _pairs(cs: ClaimSet, threshold: float) -> Iterable[tuple[int, int]]:
    """Claim pairs from different clusters that are close and each other's best match."""
    n = len(cs.claims)
    for i in range(n):
        for j in range(i + 1, n):
            if cs.independent(i, j) and cs.scores[i, j] >= threshold and mutual_best(cs, i, j):
                yield i, j


def number_discrepancies(cs: ClaimSet, threshold: float) -> list[Discrepancy]:
    out = []
    for i, j in _pairs(cs, threshold):
        for noun, (qa, qb) in sorted(number_conflict(cs.claims[i].text, cs.claims[j].text).items()):
            said = {row: "; ".join(p for n, _, p in _counted(cs.claims[row].text) if n == noun) for row in (i, j)}
            word = next(w for w in re.findall(r"[A-Za-z][\w']*", said[i]) if stem(w.lower()) == noun)
            out.append(Discrepancy(
                about=f"How many {word.lower()}: {' / '.join(sorted(qa))} or {' / '.join(sorted(qb))}", kind="numbers",
                versions=[_version(cs, i, said[i]), _version(cs, j, said[j])]))
    return out


def _tokens(text: str) -> list[str]:
    """Lower-case words; hyphenated words joined ('cease-fire' is 'ceasefire'), apostrophes kept."""
    folded = re.sub(r"(?<=[a-z])-(?=[a-z])", "", normalise(text).lower())
    return _WORDS.findall(folded)


def quotations(text: str) -> list[str]:
    """Quoted passages: curly quotes pair with each other, straight quotes in order."""
    return [a or b for a, b in _QUOTED.findall(text)]


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
    folded = re.sub(r"(?<=[a-z])-(?=[a-z])", "", normalise(sentence), flags=re.I)
    match = re.search(pattern, folded, re.I)
    return match.group(0) if match else " ".join(words)


def _reading(quote: list[str], other: str, min_content: int) -> tuple[str, list[str]] | None:
    """How another claim renders a quotation: (text to show, the words aligned with the quote).

    The text is the claim's own overlapping quotation if it has one, else the best-matching words."""
    for quoted in quotations(other):
        if len({stem(w) for w in _matched(quote, _tokens(quoted)) if stems(w)}) >= min_content:
            return quoted.strip(" ,."), _best_window(quote, _tokens(quoted))[0]
    window, _ = _best_window(quote, _tokens(other))
    return (_span_text(other, window), window) if window else None


def wording_discrepancies(cs: ClaimSet, min_ratio: float, min_words: int = 3,
                          min_content: int = 2) -> list[Discrepancy]:
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
            if len(quote) < min_words + 1:
                continue
            linked = {i}
            for j in originals:
                if not cs.independent(i, j) or len(stems(quoted) & cs.stems[j]) < min_content:
                    continue
                found = _reading(quote, cs.claims[j].text, min_content)
                if found is None:
                    continue
                reading, words = found
                matched = _matched(quote, words)
                ratio = difflib.SequenceMatcher(None, quote, words, autojunk=False).ratio()
                content = [w for w in matched if stems(w)]
                if ratio >= min_ratio and len(matched) >= min_words and len(content) >= min_content \
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
                               versions=[_version(cs, r, texts[r]) for r in chosen]))
    return out


def title_discrepancies(cs: ClaimSet) -> list[Discrepancy]:
    """A status word ('former') before a title that other outlets use for the same person without it."""
    out = []
    for i, claim in enumerate(cs.claims):
        for match in _STATUS_TITLE.finditer(claim.text):
            title, surname = match.group("title").split()[-1], match.group("name").split()[-1]
            plain = re.compile(rf"(?<!{match.group('status')} )\b(?:[A-Z][\w.]*\s+){{0,2}}{re.escape(title)}\s+"
                               rf"(?:[A-Z][\w’'-]+\s+){{0,2}}{re.escape(surname)}\b")
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
                    versions=[_version(cs, i, said)] + [_version(cs, j, plain.search(cs.claims[j].text).group(0))
                                                        for j in others.values()]))
    return out


def attribution_discrepancies(cs: ClaimSet, threshold: float) -> list[Discrepancy]:
    """The same proposal credited to different owners by two close, mutually best-matching claims."""
    out = []
    for i, j in _pairs(cs, threshold):
        owners_i = {(o, stem(k.lower())) for o, k in _OWNER.findall(normalise(cs.claims[i].text))}
        owners_j = {(o, stem(k.lower())) for o, k in _OWNER.findall(normalise(cs.claims[j].text))}
        if owners_i and owners_j and not {o for o, _ in owners_i} & {o for o, _ in owners_j}:
            said_i = ", ".join(f"{o}'s {k}" for o, k in sorted(_OWNER.findall(normalise(cs.claims[i].text))))
            said_j = ", ".join(f"{o}'s {k}" for o, k in sorted(_OWNER.findall(normalise(cs.claims[j].text))))
            out.append(Discrepancy(about=f"Whose proposal it was: {said_i} or {said_j}", kind="attribution",
                                   versions=[_version(cs, i, said_i), _version(cs, j, said_j)]))
    return out


def _names_in(text: str) -> set[str]:
    """Stems of the capitalised words inside a sentence (not its first word): names of people and places."""
    return {stem(m.group(1).lower()) for m in re.finditer(r"(?<=[\w,;:’'”\"]\s)([A-Z][a-z]+)", text)}


def single_source_discrepancies(cs: ClaimSet, facts: list[Fact], shown: set[int], limit: int, taken: set[int],
                                unrelated_below: float) -> list[Discrepancy]:
    """Shown facts that one outlet alone reports, with a number, a quotation or a named speaker,
    nearest the top of their article first.

    A claim counts as single-source only if no other outlet has a claim near it in meaning and none
    counts the same thing the same way; claims already part of another difference are skipped.
    """
    candidates = []
    for k in shown:
        fact = facts[k]
        row = fact.rows[0]
        claim = cs.claims[row]
        notable = re.search(r"\d", claim.text) or quotations(claim.text) or _NAMED_SPEAKER.search(claim.text)
        if fact.weight > 1 or row in taken or not notable:
            continue
        others = [j for j in range(len(cs.claims)) if cs.independent(row, j)]
        counted = {(n, a) for n, a, _ in _counted(claim.text)}
        rare = {n for n in _names_in(claim.text) if cs.idf.get(n, 0.0) >= _RARE}
        if any(cs.scores[row, j] >= unrelated_below or counted & {(n, a) for n, a, _ in _counted(cs.claims[j].text)}
               or rare & _names_in(cs.claims[j].text) for j in others):
            continue  # another outlet reports something close, counts the same thing or names the same place
        candidates.append((claim.depth, claim.position, row))
    out = []
    for _, _, row in sorted(candidates)[:limit]:
        claim = cs.claims[row]
        out.append(Discrepancy(about=f"Found only in {claim.outlet or 'one outlet'}", kind="single_source",
                               versions=[_version(cs, row, claim.text)]))
    return out


def find_discrepancies(cs: ClaimSet, facts: list[Fact], shown: set[int], pair_threshold: float,
                       wording_ratio: float, single_source_limit: int) -> list[Discrepancy]:
    """Every kind of difference, the ones with two sides first, without repeating a pair of claims."""
    found = (title_discrepancies(cs) + number_discrepancies(cs, pair_threshold)
             + wording_discrepancies(cs, wording_ratio) + attribution_discrepancies(cs, pair_threshold))
    seen: set[frozenset] = set()
    out = []
    for d in found:
        key = frozenset((v.article_id, v.start) for v in d.versions)
        if key not in seen:
            seen.add(key)
            out.append(d)
    rows = {(c.article_id, c.start): c.row for c in cs.claims}
    taken = {rows[(v.article_id, v.start)] for d in out for v in d.versions}
    return out + single_source_discrepancies(cs, facts, shown, single_source_limit, taken, 0.85 * pair_threshold)

