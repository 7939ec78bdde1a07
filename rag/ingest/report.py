"""What an ingest run did, per file and per article of a file that holds many, for people and for --json."""

from __future__ import annotations

from pydantic import BaseModel, Field
from rich.markup import escape

from rag.ingest.formats import DESCRIPTION

SHOWN_ENTRY_FAILURES = 5  # a feed of thousands of broken entries must not bury the report
# A file holding many articles takes the most telling status among them.
_PRECEDENCE = ("new", "changed", "renamed", "unchanged", "duplicate")


class EntryResult(BaseModel):
    """What happened to one article of a file that holds many (a feed entry, a JSON Lines record)."""

    key: str | None = Field(None, description="The entry's id, link or line number in the file.")
    status: str  # new | changed | unchanged | renamed | duplicate | failed | forgotten
    article_id: str | None = None
    chunks: int = 0
    reason: str | None = None


class FileResult(BaseModel):
    """What happened to one path."""

    path: str
    status: str  # new | changed | unchanged | renamed | duplicate | failed | unsupported | skipped | forgotten
    article_id: str | None = None
    chunks: int = 0
    reason: str | None = None
    note: str | None = Field(None, description="How a file not in UTF-8 was decoded.")
    articles: int = Field(0, description="Articles read from the file (a feed or an export holds many).")
    entries: list[EntryResult] = Field(default_factory=list, description="Each article of a file that holds many.")

    def summarise(self) -> None:
        """Status, chunks and reason of a file of many articles, from its entries."""
        ingested = [e for e in self.entries if e.status not in ("failed", "forgotten")]
        failed = [e for e in self.entries if e.status == "failed"]
        self.articles, self.chunks = len(ingested), sum(e.chunks for e in ingested)
        statuses = {e.status for e in ingested}
        self.status = next((s for s in _PRECEDENCE if s in statuses), "failed")
        if failed:
            shown = "; ".join(e.reason or "" for e in failed[:2]) + ("; ..." if len(failed) > 2 else "")
            self.reason = f"{len(failed)} of {len(failed) + len(ingested)} entries failed: {shown}"
        elif self.status == "renamed":
            moved = next(e.reason or "" for e in ingested if e.status == "renamed")
            self.reason = moved.rpartition("#")[0] or moved  # the file it was renamed from


class IngestReport(BaseModel):
    """The outcome of one ingest run."""

    files: list[FileResult]
    new_chunks: int
    removed_articles: int
    total_articles: int
    total_chunks: int
    duplicates: list[tuple[str, str, float]]

    @property
    def failed(self) -> list[FileResult]:
        """Files none of whose articles could be read."""
        return [f for f in self.files if f.status == "failed"]

    @property
    def nothing_read(self) -> bool:
        """No file could be read as an article and nothing was forgotten: the run did nothing useful."""
        return all(f.status in ("failed", "unsupported", "skipped") for f in self.files)

    def lines(self) -> list[str]:
        """The report for a terminal, one rich-markup line per file (and per failed entry of a file
        of many) and a summary; paths, reasons and article text are escaped."""
        out: list[str] = []
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        for f in self.files:
            out += _file_lines(f)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        out.append(f"{self.new_chunks} new chunks ({summary or 'no files'}); store: {self.total_articles} articles, "
                   f"{self.total_chunks} chunks" + (f"; {self.removed_articles} replaced" if self.removed_articles else ""))
        if self.nothing_read:
            out.append(f"Nothing to ingest: no file could be read as an article ({DESCRIPTION}).")
        elif self.new_chunks == 0 and counts.keys() <= {"unchanged", "duplicate", "unsupported"}:
            out.append("Nothing changed.")
        for derived, original, score in self.duplicates:
            out.append(f"[dim]near-duplicate: {escape(derived)} derives from {escape(original)} "
                       f"(coverage {score:.2f})[/dim]")
        return out


def _file_lines(f: FileResult) -> list[str]:
    if f.entries:
        return _many_lines(f)
    if f.status == "failed":
        return [f"[red]failed[/red]  {escape(f.path)}: {escape(f.reason or '')}"]
    if f.status in ("new", "changed"):
        note = escape(f"; {f.note}" if f.note else "")  # how a file not in UTF-8 was read
        return [f"[green]{f.status:8}[/green]{escape(f.path)} ({f.chunks} chunks{note})"]
    if f.status in ("duplicate", "unsupported", "renamed", "forgotten", "skipped"):
        label = {"renamed": "renamed", "forgotten": "forgot "}.get(f.status, "skipped")
        return [f"[yellow]{label}[/yellow] {escape(f.path)}: {escape(f.reason or '')}"]
    return []


def _many_lines(f: FileResult) -> list[str]:
    """A file of many articles: one line with its counts, then a line per failed entry (the first few)."""
    counts: dict[str, int] = {}
    for e in f.entries:
        counts[e.status] = counts.get(e.status, 0) + 1
    detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    note = f"; {f.note}" if f.note else ""
    what = f"{f.articles} article{'s' * (f.articles != 1)}: {detail}; {f.chunks} chunks{note}"
    colour = {"failed": "red", "new": "green", "changed": "green"}.get(f.status, "yellow")
    out = [f"[{colour}]{f.status:8}[/{colour}]{escape(f.path)} ({escape(what)})"]
    failed = [e for e in f.entries if e.status == "failed"]
    out += [f"  [red]failed[/red]  {escape(e.reason or '')}" for e in failed[:SHOWN_ENTRY_FAILURES]]
    if len(failed) > SHOWN_ENTRY_FAILURES:
        out.append(f"  [red]failed[/red]  ... and {len(failed) - SHOWN_ENTRY_FAILURES} more entries (see --json)")
    return out
