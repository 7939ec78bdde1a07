"""Commands that answer from the articles: ask, chat, brief."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from rag.commands.common import (BackendOption, _answerer, _filters, _store, app, err, out,
                                 run_safely)
from rag.errors import InputError, RagError, require_words


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
