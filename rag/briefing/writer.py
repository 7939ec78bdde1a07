"""The few things a chat model writes in a briefing, each checked before it is used.

A small local model gets small calls, at most BriefingOptions.max_calls in all: key-point sentences
to shorten (several per call, within a tiktoken budget; quotations are never rewritten), one tiny
call per section title, one for the headline. Whatever it writes is kept only if its source supports
it (rag.citations.is_supported and rag.briefing.faithfulness); otherwise the article's own words stay.
Without a model, titles are key phrases (rag.briefing.section_titles) and the headline is a quote.
"""

from __future__ import annotations

import re
import time

from rag.answer.backends import Backend
from rag.answer.citations import is_supported
from rag.text.words import NEGATIONS, names_in, numbers, stems, tokens
from rag.types import Usage
from rag.store.embeddings import as_array
from rag.errors import RagError
from rag.briefing.faithfulness import keeps_meaning_markers, keeps_names_together, keeps_roles, sentence_case, words_of
from rag.briefing.grouping import stands_alone
from rag.llm.prompts import get_prompt
from rag.settings import BriefingSettings
from rag.store.store import Store

_NUMBERED = re.compile(r"^\s*(\d+)\s*[.):-]\s*(.+?)\s*$", re.M)
_QUOTATION = re.compile(r"[\"“”]")


def parse_numbered(content: str) -> dict[int, str]:
    """'1. text' lines as {1: 'text'}; quotes and markdown around a line are stripped."""
    out: dict[int, str] = {}
    for n, text in _NUMBERED.findall(content):
        out.setdefault(int(n), text.strip().strip('*"“”').strip())
    return out


