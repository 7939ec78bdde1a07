"""The eval suite: one run of the gold questions per session, shared by every metric test.

Options: --backend extractive|local|openai (default extractive, or RAG_EVAL_BACKEND) and
--subset NAME from evals/subsets.yaml (or RAG_EVAL_SUBSET; default all questions).
The gold corpora of evals/gold/corpora/ (test_corpora.py) always run with the extractive backend,
once per corpus per session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.evaluation.questions import EvalReport, load_baseline, load_gold, load_subset, run_eval, thresholds_for, write_reports

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", default=os.environ.get("RAG_EVAL_BACKEND", "extractive"),
                     help="Backend the evals run against: extractive, local or openai.")
    parser.addoption("--subset", default=os.environ.get("RAG_EVAL_SUBSET") or None,
                     help="Named subset of questions from evals/subsets.yaml.")


def _backend(config: pytest.Config) -> str:
    return config.getoption("--backend")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    backend = _backend(metafunc.config)
    if "metric" in metafunc.fixturenames:
        metafunc.parametrize("metric", sorted(thresholds_for(backend)))
    if "baseline_id" in metafunc.fixturenames:
        passing = sorted(q for q, ok in load_baseline(backend).items() if ok)
        metafunc.parametrize("baseline_id", passing or [None])


_REPORT: dict[str, EvalReport] = {}
_CORPUS_REPORTS: dict[str, EvalReport] = {}


def _eval_settings():
    from rag.settings import Settings

    base = Settings()
    return base.model_copy(update={"model_dir": base.model_dir or base.cache_dir / "models"})


@pytest.fixture(scope="session")
def eval_store(tmp_path_factory: pytest.TempPathFactory):
    """A fresh store with the seeds ingested, shared by the question and briefing evals (read only)."""
    from rag.ingest.pipeline import build_store

    return build_store(_eval_settings(), tmp_path_factory.mktemp("evals"), ROOT / "seeds")


@pytest.fixture(scope="session")
def corpus_report():
    """corpus name -> its EvalReport with the extractive backend (every question, both splits), run once
    per session on a fresh store of the corpus's reference texts; the reports are written like `rag eval`'s."""
    from rag.evaluation.corpora import load_corpus_gold, run_corpus

    def report(name: str) -> EvalReport:
        if name not in _CORPUS_REPORTS:
            _CORPUS_REPORTS[name] = run_corpus(_eval_settings(), "extractive", name, load_corpus_gold(name))
            write_reports(_CORPUS_REPORTS[name])
        return _CORPUS_REPORTS[name]

    return report


@pytest.fixture(scope="session")
def eval_backend(request: pytest.FixtureRequest, eval_store):
    """The backend under test (--backend), opened once per session: one local server for every eval."""
    from rag.answer.backends import open_backend

    backend = open_backend(eval_store.settings, _backend(request.config))
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def eval_report(request: pytest.FixtureRequest, eval_store, eval_backend) -> EvalReport:
    """Answer every gold question on the seeded store, score and write the reports."""
    from rag.answer.answerer import Answerer

    subset = request.config.getoption("--subset")
    report = run_eval(Answerer(eval_store, eval_backend), load_gold(ids=load_subset(subset) if subset else None))
    write_reports(report)
    _REPORT["latest"] = report
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Print where each metric stands, whatever the outcome."""
    for report in _CORPUS_REPORTS.values():
        _corpus_summary(terminalreporter, report)
    report = _REPORT.get("latest")
    if report is None:
        return
    limits = thresholds_for(report.backend)
    terminalreporter.section(f"rag evals: {report.backend} ({report.model}), {report.questions} questions")
    for metric, value in report.metrics.items():
        limit = limits.get(metric)
        terminalreporter.write_line(f"{metric:24} {value:>9}" + (f"   threshold {limit}" if limit is not None else ""))
    failing = report.failing()
    terminalreporter.write_line(f"{report.questions - len(failing)}/{report.questions} questions pass; "
                                f"reports in evals/reports/{report.backend}-latest.md and .json")


def _corpus_summary(terminalreporter, report: EvalReport) -> None:
    """A gold corpus's metrics per split: dev is asserted against the goals, test only printed."""
    from rag.evaluation.questions import metric_columns

    columns = metric_columns(report)
    limits = thresholds_for(report.backend, report.corpus)
    terminalreporter.section(f"rag evals on {report.corpus}: {report.backend}, {report.questions} questions")
    terminalreporter.write_line(f"{'metric':24}" + "".join(f"{name:>9}" for name, _ in columns) + "   goal")
    for metric in report.metrics:
        limit = limits.get(metric)
        terminalreporter.write_line(f"{metric:24}" + "".join(f"{values[metric]:>9}" for _, values in columns)
                                    + (f"   {limit}" if limit is not None else ""))
    terminalreporter.write_line(f"reports in evals/reports/{report.backend}-{report.corpus}-latest.md and .json")
