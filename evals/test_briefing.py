"""Briefing evals: one briefing of the five seeds per session, scored against evals/gold/briefing.yaml.

Runs with the backend chosen by --backend (extractive by default; `--backend local` in CI). Limits
per backend are in evals/thresholds/briefing-<backend>.yaml, set from measured runs; seconds are
reported, never gated. The briefing and its scores are written to
evals/reports/briefing-<backend>-latest.{md,json}.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = ROOT / "evals" / "thresholds"


def _limits(backend: str) -> dict[str, float]:
    path = THRESHOLDS / f"briefing-{backend}.yaml"
    if not path.exists():
        pytest.skip(f"no briefing thresholds for the {backend} backend ({path.name})")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def briefed(eval_store, eval_backend):
    """(briefing, score, store): the seeds briefed once by the backend under test."""
    from rag.briefing.briefer import Briefer
    from rag.evaluation.briefing import score_briefing, write_briefing_reports

    store = eval_store
    briefing = Briefer(store, eval_backend).brief()
    score = score_briefing(briefing, store)
    write_briefing_reports(briefing, score, ROOT / "evals" / "reports")
    return briefing, score, store


@pytest.fixture(scope="session")
def limits(briefed) -> dict[str, float]:
    return _limits(briefed[0].backend)


def test_key_fact_coverage(briefed, limits):
    _, score, _ = briefed
    assert score.metrics["key_fact_coverage"] >= limits["key_fact_coverage"], f"missed: {score.missed}"


def test_every_quote_is_verbatim_in_its_article(briefed):
    _, score, _ = briefed
    assert score.metrics["citation_validity"] == 1.0, f"not verbatim: {score.invalid_quotes}"


def test_independent_sources_are_duplicate_clusters_not_articles(briefed, limits):
    briefing, score, store = briefed
    assert score.metrics["source_count_accuracy"] == 1.0, f"miscounted: {score.miscounted}"
    by_prefix = {Path(a.path).name[:3]: a.id for a in store.catalog.articles()}
    ap, translation = by_prefix["000"], by_prefix["002"]
    for point in briefing.all_points():
        ids = {c.article_id for c in point.citations}
        if translation in ids:  # the translation may be cited, but never adds a source
            others = {store.catalog.clusters()[i] for i in ids - {translation}}
            assert point.independent_sources == len(others | {ap}), point.text
    assert score.metrics["source_overcount_rate"] <= limits["source_overcount_rate"], \
        f"overcounted: {score.overcounted}"


def test_discrepancy_recall(briefed, limits):
    _, score, _ = briefed
    assert score.metrics["discrepancy_recall"] >= limits["discrepancy_recall"], \
        f"missed: {score.missed_discrepancies}; found: {score.found_discrepancies}"
    assert len(score.found_discrepancies) >= 3  # the bar: at least three real differences


def test_structure(briefed):
    briefing, _, _ = briefed
    assert briefing.headline and briefing.headline != "The articles don't say."
    assert 3 <= len(briefing.points) <= 6
    assert len(briefing.sections) >= 4 and all(s.points for s in briefing.sections)
    assert briefing.discrepancies and briefing.sources


def test_cost_in_model_calls_and_tokens(briefed, limits):
    """A small local model gets few, small calls (seconds are reported in the report, not gated)."""
    _, score, _ = briefed
    assert score.metrics["model_calls"] <= limits["model_calls"]
    assert score.metrics["prompt_tokens_per_call"] <= limits["prompt_tokens_per_call"]

