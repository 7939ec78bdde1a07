"""Near-duplicate detection: which articles retell another article sentence by sentence.

A translation or light rewrite shares few exact words with its original, so articles are compared
by meaning: each sentence is embedded, and an article counts as derived when most of its sentences
have a close counterpart in the other article that states the same facts. Closeness in meaning is
not enough: two reports written from one template ("a magnitude 6.1 quake struck Chile on Monday",
"a magnitude 5.4 quake struck Peru on Tuesday") are close sentence by sentence yet tell different
stories, so a pair of sentences that give different numbers, names or dates does not count.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.types import Article
from rag.store.embeddings import as_array
from rag.text.sentences import split_sentences
from rag.text.words import NUMBER_WORDS

MIN_WORDS = 6  # shorter sentences (headings, datelines) say too little to compare
MIN_SENTENCES = 3  # an article this short cannot be told apart from one that quotes the same lines
_BLOCK = 512  # sentences of one article compared at a time, so two long articles never need n x m floats

# --- the facts a sentence states: numbers and names (weekdays and months are names in English) ----------
_TOKEN = re.compile(
    r"(?P<number>\d+(?:[.,]\d+)*)"  # 6.1, 1,200, 2025
    r"|(?P<acronym>[^\W\d_](?:\.[^\W\d_])+\.?)"  # U.S., U.N
    r"|(?P<word>[^\W\d_]+(?:['’-][^\W\d_]+)*)"  # Zelenskyy’s, Jean-Pierre
)
_OPENING_QUOTES = ("\"", "'", "“", "‘", "«")
_NAME_KEY = 5  # leading letters that identify a word across inflection: Ukraine/Ukrainian, Russia/Russian
# A name spelt another way (a transliteration, a typo: Zelensky/Zelenskyy, Kirovohrad/Kirohrad) keeps
# its first letter and most of its letters; different names of one kind (Tuesday/Thursday, Chile/China,
# Iran/Iraq) share at most about four letters in five.
_SAME_SPELLING = 0.8


@dataclass(frozen=True)
class Facts:
    """What a sentence pins down: its numbers and its names (runs of capitalised words, lowercased),
    with the keys and words any of its words can be recognised by."""

    numbers: frozenset[str]
    names: tuple[tuple[str, ...], ...]
    keys: frozenset[str]  # leading letters of every word, and initials of every multi-word name
    words: frozenset[str]  # every word, lowercased


def _number(token: str) -> str:
    """One spelling per value: 1,200 -> 1200, 03 -> 3, 6.10 -> 6.1."""
    if "," in token and all(len(group) == 3 for group in token.split(",")[1:]):
        token = token.replace(",", "")
    if token.count(".") + token.count(",") > 1:
        return token
    return repr(float(token.replace(",", "."))).removesuffix(".0")


def _letters(token: str) -> str:
    """The word's letters, lowercased, without a possessive 's (Putin’s -> putin)."""
    token = re.sub(r"['’]s$", "", token.lower())
    return "".join(ch for ch in token if ch.isalpha())


def sentence_facts(sentence: str) -> Facts:
    """Numbers (digits or English number words) and names: capitalised words that are not capitalised
    only because they open the sentence or a quotation, nor the pronoun I."""
    numbers: set[str] = set()
    runs: list[list[str]] = []
    words: set[str] = set()
    previous_end, in_run = None, False
    for match in _TOKEN.finditer(sentence):
        token = match.group()
        gap = sentence[previous_end : match.start()] if previous_end is not None else ""
        opens = previous_end is None or gap.rstrip().endswith(_OPENING_QUOTES)
        previous_end, was_in_run, in_run = match.end(), in_run, False
        if match.lastgroup == "number":
            numbers.add(_number(token))
            continue
        word = _letters(token)
        if not word:  # letter-like numerals (Ⅻ) and the like
            continue
        words.add(word)
        if token.lower() in NUMBER_WORDS:
            numbers.add(NUMBER_WORDS[token.lower()])
        elif token[0].isupper() and not opens and token != "I":
            if was_in_run and not gap.strip():
                runs[-1].append(word)
            else:
                runs.append([word])
            in_run = True
    keys = {word[:_NAME_KEY] for word in words} | {"".join(w[0] for w in run) for run in runs if len(run) > 1}
    return Facts(frozenset(numbers), tuple(tuple(run) for run in runs), frozenset(keys), frozenset(words))


def _spelt_alike(word: str, others: frozenset[str]) -> bool:
    """Whether another word starts with the same letter and shares most letters, a final s (a plural,
    or a possessive that lost its apostrophe: Poutines ~ Putin) aside."""
    stem = word.removesuffix("s")
    return any(
        other[:1] == word[:1] and SequenceMatcher(None, stem, other.removesuffix("s")).ratio() > _SAME_SPELLING
        for other in others
    )


def _named_in(run: tuple[str, ...], other: Facts) -> bool:
    """Whether a name also appears in the other sentence: a word of it (in any case), its initials
    (United States ~ U.S.), or a word spelt alike."""
    if any(word[:_NAME_KEY] in other.keys for word in run):
        return True
    if len(run) > 1 and "".join(w[0] for w in run) in other.keys:
        return True
    return any(_spelt_alike(word, other.words) for word in run)


def _unmatched_names(a: Facts, b: Facts) -> bool:
    """Whether a names someone or something that b does not."""
    return any(not _named_in(run, b) for run in a.names)


def contradicts(a: Facts, b: Facts) -> bool:
    """Whether two close sentences say different things: each gives a number, or each a name, that the
    other lacks (a value put in place of another). A number or name one side merely leaves out is how
    a shortened copy or a loose translation reads, not a different story."""
    if (a.numbers - b.numbers) and (b.numbers - a.numbers):
        return True
    return _unmatched_names(a, b) and _unmatched_names(b, a)


def carries(original: Facts, derived: Facts) -> bool:
    """Whether a sentence states every number and name of another (so it supports what the other does)."""
    return derived.numbers <= original.numbers and not _unmatched_names(derived, original)


# --- sentence vectors and coverage ---------------------------------------------------------------------
def comparable_sentences(article: Article) -> list[str]:
    """The sentences compared between articles, in order (row i of the article's sentence vectors)."""
    sentences = [article.text[s.start : s.end] for s in split_sentences(article.text)]
    return [s for s in sentences if len(s.split()) >= MIN_WORDS]


Embed = Callable[[list[str]], np.ndarray]  # texts -> normalised rows, one per text


class SentenceVectors:
    """Per-article sentence embeddings, cached on disk by article id."""

    def __init__(self, folder: Path, embeddings: Embeddings) -> None:
        self.folder = folder
        self.embeddings = embeddings
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, article_id: str) -> Path:
        return self.folder / f"{article_id}.npy"

    def _embed(self, texts: list[str]) -> np.ndarray:
        return as_array(self.embeddings, texts) if texts else np.zeros((0, 1), dtype=np.float32)

    def get(self, article: Article) -> np.ndarray:
        path = self._path(article.id)
        if path.exists():
            try:
                return np.load(path)
            except (ValueError, OSError, EOFError):
                path.unlink(missing_ok=True)  # torn by an older version: recompute
        return self._save(article.id, self._embed(comparable_sentences(article)))

    def fill(self, articles: list[Article], embed: Embed | None = None) -> None:
        """Compute the vectors of every article not cached yet in one call of `embed` (default: the
        store's model), so many short articles share full batches."""
        missing = [a for a in articles if not self._path(a.id).exists()]
        sentences = [comparable_sentences(a) for a in missing]
        texts = [s for group in sentences for s in group]
        vectors = (embed or self._embed)(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        first = 0
        for article, group in zip(missing, sentences):
            self._save(article.id, vectors[first : first + len(group)])
            first += len(group)

    def _save(self, article_id: str, vectors: np.ndarray) -> np.ndarray:
        if len(vectors) == 0:
            vectors = np.zeros((0, 1), dtype=np.float32)
        path = self._path(article_id)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)  # a kill mid-write must not leave a torn cache file behind
        return vectors

    def forget(self, article_id: str) -> None:
        self._path(article_id).unlink(missing_ok=True)


