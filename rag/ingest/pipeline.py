"""Ingesting files: new articles are chunked, embedded and stored; unchanged ones are left alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field
from rich.markup import escape

from rag.ingest.articles import build_article, load_sidecar
from rag.ingest.derived_copies import SentenceVectors, find_duplicates
from rag.errors import InputError
from rag.ingest.reading import discover, link_problem, read_article, resolved, unsupported
from rag.settings import Settings
from rag.store.embeddings import as_array
from rag.store.store import Store
from rag.types import Article

Progress = Callable[[str, float], None]  # (what is being done, share of one file just finished)
_STEP_BATCHES = 16  # embedding batches between two progress reports
_QUANTUM = 1024  # shares are reported in 1/1024ths of a file, which add up exactly in floating point


class _FileMeter:
    """One file's progress: reports shares of it that add up to exactly 1 when it is done."""

    def __init__(self, progress: Progress | None, name: str) -> None:
        self.progress, self.name, self.reported = progress, name, 0

    def to(self, share: float, what: str | None = None) -> None:
        """The file is `share` (0..1) done; `what` describes the step under way."""
        units = max(self.reported, min(_QUANTUM, int(share * _QUANTUM)))
        if self.progress and (units > self.reported or what):
            self.progress(what or self.name, (units - self.reported) / _QUANTUM)
        self.reported = units

    def finish(self) -> None:
        self.to(1.0)


