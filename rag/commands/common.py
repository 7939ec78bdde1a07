"""What every `rag` command shares: the Typer app, the consoles, settings, the store and error handling."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from rag.errors import RagError, iso_date
from rag.settings import load_settings


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
