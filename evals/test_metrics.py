"""One test per metric: each aggregate must meet the threshold set for the backend from measured runs."""

from rag.evaluation.questions import EvalReport, check_threshold, thresholds_for

# Which questions to name when a metric fails.
CULPRITS = {
    "retrieval_recall": lambda r: r.answerable and (r.retrieval_recall or 0) < 1,
    "retrieval_mrr": lambda r: r.answerable and not r.reciprocal_rank,
    "fact_recall": lambda r: r.answerable and r.facts_found < r.facts_total,
    "abstention_accuracy": lambda r: not r.answerable and not r.abstained,
    "false_abstention_rate": lambda r: r.answerable and r.abstained,
    "quote_validity": lambda r: r.valid_quotes < r.citations,
    "citation_support": lambda r: r.answerable and not r.abstained and r.supporting_citations < r.citations,
    "citation_precision": lambda r: r.answerable and not r.abstained and r.gold_citations < r.citations,
    "citation_recall": lambda r: r.answerable and not r.abstained and not r.cites_gold,
}


def test_metric_meets_threshold(eval_report: EvalReport, metric: str):
    limit = thresholds_for(eval_report.backend)[metric]
    value = eval_report.metrics[metric]
    culprits = [r.id for r in eval_report.results if CULPRITS.get(metric, lambda r: False)(r)]
    assert check_threshold(metric, value, limit), (
        f"{metric} = {value} misses its threshold {limit} for {eval_report.backend}; "
        f"questions behind it: {', '.join(culprits) or 'n/a'}"
    )