def coverage(a: np.ndarray, b: np.ndarray, threshold: float,
             facts_a: list[Facts] | None = None, facts_b: list[Facts] | None = None) -> tuple[float, float]:
    """Share of a's sentences retold in b, and of b's in a.

    With facts given, a counterpart close in meaning must not contradict the sentence; and a sentence
    whose every close counterpart contradicts it (the same sentence with other numbers or names) is
    evidence of another story, so it cancels one retold sentence. A translation that garbles a name
    here and there stays a copy; reports from one template, whose sentences differ in exactly the
    numbers and names, do not become copies through their shared boilerplate.
    """
    if len(a) == 0 or len(b) == 0 or a.shape[1] != b.shape[1]:
        return 0.0, 0.0
    close_a, agree_a = np.zeros(len(a), dtype=bool), np.zeros(len(a), dtype=bool)
    close_b, agree_b = np.zeros(len(b), dtype=bool), np.zeros(len(b), dtype=bool)
    for first in range(0, len(a), _BLOCK):
        close = a[first : first + _BLOCK] @ b.T >= threshold
        if not close.any():
            continue  # the common case: nothing alike
        agree = close.copy()
        if facts_a is not None and facts_b is not None:
            for i, j in zip(*np.nonzero(close)):
                agree[i, j] = not contradicts(facts_a[first + i], facts_b[j])
        close_a[first : first + _BLOCK], agree_a[first : first + _BLOCK] = close.any(axis=1), agree.any(axis=1)
        close_b |= close.any(axis=0)
        agree_b |= agree.any(axis=0)

    def net(close: np.ndarray, agree: np.ndarray) -> float:
        return max(0.0, (np.count_nonzero(agree) - np.count_nonzero(close & ~agree)) / len(agree))

    return net(close_a, agree_a), net(close_b, agree_b)


