"""Commands about what is stored: ingest, forget, articles, show, search."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from rag.commands.common import (_filters, _store, app, err, out,
                                 run_safely)
from rag.errors import at_least_one, require_words
from rag.types import source_name


@app.command()
def ingest(sources: Annotated[Optional[list[str]], typer.Argument(
               help="Files, folders or http(s) URLs of pages or feeds (default: seeds/).", show_default=False)] = None,
           url_list: Annotated[Optional[Path], typer.Option("--from", help="A file of URLs, one per line.")] = None,
           sync: Annotated[bool, typer.Option("--sync", help="Forget articles whose files under the folders are gone.")] = False,
           refresh: Annotated[bool, typer.Option("--refresh", help="Fetch pages again instead of reading the copies "
                                                                  "kept from an earlier ingest.")] = False,
           json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False) -> None:
    """Read articles (text, Markdown, HTML, RSS/Atom feeds, JSON Lines, PDF; files or URLs), chunk and embed
    them; unchanged ones are skipped."""
    from rag.ingest.pipeline import ingest_paths
    from rag.ingest.locking import write_lock
    from rag.ingest.reading import discover
    from rag.ingest.urls import is_url, read_url_list

    def work() -> None:
        given = sources or []
        urls = [s for s in given if is_url(s)] + (read_url_list(url_list) if url_list else [])
        targets = [Path(s) for s in given if not is_url(s)] or ([] if urls else [Path("seeds")])
        store = _store()
        with write_lock(store.settings.data_dir):
            files, _ = discover(targets)
            with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=err, disable=json_out or not err.is_terminal) as bar:
                task = bar.add_task("ingesting", total=len(files) + len(urls))
                report = ingest_paths(store, targets, lambda name, n: bar.update(task, advance=n, description=name),
                                      sync, urls=urls, refresh=refresh)
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
    """List the ingested articles: outlet, date, headline, and which are derived copies of which."""

    def work() -> None:
        from rag.store.listing import article_rows

        rows = article_rows(_store())
        names = {r["id"]: r["outlet"] or r["title"] or Path(r["path"]).name for r in rows}
        if json_out:
            out.print_json(json.dumps(rows))
            return
        table = Table("outlet", "date", "headline / file", "chunks", "derived copy of", "id")
        for r in rows:
            original = r["derived_from"]
            cells = (r["outlet"] or "unknown outlet", (r["date"] or "")[:10],
                     (r["title"] or Path(r["path"]).name)[:70], str(r["chunks"]),
                     f"{names.get(original, original)} ({original[:8]})" if original else "", r["id"][:8])
            table.add_row(*(Text(cell) for cell in cells))  # titles and outlets are data, never markup
        out.print(table)
        out.print(Text("`rag show ID` prints what was stored for one article (an id prefix of 4+ characters).",
                       style="dim"))

    run_safely(work)

@app.command()
def show(article: Annotated[str, typer.Argument(help="An article id (or a prefix of 4+ characters) or its file.")],
         json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print what rag stored for one article: its metadata and its text, as extracted."""

    def work() -> None:
        from rag.store.listing import article_record

        store = _store()
        found = store.find(article)
        meta = found.meta.model_dump()
        if json_out:
            print(json.dumps(article_record(found), ensure_ascii=False))
            return
        out.print(Text(source_name(found.meta.outlet, found.meta.title, found.meta.date), style="bold"))
        for key, value in {"id": found.id, "path": found.path, **meta}.items():
            if value not in (None, "", False):
                out.print(Text(f"{key:>11}: {value}", style="dim"))
        out.print()
        out.print(Text(found.text), highlight=False)

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
    from rag.store.listing import search_rows
    from rag.store.search import HybridRetriever

    def work() -> None:
        filters = _filters(outlet, since, until, per_cluster=1 if one_per_cluster else None)
        store = _store()
        docs = HybridRetriever.from_store(store, filters=filters).search(require_words(query), at_least_one(k, "-k"))
        if json_out:
            print(json.dumps(search_rows(docs)))
            return
        if not docs:
            out.print("No matching chunks." + ("" if store.catalog.count_chunks() else " The store is empty: run `rag ingest`."))
        for i, d in enumerate(docs, 1):
            m = d.metadata
            out.print(f"[bold]{i}. {escape(source_name(m['outlet'], m['title'], m['date']))}[/bold] "
                      f"[dim]· {m['article_id'][:8]} chars {m['start']}-{m['end']} score {m['score']:.4f}"
                      f"{' (derived copy)' if m['derived'] else ''}[/dim]")
            out.print(Text(d.page_content.strip()), highlight=False)
            out.print()

    run_safely(work)