def _in_steps(embed: Callable[[list[str]], Sequence], texts: list[str], step: int,
              done: Callable[[int], None]) -> list:
    """embed(texts) a slice of `step` texts at a time, shortest first, calling done(characters so far)
    after each; rows come back in the order of `texts`. With `step` a multiple of the model's batch
    size the batches, hence the vectors, are those of a single call."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    rows: list = [None] * len(texts)
    finished = 0
    for first in range(0, len(order), step):
        part = order[first : first + step]
        for i, row in zip(part, embed([texts[i] for i in part])):
            rows[i] = row
        finished += sum(len(texts[i]) for i in part)
        done(finished)
    return rows


def _step(store: Store) -> int:
    return getattr(store.embeddings, "batch_size", 8) * _STEP_BATCHES


class FileResult(BaseModel):
    """What happened to one path."""

    path: str
    status: str  # new | changed | unchanged | renamed | duplicate | failed | unsupported | forgotten
    article_id: str | None = None
    chunks: int = 0
    reason: str | None = None
    note: str | None = Field(None, description="How a file not in UTF-8 was decoded.")


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
        return [f for f in self.files if f.status == "failed"]

    @property
    def nothing_read(self) -> bool:
        """No file could be read as an article and nothing was forgotten: the run did nothing useful."""
        return all(f.status in ("failed", "unsupported") for f in self.files)

    def lines(self) -> list[str]:
        """The report for a terminal, one rich-markup line per file and a summary (article text escaped)."""
        out: list[str] = []
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        for f in self.files:
            if f.status == "failed":
                out.append(f"[red]failed[/red]  {escape(f.path)}: {escape(f.reason or '')}")
            elif f.status in ("new", "changed"):
                note = escape(f"; {f.note}" if f.note else "")  # how a file not in UTF-8 was read
                out.append(f"[green]{f.status:8}[/green]{escape(f.path)} ({f.chunks} chunks{note})")
            elif f.status in ("duplicate", "unsupported", "renamed", "forgotten"):
                label = {"renamed": "renamed", "forgotten": "forgot "}.get(f.status, "skipped")
                out.append(f"[yellow]{label}[/yellow] {escape(f.path)}: {escape(f.reason or '')}")
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        out.append(f"{self.new_chunks} new chunks ({summary or 'no files'}); store: {self.total_articles} articles, "
                   f"{self.total_chunks} chunks" + (f"; {self.removed_articles} replaced" if self.removed_articles else ""))
        if self.nothing_read:
            out.append("Nothing to ingest: no .txt, .md or .html file could be read.")
        elif self.new_chunks == 0 and counts.keys() <= {"unchanged", "duplicate", "unsupported"}:
            out.append("Nothing changed.")
        for derived, original, score in self.duplicates:
            out.append(f"[dim]near-duplicate: {escape(derived)} derives from {escape(original)} "
                       f"(coverage {score:.2f})[/dim]")
        return out


def build_store(settings: Settings, data_dir: Path, folder: Path, progress: Progress | None = None) -> Store:
    """A fresh store in `data_dir` holding every article of `folder` (the chat model stays where
    `settings` keep it, so it is not joined again for each new store)."""
    if not folder.is_dir():
        raise InputError(f"no folder of articles at {folder}")
    store = Store(settings.model_copy(update={"data_dir": data_dir, "model_dir": settings.models_path}))
    ingest_paths(store, [folder], progress)
    return store


def sentence_vectors(store: Store) -> SentenceVectors:
    return SentenceVectors(store.settings.data_dir / "sentences", store.embeddings)


def _read(path: Path, sidecars: dict[Path, dict], max_bytes: int, result: FileResult) -> Article:
    """The article in a file, with its folder's sidecar metadata (read once per folder); how a file not
    in UTF-8 was decoded goes into `result.note`."""
    folder = path.parent
    if folder not in sidecars:
        try:
            sidecars[folder] = load_sidecar(folder)
        except InputError as exc:
            sidecars[folder] = {"__error__": exc}
    if "__error__" in sidecars[folder]:
        raise sidecars[folder]["__error__"]
    text, result.note = read_article(path, max_bytes)
    return build_article(resolved(path), text, sidecars[folder].get(path.name))


def _embed_chunks(store: Store, article: Article, meter: _FileMeter) -> tuple[list, list]:
    """Chunks and their vectors; the meter moves through the share of the file that chunk vectors
    take (the rest is left for its sentence vectors, computed when looking for copies)."""
    meter.to(0.0, f"{meter.name}: chunking")
    chunks = store.chunk(article)
    texts = [c.text for c in chunks]
    chars = sum(len(t) for t in texts)
    share = chars / max(1, chars + len(article.text))

    def done(finished: int) -> None:
        meter.to(share * finished / max(1, chars), f"{meter.name}: embedding {len(texts)} chunks")

    return chunks, _in_steps(store.embeddings.embed_documents, texts, _step(store), done)


def _embed_sentences(store: Store, waiting: list[tuple[Article, _FileMeter]]) -> None:
    """Sentence vectors of the new articles, all in one stream of full batches; each file's meter moves
    from where chunk embedding left it to the end."""
    starts = [meter.reported / _QUANTUM for _, meter in waiting]

    def embed(texts: list[str]) -> np.ndarray:
        total = max(1, sum(len(t) for t in texts))

        def done(finished: int) -> None:
            for (_, meter), start in zip(waiting, starts):
                meter.to(start + (1 - start) * finished / total, f"finding copies: {len(texts)} sentences")

        rows = _in_steps(lambda part: as_array(store.embeddings, part), texts, _step(store), done)
        return np.array(rows, dtype=np.float32)

    sentence_vectors(store).fill([article for article, _ in waiting], embed)


def ingest_paths(store: Store, paths: list[Path], progress: Progress | None = None,
                 sync: bool = False) -> IngestReport:
    """Ingest files and folders; each file's fate is in the report, none stops the others. `progress`
    hears of each file's share as it goes, also during a long file's embedding. With `sync`, articles
    whose files were under one of the folders and are gone are forgotten."""
    files, problems = discover(paths)
    results = [FileResult(path=str(p), status="failed", reason=why) for p, why in problems]
    results += [FileResult(path=str(p), status="unsupported", reason=f"not an article file ({p.suffix or 'no suffix'}; "
                           "rag reads .txt, .md, .html)") for p in unsupported(paths)]
    sidecars: dict[Path, dict] = {}
    new_chunks = removed = 0
    max_bytes = int(store.settings.max_file_mb * 1e6)
    waiting: list[tuple[Article, _FileMeter]] = []  # new articles whose sentence vectors are still to come
    pairs: list[tuple[Article, Article]] = []  # (new article, an article close enough to be a copy or original)
    for path in files:
        result = FileResult(path=str(path), status="failed")
        results.append(result)
        meter = _FileMeter(progress, path.name)
        article = None
        try:
            article = _read(path, sidecars, max_bytes, result)
        except InputError as exc:
            result.reason = exc.message
        except Exception as exc:  # one bad file must not stop the run
            result.reason = f"{type(exc).__name__}: {exc}"
        if article is None:
            meter.finish()
            continue
        result.article_id = article.id
        key = article.path
        previous = store.catalog.article_for_path(key)
        if store.catalog.has_article(article.id) and store.catalog.is_embedded(article.id, store.vectors.name):
            result.status = "unchanged" if previous == article.id else "duplicate"
            if result.status == "duplicate":
                result.reason = "same text as an article already ingested"
                if moved_from := _paths_gone(store, article.id):
                    result.status, result.reason = "renamed", f"renamed from {moved_from[0]}"
            store.catalog.set_path(key, article.id)
        elif store.catalog.has_article(article.id):
            result.status, result.chunks = "unchanged", store.embed_existing(article.id)
            new_chunks += result.chunks
        else:
            chunks, vectors = _embed_chunks(store, article, meter)
            store.add(article, chunks, vectors)
            result.status, result.chunks = ("changed" if previous else "new"), len(chunks)
            new_chunks += len(chunks)
            if related := _related(store, article, vectors):
                waiting.append((article, meter))
                pairs += [(article, other) for other in related]
        if previous and previous != article.id and not [p for p in store.catalog.paths_of(previous) if p != key]:
            store.remove(previous)
            sentence_vectors(store).forget(previous)
            removed += 1
        if not waiting or waiting[-1][1] is not meter:
            meter.finish()
    if waiting:
        _embed_sentences(store, waiting)
    for _, meter in waiting:
        meter.finish()
    forgotten = forget_missing(store, [p for p in paths if p.is_dir()]) if sync else []
    results += [FileResult(path=path, status="forgotten", reason="the file is gone") for path in forgotten]
    present = set(store.catalog.article_ids())
    pairs = [(a, b) for a, b in pairs if a.id in present and b.id in present]  # not replaced later in the run
    if pairs:
        store.catalog.add_duplicates(find_duplicates(
            pairs, sentence_vectors(store), store.settings.duplicate_sentence_similarity,
            store.settings.duplicate_coverage,
        ))
    links = store.catalog.duplicates()
    return IngestReport(
        files=results, new_chunks=new_chunks, removed_articles=removed,
        total_articles=len(store.catalog.article_ids()), total_chunks=store.catalog.count_chunks(), duplicates=links,
    )


def _paths_gone(store: Store, article_id: str) -> list[str]:
    """Paths an article was ingested from whose files no longer exist; they are dropped (a rename)."""
    gone = [p for p in store.catalog.paths_of(article_id) if not Path(p).exists()]
    for path in gone:
        store.catalog.drop_path(path)
    return gone


def forget_missing(store: Store, folders: list[Path]) -> list[str]:
    """Forget what was ingested from files under these folders that are gone; returns their paths.
    An article also ingested from a path that still exists keeps that path."""
    roots = [resolved(folder) for folder in folders]
    gone = [(path, article_id) for path, article_id in store.catalog.paths()
            if any(Path(path).is_relative_to(root) for root in roots) and not Path(path).exists()]
    for path, article_id in gone:
        store.catalog.drop_path(path)
        if not store.catalog.paths_of(article_id):
            store.remove(article_id)
            sentence_vectors(store).forget(article_id)
    return [path for path, _ in gone]


def _related(store: Store, article: Article, vectors: list) -> list[Article]:
    """The stored articles that could be this one's original or copy: those holding a chunk close to one
    of its chunks. Only these are compared sentence by sentence, so an article on another subject costs
    no sentence vectors and the comparison does not grow with every pair in the store."""
    ids = store.vectors.neighbour_articles(vectors, article.id, store.settings.duplicate_chunk_similarity)
    return [other for other_id in sorted(ids) if (other := store.catalog.article(other_id)) is not None]


def forget(store: Store, target: str) -> list[str]:
    """Remove the article with this id (or id prefix) or ingested from this path; returns removed ids."""
    path = Path(target)
    by_path = None if link_problem(path) else store.catalog.article_for_path(str(resolved(path)))
    ids = [by_path] if by_path else []
    if not ids:
        ids = store.catalog.resolve_id(target) if len(target) >= 4 else []
    if not ids:
        raise InputError(f"no ingested article matches {target!r}", hint="see `rag articles` for ids")
    if len(ids) > 1:
        raise InputError(f"{target!r} matches {len(ids)} articles", hint="give more of the id")
    for article_id in ids:
        store.remove(article_id)  # its duplicate links go with it
        sentence_vectors(store).forget(article_id)
    return ids