def _original_first(a: Article, b: Article, cov_a: float, cov_b: float) -> tuple[Article, Article]:
    """(original, derived): a declared translation is derived, then the later, then the more covered one."""
    if a.meta.translation != b.meta.translation:
        return (b, a) if a.meta.translation else (a, b)
    if a.meta.date and b.meta.date and a.meta.date[:10] != b.meta.date[:10]:
        return (a, b) if a.meta.date < b.meta.date else (b, a)
    if abs(cov_a - cov_b) > 0.05:
        return (b, a) if cov_a > cov_b else (a, b)
    return (a, b) if (a.meta.date or "9", a.id) <= (b.meta.date or "9", b.id) else (b, a)


def find_duplicates(
    pairs: list[tuple[Article, Article]], vectors: SentenceVectors, similarity: float, min_coverage: float
) -> list[tuple[str, str, float]]:
    """(derived id, original id, coverage) for every pair where one article retells the other."""
    articles = list({a.id: a for pair in pairs for a in pair}.values())
    vectors.fill(articles)
    matrices = {a.id: vectors.get(a) for a in articles}
    facts = {a.id: [sentence_facts(s) for s in comparable_sentences(a)] for a in articles}
    links = []
    for a, b in pairs:
        if a.id == b.id or min(len(matrices[a.id]), len(matrices[b.id])) < MIN_SENTENCES:
            continue
        cov_a, cov_b = coverage(matrices[a.id], matrices[b.id], similarity, facts[a.id], facts[b.id])
        # Either side mostly retold by the other: a translation, a rewrite or a cut-down copy.
        if max(cov_a, cov_b) >= min_coverage:
            original, derived = _original_first(a, b, cov_a, cov_b)
            links.append((derived.id, original.id, round(max(cov_a, cov_b), 3)))
    return links
