"""Answering a question: condense -> retrieve -> pack context -> relevance gate -> backend -> verify.

Backends see numbered source sentences and cite them by number; quotes are therefore whole sentences
copied from the articles, and each is verified again (rag.answer.citations) before anyone sees it. A claim
its citations do not support is dropped; an answer left with no supported claim abstains.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from rag.answer.answerability import missing_names
from rag.answer.backends import Backend, Proposal
from rag.answer.citations import is_supported, verify_citation
from rag.types import Citation
from rag.answer.condense import condense
from rag.types import Turn
from rag.answer.context import Context, build_context
from rag.ingest.derived_copies import carries, sentence_facts
from rag.llm.prompts import NOT_IN_ARTICLES, mark
from rag.store.embeddings import as_array
from rag.store.search import HybridRetriever, SearchFilters
from rag.store.store import Store
from rag.text.sentences import split_sentences
from rag.types import Answer, Claim


class Answerer:
    """Answers questions over a Store with one backend; reuse it for many questions."""

    def __init__(self, store: Store, backend: Backend, filters: SearchFilters | None = None) -> None:
        self.store = store
        self.backend = backend
        self.settings = store.settings
        self.retriever = HybridRetriever.from_store(store, filters=filters or SearchFilters())
        self._sentence_cache: dict[str, tuple[list, np.ndarray]] = {}

    def ask(self, question: str, history: list[Turn] | None = None) -> Answer:
        """The verified answer."""
        *_, answer = self._steps(question, history or [], stream=False)
        return answer

    def stream(self, question: str, history: list[Turn] | None = None) -> Iterator[str | Answer]:
        """Yields draft text as the model writes it, then the verified Answer."""
        yield from self._steps(question, history or [], stream=True)

    def _steps(self, question: str, history: list[Turn], stream: bool) -> Iterator[str | Answer]:
        """The one path of ask and stream: drafts (when streaming), then the verified Answer."""
        started = time.perf_counter()
        standalone = condense(question, history, self.backend)
        context = build_context(self.store, self.retriever.invoke(standalone), self.store.counter,
                                self.settings.context_tokens, self.settings.duplicate_sentence_similarity)
        vector = as_array(self.store.embeddings, [standalone])[0]
        proposal = Proposal([], context)
        if self._relevant(standalone, context, vector):
            for step in self.backend.answer(standalone, context, vector, stream=stream):
                if isinstance(step, Proposal):
                    proposal = step
                else:
                    yield step
        answer = self._verify(question, standalone, proposal)
        answer.seconds = round(time.perf_counter() - started, 3)
        yield answer

    def _relevant(self, question: str, context: Context, vector: np.ndarray) -> bool:
        """Whether the context can answer at all: close enough in meaning and naming what is asked about."""
        if not context.sentences or missing_names(question, [s.text for s in context.sentences]):
            return False
        return float(np.max(context.vectors @ vector)) >= self.settings.min_relevance

    def _verify(self, question: str, standalone: str, proposal: Proposal) -> Answer:
        """Keep claims whose cited sentences exist and support them; build verified citations."""
        context, proposed = proposal.context, proposal.sentences
        index = context.by_sid()
        claim_vectors = as_array(self.store.embeddings, [t for t, _ in proposed]) if proposed else None
        citations: dict[tuple[str, int], Citation] = {}
        claims: list[Claim] = []
        dropped: list[str] = []
        for k, (text, sids) in enumerate(proposed):
            rows = [index[s] for s in dict.fromkeys(sids) if s in index]
            evidence = [context.sentences[r].text for r in rows]
            if not rows or not is_supported(text, evidence, claim_vectors[k], context.vectors[rows], standalone,
                                            self.settings.support_similarity, self.settings.support_max_novel):
                dropped.append(text)
                continue
            numbers = []
            for r in rows:
                citation = self._cite(context.sentences[r], len(citations) + 1, citations)
                if citation is not None:
                    numbers.append(citation.n)
            if numbers:
                claims.append(Claim(text=text, citations=list(dict.fromkeys(numbers))))
            else:
                dropped.append(text)
        used = list(citations.values())
        cluster_of = self.store.catalog.clusters()
        clusters = {cluster_of.get(c.article_id, c.article_id) for c in used}
        outlets = list(dict.fromkeys(c.outlet or "unknown outlet" for c in used))
        body = " ".join(f"{c.text} {''.join(mark(n) for n in c.citations)}" for c in claims)
        return Answer(
            question=question, standalone_question=standalone, answer=body or NOT_IN_ARTICLES, abstained=not claims,
            claims=claims, citations=used, dropped=dropped, independent_sources=len(clusters), outlets=outlets,
            backend=self.backend.name, model=self.backend.model, usage=proposal.usage,
        )

    def _cite(self, sentence, n: int, citations: dict) -> Citation | None:
        """A verified citation for a source sentence, moved to the original when it is from a derived copy."""
        target, also_in = self._original_of(sentence)
        key = (target.article_id, target.start)
        if key in citations:
            existing = citations[key]
            existing.also_in = list(dict.fromkeys(existing.also_in + also_in))
            return existing
        article = self.store.catalog.article(target.article_id)
        if article is None:
            return None
        citation = verify_citation(Citation(
            n=n, article_id=article.id, outlet=article.meta.outlet, title=article.meta.title, date=article.meta.date,
            quote=target.text, start=target.start, end=target.end, also_in=also_in,
        ), article.text)
        if citation is not None:
            citations[key] = citation
        return citation

    def _original_of(self, sentence):
        """(sentence to cite, derived ids): the original article's version when one matches closely and
        states every number and name of the derived sentence, so the moved quote still backs the claim."""
        if sentence.cluster == sentence.article_id:
            return sentence, []
        original = self.store.catalog.article(sentence.cluster)
        if original is None:
            return sentence, []
        if original.id not in self._sentence_cache:
            spans = split_sentences(original.text)
            self._sentence_cache[original.id] = (
                spans, as_array(self.store.embeddings, [original.text[s.start : s.end] for s in spans]))
        spans, vectors = self._sentence_cache[original.id]
        similarities = vectors @ as_array(self.store.embeddings, [sentence.text])[0]
        facts = sentence_facts(sentence.text)
        for best in np.argsort(-similarities, kind="stable"):
            if float(similarities[best]) < self.settings.duplicate_sentence_similarity:
                break
            span = spans[best]
            if carries(sentence_facts(original.text[span.start : span.end]), facts):
                moved = sentence.model_copy(update={
                    "article_id": original.id, "start": span.start, "end": span.end,
                    "text": original.text[span.start : span.end], "outlet": original.meta.outlet})
                return moved, [sentence.article_id]
        return sentence, []
