"""Scoring a briefing against hand-written gold (evals/gold/briefing.yaml): used by evals/test_briefing.py.

- key-fact coverage: a gold fact is covered if one of its phrasings appears in what the reader sees
  (the markdown: points, differences and the quotes under Sources);
- citation validity: every quote is re-located verbatim in its article, independently of the code
  that made it;
- source counts: each point's `independent_sources` equals the number of duplicate clusters among
  its citations (a translation never counts), and no point claims more sources than the gold fact its
  text states;
- discrepancy recall: a gold discrepancy is found if one briefing discrepancy quotes its sides from at
  least two duplicate clusters (same article, overlapping text) and mentions one of its keywords.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from rag.answer.citations import locate_quote
from rag.briefing.markdown import to_markdown
from rag.briefing.model import Briefing
from rag.text.words import normalise
from rag.store.store import Store

GOLD = Path(__file__).resolve().parents[2] / "evals" / "gold" / "briefing.yaml"


class GoldSide(BaseModel):
    article: str
    quote: str


class GoldFact(BaseModel):
    id: str
    about: str
    alternatives: list[str]
    articles: list[str]
    independent_sources: int


class GoldDiscrepancy(BaseModel):
    id: str
    about: str
    keywords: list[str]
    versions: list[GoldSide]


class BriefingScore(BaseModel):
    backend: str
    metrics: dict[str, float]
    covered: list[str] = Field(default_factory=list)
    missed: list[str] = Field(default_factory=list)
    found_discrepancies: list[str] = Field(default_factory=list)
    missed_discrepancies: list[str] = Field(default_factory=list)
    invalid_quotes: list[str] = Field(default_factory=list)
    miscounted: list[str] = Field(default_factory=list)
    overcounted: list[str] = Field(default_factory=list)


def load_gold(path: Path = GOLD) -> tuple[list[GoldFact], list[GoldDiscrepancy]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return ([GoldFact(**{k: v for k, v in f.items() if k != "passages"}) for f in data["key_facts"]],
            [GoldDiscrepancy(**d) for d in data["discrepancies"]])


def _has(text: str, phrases: list[str]) -> bool:
    folded = normalise(text).lower()
    return any(normalise(p).lower() in folded for p in phrases)


def score_briefing(briefing: Briefing, store: Store, path: Path = GOLD) -> BriefingScore:
    facts, discrepancies = load_gold(path)
    by_prefix = {Path(a.path).name[:3]: a for a in store.catalog.articles()}
    clusters = store.catalog.clusters()
    score = BriefingScore(backend=briefing.backend, metrics={})
    seen = to_markdown(briefing)
    for fact in facts:
        (score.covered if _has(seen, fact.alternatives) else score.missed).append(fact.id)
    quotes = [(c.article_id, c.quote, c.start, c.end) for p in briefing.all_points() for c in p.citations]
    quotes += [(v.article_id, v.quote, v.start, v.end) for d in briefing.discrepancies for v in d.versions]
    for article_id, quote, start, end in quotes:
        article = store.catalog.article(article_id)
        if article is None or article.text[start:end] != quote or locate_quote(article.text, quote) is None:
            score.invalid_quotes.append(f"{article_id}:{start}")
    points = briefing.all_points()
    for point in points:
        if point.independent_sources != len({clusters.get(c.article_id, c.article_id) for c in point.citations}):
            score.miscounted.append(point.text)
        for fact in facts:
            if _has(point.text, fact.alternatives) and \
                    point.independent_sources > fact.independent_sources and _states(point, fact, by_prefix):
                score.overcounted.append(f"{fact.id}: {point.text}")
    for gold in discrepancies:
        hit = any(_matches(d, gold, by_prefix, clusters) for d in briefing.discrepancies)
        (score.found_discrepancies if hit else score.missed_discrepancies).append(gold.id)
    total = max(1, len(quotes))
    score.metrics = {
        "key_fact_coverage": round(len(score.covered) / max(1, len(facts)), 4),
        "citation_validity": round((total - len(score.invalid_quotes)) / total, 4) if quotes else 0.0,
        "source_count_accuracy": round(1 - len(score.miscounted) / max(1, len(points)), 4),
        "source_overcount_rate": round(len(score.overcounted) / max(1, len(points)), 4),
        "discrepancy_recall": round(len(score.found_discrepancies) / max(1, len(discrepancies)), 4),
        "points": float(len(briefing.points)),
        "sections": float(len(briefing.sections)),
        "discrepancies": float(len(briefing.discrepancies)),
        "model_calls": float(briefing.calls),
        "prompt_tokens_per_call": round(briefing.usage.prompt_tokens / briefing.calls, 1) if briefing.calls else 0.0,
        "seconds": briefing.seconds,  # reported, never gated: speed belongs in benchmarks
    }
    return score


def _states(point, fact: GoldFact, by_prefix: dict) -> bool:
    """Whether a point's citations come from the gold fact's articles (so it states that fact)."""
    ids = {by_prefix[p].id for p in fact.articles if p in by_prefix}
    return any(c.article_id in ids for c in point.citations)


def _matches(found, gold: GoldDiscrepancy, by_prefix: dict, clusters: dict[str, str]) -> bool:
    """Gold sides from at least two duplicate clusters quoted (same article, overlapping text), and a gold
    keyword mentioned."""
    text = " ".join([found.about] + [v.text + " " + v.quote for v in found.versions])
    if not _has(text, gold.keywords):
        return False
    hit, sides = set(), set()
    for side in gold.versions:
        article = by_prefix.get(side.article)
        if article is None:
            continue
        sides.add(clusters.get(article.id, article.id))
        span = locate_quote(article.text, side.quote)
        if span and any(v.article_id == article.id and v.start < span[1] and span[0] < v.end for v in found.versions):
            hit.add(clusters.get(article.id, article.id))
    return len(hit) >= min(2, len(sides))


def write_briefing_reports(briefing: Briefing, score: BriefingScore, folder: Path) -> tuple[Path, Path]:
    """evals/reports/briefing-<backend>-latest.md (the briefing itself) and .json (the scores)."""
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / f"briefing-{briefing.backend}-latest.md"
    js = folder / f"briefing-{briefing.backend}-latest.json"
    md.write_text(to_markdown(briefing), encoding="utf-8")
    js.write_text(score.model_dump_json(indent=1), encoding="utf-8")
    return md, js
