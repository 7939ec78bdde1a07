"""Briefings: a cited summary of many articles that shows what is corroborated and where outlets differ.

Map: every informative sentence of every article is a candidate claim (rag.briefing.claims), quoted verbatim
with its offsets. Reduce: claims that say the same thing across articles become facts; a fact counts
its independent sources as duplicate clusters, so a translation of AP is not a second source
(rag.briefing.grouping). Facts are clustered into sections. Discrepancies are found between claims of
different outlets (rag.briefing.discrepancies). A chat model, when there is one, only shortens sentences,
names sections and writes the headline, in a few small calls (rag.briefing.writer); whatever it
writes must pass the same support check as an answer, or the verbatim sentence is used instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rag.answer.answerability import missing_names
from rag.types import Article
from rag.answer.citations import verify_citation
from rag.types import Citation
from rag.briefing.claims import ClaimSet, order_articles
from rag.briefing.model import Briefing, Point, Section, Source
from rag.briefing.discrepancies import Discrepancy, conflicts, find_discrepancies, title_discrepancies
from rag.store.embeddings import as_array
from rag.errors import InputError
from rag.briefing.grouping import Fact, group_facts, importance, representative, sections, shared_clause, stands_alone
from rag.answer.backends import Backend
from rag.llm.prompts import NOT_IN_ARTICLES
from rag.store.search import HybridRetriever, SearchFilters
from rag.settings import BriefingSettings
from rag.store.store import Store


@dataclass
class Draft:
    """A briefing before the model's touches: facts chosen, sections formed, sentences verbatim."""

    claims: ClaimSet
    facts: list[Fact]
    key: list[int]
    sections: list[list[int]]
    flagged: frozenset[int] = frozenset()  # claims with a detected error: never the sentence a fact shows


