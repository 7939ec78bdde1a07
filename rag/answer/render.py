"""Printing answers for people: the answer with [n] markers, then each citation with its quote.

Everything taken from articles or the question (text, outlets, titles) is data, never rich markup,
so it is escaped: a title holding "[/bold]" must print as it is, not end the program.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from rag.types import Answer, source_name


def print_answer(console: Console, answer: Answer, show_question: bool = False) -> None:
    if show_question:
        console.print(f"[bold]Q: {escape(answer.question)}[/bold]", highlight=False)
    if answer.standalone_question != answer.question:
        console.print(f"[dim](understood as: {escape(answer.standalone_question)})[/dim]", highlight=False)
    style = "yellow" if answer.abstained else ""
    console.print(f"[{style}]{escape(answer.answer)}[/{style}]" if style else escape(answer.answer), highlight=False)
    for c in answer.citations:
        copies = escape(", ".join(a[:8] for a in c.also_in))
        also = f" [dim](also in {copies}, a derived copy)[/dim]" if c.also_in else ""
        console.print(f"  [bold]\\[{c.n}][/bold] {escape(source_name(c.outlet, c.title, c.date))} "
                      f"[dim]· {escape(c.article_id[:8])} chars {c.start}-{c.end}[/dim]{also}", highlight=False)
        console.print(f"      “{escape(' '.join(c.quote.split()))}”", highlight=False)
    if not answer.abstained:
        n = answer.independent_sources
        console.print(f"[dim]Backed by {n} independent source{'s' if n != 1 else ''}: "
                      f"{escape(', '.join(answer.outlets))}[/dim]", highlight=False)
    if answer.dropped:
        console.print(f"[dim]{len(answer.dropped)} sentence(s) removed: their citations did not support them.[/dim]")
    console.print(f"[dim]{escape(f'{answer.backend} · {answer.model}')} · {answer.seconds:.1f}s · "
                  f"{answer.usage.prompt_tokens}+{answer.usage.completion_tokens} tokens[/dim]")


SOURCES_HEADING = "\n\nSources:\n"


def plain_answer(answer: Answer) -> str:
    """The answer as plain text for chat clients: the sentences with [n] markers, then each numbered source
    with its quote (what `print_answer` shows, without terminal markup)."""
    if not answer.citations:
        return answer.answer
    return answer.answer + SOURCES_HEADING + "\n".join(
        f"[{c.n}] {source_name(c.outlet, c.title, c.date)}: “{' '.join(c.quote.split())}”" for c in answer.citations)