class Writer:
    """Model calls of one briefing, with their cost and what was rejected."""

    def __init__(self, store: Store, backend: Backend, options: BriefingSettings) -> None:
        self.store = store
        self.backend = backend
        self.options = options
        self.calls = 0
        self.usage = Usage()
        self.dropped: list[str] = []
        self.notes: list[str] = []
        self.started = time.monotonic()

    def _call(self, prompt: str, max_tokens: int, **values: str) -> str | None:
        """The model's reply (at most `max_tokens`), or None when the call failed or the briefing's time
        for model calls is spent; a call may take no longer than the time that is left."""
        left = self.options.model_seconds - (time.monotonic() - self.started)
        if left <= self.options.min_call_seconds:
            self.notes.append(f"{prompt}: skipped, the model calls took longer than {self.options.model_seconds:.0f}s")
            return None
        # The client retries a timed-out call (settings.max_retries): all attempts together fit in the time left.
        timeout = left / (self.store.settings.max_retries + 1)
        self.calls += 1  # attempted calls: a failed one cost its time too
        try:
            reply = self.backend.complete(prompt, max_tokens, timeout, **values)
        except RagError as exc:  # a failed call leaves the verbatim text; the briefing still stands
            self.notes.append(f"{prompt}: the model call failed ({exc.message}); the article's words were kept")
            return None
        if reply is None:
            return None
        self.usage.add(reply.usage)
        return reply.text

    def _batches(self, prompt: str, items: list[str], per_call: int) -> list[list[int]]:
        """Indexes of items per call, so that each call's prompt stays within the token budget."""
        template = get_prompt(prompt)
        base = self.store.counter.count(template.system + template.user)
        batches: list[list[int]] = [[]]
        used = base
        for k, item in enumerate(items):
            cost = self.store.counter.count(item) + 4
            if batches[-1] and (used + cost > self.options.call_tokens or len(batches[-1]) >= per_call):
                batches.append([])
                used = base
            batches[-1].append(k)
            used += cost
        return [b for b in batches if b]

    # --- sentences ----------------------------------------------------------------------------
    def rewrite(self, points: list, max_calls: int) -> None:
        """Shorten each point's sentence, in at most `max_calls` calls (the first points first); keep the
        model's version only where its source supports it."""
        # Quotations stay verbatim: their exact words are the news, and a rewrite would turn a quote into a fact.
        points = [p for p in points if not _QUOTATION.search(p.citations[0].quote)]
        sources = [p.text.strip(" …") for p in points]  # what the point shows: maybe just a clause of its quote
        for batch in self._batches("brief_shorten", sources, per_call=8)[:max_calls]:
            listing = "\n".join(f"{n}. {sources[k]}" for n, k in enumerate(batch, 1))
            content = self._call("brief_shorten", self.options.tokens_per_line * len(batch), sentences=listing)
            if content is None:
                continue
            written = parse_numbered(content)
            for n, k in enumerate(batch, 1):
                text = written.get(n)
                if not text or len(text) >= len(sources[k]):
                    continue
                if self.faithful(sources[k], text):
                    points[k].text = text
                    points[k].written_by = "model"
                else:
                    self.dropped.append(text)

    def faithful(self, source: str, text: str) -> bool:
        """Whether a model sentence says only what its source sentence says."""
        vectors = as_array(self.store.embeddings, [text, source])
        o = self.options
        return (is_supported(text, [source], vectors[0], vectors[1:], "", o.rewrite_similarity, o.rewrite_max_novel)
                and keeps_meaning_markers(source, text) and keeps_names_together(source, text)
                and keeps_roles(source, text))

    # --- titles and headline ---------------------------------------------------------------------
    def titles(self, sections: list[list[str]], fallback: list[str], max_calls: int, corpus: str) -> list[str]:
        """One tiny call per section (the first `max_calls`), naming it from its lead sentences; a title
        must be a short label in the section's own words, not just names (as `corpus` writes them), else
        the key phrase stays."""
        out = list(fallback)
        names = names_in(corpus)
        for k, texts in enumerate(sections[:max_calls]):
            shown = " / ".join(" ".join(t.split()[:self.options.title_context_words]) for t in texts[:2])
            content = self._call("brief_titles", self.options.tokens_per_title, sentences=shown)
            if content is None:
                continue
            line = next((l for l in content.strip().splitlines() if l.strip()), "")
            title = sentence_case(line.strip().strip('*"“”').rstrip(".:"), " ".join(texts))
            if self._fits(title, texts, {t.lower() for j, t in enumerate(out) if j != k}, names):
                out[k] = title
            elif title:
                self.dropped.append(title)
        return out

    def _fits(self, title: str, texts: list[str], taken: set[str], names: set[str]) -> bool:
        """A model's section title: a short label in the section's own words, names as they stand there,
        no number or negation the section does not have, and not the title of another section."""
        text = " ".join(texts)
        own = set().union(*(stems(t) for t in texts))
        names_only = all(w.lower() in names for w in tokens(title))  # "President Trump" names no topic
        return (0 < len(title.split()) <= self.options.max_title_words and bool(stems(title)) and stems(title) <= own
                and not names_only and numbers(title) <= numbers(text) and keeps_names_together(text, title)
                and not (words_of(title) & NEGATIONS) and title.lower() not in taken)

    def headline(self, points: list) -> str:
        """The model's headline from the key points if they back it, else the shortest quote of the first point."""
        quotes = [" ".join(c.quote.split()) for c in points[0].citations if stands_alone(c.quote)]
        fallback = min(quotes or [points[0].text], key=len).rstrip(".")
        if not self.backend.writes:
            return fallback
        points = points[:self.options.headline_points]
        listing = "\n".join(f"- {p.text}" for p in points)
        content = self._call("brief_headline", self.options.tokens_per_line, points=listing)
        if not content:
            return fallback
        line = next((l for l in content.strip().splitlines() if l.strip()), "")
        evidence = [p.text for p in points] + [c.quote for p in points for c in p.citations]
        title = sentence_case(re.sub(r"^(?:#+\s*|headline:\s*)", "", line.strip(), flags=re.I).strip(' *"“”'),
                              " ".join(evidence))
        vectors = as_array(self.store.embeddings, [title] + evidence)
        adds_negation = bool(words_of(title) & NEGATIONS) and not words_of(" ".join(evidence)) & NEGATIONS
        if 0 < len(title.split()) <= self.options.max_headline_words and not adds_negation and is_supported(
                title, evidence, vectors[0], vectors[1:], "", self.options.rewrite_similarity,
                self.options.rewrite_max_novel) and keeps_names_together(" ".join(evidence), title) \
                and any(keeps_roles(e, title) for e in evidence[: len(points)]):
            return title
        self.dropped.append(title)
        return fallback
