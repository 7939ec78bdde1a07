"""Per-question regression: every question that passes in the committed baseline must still pass.

The baseline (evals/baseline/<backend>.json) changes only through `rag eval --update-baseline`.
"""

import pytest

from rag.evaluation.questions import EvalReport


def test_question_still_passes(eval_report: EvalReport, baseline_id: str | None):
    if baseline_id is None:
        pytest.skip(f"no baseline recorded for {eval_report.backend}")
    result = next((r for r in eval_report.results if r.id == baseline_id), None)
    if result is None:
        pytest.skip(f"{baseline_id} is not in this run's subset")
    assert result.passed, (
        f"{baseline_id} passed in the baseline but now fails: {'; '.join(result.reasons)}. "
        f"Question: {result.question!r}. Answer: {result.answer[:200]!r}"
    )