class Citations:
    """Numbers citations across a briefing, one per quoted sentence, each verified against its article."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_key: dict[tuple[str, int], Citation] = {}
        self._articles: dict[str, Article | None] = {}

    def cite(self, claim) -> Citation | None:
        key = (claim.article_id, claim.start)
        if key in self.by_key:
            return self.by_key[key]
        if claim.article_id not in self._articles:
            self._articles[claim.article_id] = self.store.catalog.article(claim.article_id)
        article = self._articles[claim.article_id]
        if article is None:
            return None
        citation = verify_citation(Citation(
            n=len(self.by_key) + 1, article_id=claim.article_id, outlet=claim.outlet, title=claim.title,
            date=article.meta.date,
            quote=claim.text, start=claim.start, end=claim.end, also_in=list(claim.also_in),
        ), article.text)
        if citation is not None:
            self.by_key[key] = citation
        return citation


class Briefer:
    """Writes briefings over a Store with one backend."""

    def __init__(self, store: Store, backend: Backend, options: BriefingSettings | None = None) -> None:
        self.store = store
        self.backend = backend
        self.options = options or store.settings.briefing

    def brief(self, topic: str | None = None, filters: SearchFilters | None = None) -> Briefing:
        started = time.perf_counter()
        filters = filters or SearchFilters()
        articles = self._articles(filters)
        clusters = self.store.catalog.clusters()
        claims = ClaimSet.build(order_articles(articles, clusters), clusters, self.store.embeddings,
                                self.store.settings.duplicate_sentence_similarity, self.options.same_claim_cosine,
                                self.options.claim_min_words)
        if topic:
            claims = self._on_topic(claims, topic, filters)
        briefing = Briefing(headline=NOT_IN_ARTICLES, topic=topic, backend=self.backend.name, model=self.backend.model,
                            sources=self._sources(articles, clusters))
        if claims.claims:
            draft = self.draft(claims)
            self._assemble(briefing, draft)
        briefing.independent_sources = len({clusters.get(s.article_id, s.article_id) for s in briefing.sources})
        briefing.seconds = round(time.perf_counter() - started, 3)
        return briefing

    # --- selecting ----------------------------------------------------------------------------
    def _articles(self, filters: SearchFilters) -> list[Article]:
        articles = self.store.catalog.articles()
        if filters.restricts_articles():
            allowed = set(self.store.catalog.filter_ids(filters.outlets, filters.since, filters.until))
            articles = [a for a in articles if a.id in allowed]
        if not articles:
            raise InputError("no ingested article matches", hint="run `rag ingest` or loosen --outlet / --since")
        return articles

    def _on_topic(self, claims: ClaimSet, topic: str, filters: SearchFilters) -> ClaimSet:
        """Only claims inside chunks retrieved for the topic and close to it in meaning."""
        retriever = HybridRetriever.from_store(self.store, filters=filters)
        docs = retriever.search(topic, self.options.topic_chunks)
        spans = [(d.metadata["article_id"], d.metadata["start"], d.metadata["end"]) for d in docs]
        if not docs or missing_names(topic, [d.page_content for d in docs]):
            return claims.subset([])
        vector = as_array(self.store.embeddings, [topic])[0]
        closeness = claims.vectors @ vector if claims.claims else np.zeros(0)
        keep = [c.row for c in claims.claims
                if closeness[c.row] >= self.options.topic_similarity
                and any(a == c.article_id and c.start < e and s < c.end for a, s, e in spans)]
        return claims.subset(keep)

    # --- reducing -----------------------------------------------------------------------------
    def draft(self, claims: ClaimSet) -> Draft:
        """Facts, key points and sections, before any model writes a word."""
        o = self.options
        rows = {(c.article_id, c.start): c.row for c in claims.claims}
        flagged = frozenset(rows[(d.versions[0].article_id, d.versions[0].start)] for d in title_discrepancies(claims))
        facts = group_facts(claims, o.same_claim, conflicts)
        # A fact whose best sentence needs the one before it ("We will not go for it.") cannot be shown.
        facts = [f for f in facts if stands_alone(claims.claims[representative(claims, f, flagged)].text)]
        groups = sections(claims, facts, o.max_sections, o.section_merge, o.section_join)
        key = self._key_points(facts, groups)
        listed = []
        for group in groups:
            rest = [k for k in group if k not in key]
            rest.sort(key=lambda k: importance(facts[k]))
            if rest:
                listed.append(rest[: o.facts_per_section])
        return Draft(claims=claims, facts=facts, key=key, sections=listed, flagged=flagged)

    def _key_points(self, facts: list[Fact], groups: list[list[int]]) -> list[int]:
        """The most important facts: first the best corroborated fact of each section reported in the
        upper half of its articles, then the next best corroborated facts, at most a few per section."""
        o = self.options
        section_of = {k: g for g, group in enumerate(groups) for k in group}
        ranked = sorted(range(len(facts)), key=lambda k: importance(facts[k]))
        corroborated = [k for k in ranked if facts[k].independent_sources >= 2]
        key: list[int] = []
        for limit, deepest in ((1, 0.5), (o.points_per_section, 1.0)):
            for k in corroborated:
                taken = sum(section_of.get(j, -1) == section_of.get(k, -1) for j in key)
                if len(key) < o.max_points and k not in key and taken < limit and facts[k].depth <= deepest:
                    key.append(k)
        for k in ranked:  # too little is corroborated: the most important single reports
            if len(key) >= o.min_points:
                break
            if k not in key:
                key.append(k)
        return sorted(key, key=lambda k: importance(facts[k]))

    def _point(self, draft: Draft, k: int, citations: Citations) -> Point | None:
        """A fact as a point: its representative sentence, cited with every claim that reports it."""
        fact = draft.facts[k]
        lead = representative(draft.claims, fact, draft.flagged)
        rows = [lead] + [r for r in fact.rows if r != lead]
        cited = [c for c in (citations.cite(draft.claims.claims[r]) for r in rows) if c is not None]
        if not cited or cited[0].quote != draft.claims.claims[lead].text:
            return None  # the sentence is not in its article as stated: never show it
        clusters = self.store.catalog.clusters()
        return Point(text=shared_clause(draft.claims, lead, rows[1:], self.options.clause_gain), citations=cited,
                     outlets=list(dict.fromkeys(c.outlet or "unknown outlet" for c in cited)),
                     independent_sources=len({clusters.get(c.article_id, c.article_id) for c in cited}))

    def _assemble(self, briefing: Briefing, draft: Draft) -> None:
        from rag.briefing.writer import Writer
        from rag.briefing.section_titles import key_phrase

        citations = Citations(self.store)
        points = [p for p in (self._point(draft, k, citations) for k in draft.key) if p is not None]
        sections_points = [[p for p in (self._point(draft, k, citations) for k in group) if p is not None]
                           for group in draft.sections]
        by_fact = [[[draft.claims.claims[r].text for r in draft.facts[k].rows] for k in group]
                   for group in draft.sections]
        corpus = [c.text for c in draft.claims.claims]
        titles: list[str] = []
        for facts_texts in by_fact:
            titles.append(key_phrase(facts_texts, corpus, {t.lower() for t in titles}))
        texts = [[p.citations[0].quote for p in ps] for ps in sections_points]
        writer = Writer(self.store, self.backend, self.options)
        if self.backend.writes:
            # The call budget: one for the headline, one per section title, the rest for shortening.
            per_section = self.options.rewrite_per_section
            shortening = max(1, self.options.max_calls - 1 - len(texts))
            writer.rewrite(points + [p for ps in sections_points for p in ps[:per_section]], max_calls=shortening)
            titles = writer.titles(texts, titles, self.options.max_calls - 1 - writer.calls, " ".join(corpus))
        briefing.points = points
        briefing.sections = [Section(title=t, points=ps) for t, ps in zip(titles, sections_points) if ps]
        briefing.headline = writer.headline(points) if points else NOT_IN_ARTICLES
        shown = set(draft.key) | {k for group in draft.sections for k in group}
        briefing.discrepancies = self._differences(draft, shown, citations)
        briefing.dropped, briefing.notes = writer.dropped, writer.notes
        briefing.calls, briefing.usage = writer.calls, writer.usage

    def _differences(self, draft: Draft, shown: set[int], citations: Citations) -> list[Discrepancy]:
        """Discrepancies whose every side is a verified quote, each side cited like the points."""
        o = self.options
        found = find_discrepancies(draft.claims, draft.facts, shown, o)
        by_span = {(c.article_id, c.start): c for c in draft.claims.claims}
        out = []
        for d in found:
            versions = []
            for v in d.versions:
                citation = citations.cite(by_span[(v.article_id, v.start)])
                if citation is not None and citation.quote == v.quote:
                    versions.append(v.model_copy(update={"n": citation.n}))
            if len(versions) == len(d.versions):
                out.append(d.model_copy(update={"versions": versions}))
        return out

    def _sources(self, articles: list[Article], clusters: dict[str, str]) -> list[Source]:
        return [Source(article_id=a.id, outlet=a.meta.outlet, title=a.meta.title, date=a.meta.date,
                       derived_from=clusters.get(a.id) if clusters.get(a.id, a.id) != a.id else None)
                for a in order_articles(articles, clusters)]
