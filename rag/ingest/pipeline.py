"""Ingesting files: new articles are chunked, embedded and stored; unchanged ones are left alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.errors import InputError
from rag.ingest.articles import article_from, load_sidecar
from rag.ingest.derived_copies import SentenceVectors, find_duplicates
from rag.ingest.formats import DESCRIPTION
from rag.ingest.formats.base import Extracted
from rag.ingest.progress import FileMeter, Meter, Progress, in_steps
from rag.ingest.reading import discover, entry_path, file_of, link_problem, read_source, resolved, unsupported
from rag.ingest.report import EntryResult, FileResult, IngestReport
from rag.settings import Settings
from rag.store.embeddings import as_array
from rag.store.store import Store
from rag.types import Article

_STEP_BATCHES = 16  # embedding batches between two progress reports


def _step(store: Store) -> int:
    return getattr(store.embeddings, "batch_size", 8) * _STEP_BATCHES


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


def _sidecar(path: Path, sidecars: dict[Path, dict]) -> dict:
    """The sidecar entry for a file, its folder's sources.yaml read once per run."""
    folder = path.parent
    if folder not in sidecars:
        try:
            sidecars[folder] = load_sidecar(folder)
        except InputError as exc:
            sidecars[folder] = {"__error__": exc}
    if "__error__" in sidecars[folder]:
        raise sidecars[folder]["__error__"]
    return sidecars[folder].get(path.name) or {}


def _embed_chunks(store: Store, article: Article, meter: Meter) -> tuple[list, list]:
    """Chunks and their vectors; the meter moves through the share of the file that chunk vectors
    take (the rest is left for its sentence vectors, computed when looking for copies)."""
    meter.to(0.0, f"{meter.name}: chunking")
    chunks = store.chunk(article)
    texts = [c.text for c in chunks]
    chars = sum(len(t) for t in texts)
    share = chars / max(1, chars + len(article.text))

    def done(finished: int) -> None:
        meter.to(share * finished / max(1, chars), f"{meter.name}: embedding {len(texts)} chunks")

    return chunks, in_steps(store.embeddings.embed_documents, texts, _step(store), done)


def _embed_sentences(store: Store, waiting: list[tuple[Article, Meter]]) -> None:
    """Sentence vectors of the new articles, all in one stream of full batches; each file's meter moves
    from where chunk embedding left it to the end."""
    starts = [meter.share for _, meter in waiting]

    def embed(texts: list[str]) -> np.ndarray:
        total = max(1, sum(len(t) for t in texts))

        def done(finished: int) -> None:
            for (_, meter), start in zip(waiting, starts):
                meter.to(start + (1 - start) * finished / total, f"finding copies: {len(texts)} sentences")

        rows = in_steps(lambda part: as_array(store.embeddings, part), texts, _step(store), done)
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
                           f"rag reads {DESCRIPTION})") for p in unsupported(paths)]
    run = _Run(store)
    sidecars: dict[Path, dict] = {}
    max_bytes = int(store.settings.max_file_mb * 1e6)
    unfinished: list[FileMeter] = []  # files with articles waiting for their sentence vectors
    for path in files:
        result = FileResult(path=str(path), status="failed")
        results.append(result)
        meter, waited = FileMeter(progress, path.name), len(run.waiting)
        try:
            sidecar = _sidecar(path, sidecars)
            read = read_source(path, max_bytes)  # before resolving: a symlink loop is named as such
            run.ingest_file(str(resolved(path)), read, sidecar, result, meter)
        except InputError as exc:
            result.reason = exc.message
        except Exception as exc:  # one bad file must not stop the run
            result.reason = f"{type(exc).__name__}: {exc}"
        if len(run.waiting) == waited:
            meter.finish()
        else:
            unfinished.append(meter)
    if run.waiting:
        _embed_sentences(store, run.waiting)
    for meter in [m for _, m in run.waiting] + unfinished:
        meter.finish()
    forgotten = forget_missing(store, [p for p in paths if p.is_dir()]) if sync else []
    results += [FileResult(path=path, status="forgotten", reason="the file is gone") for path in forgotten]
    present = set(store.catalog.article_ids())
    pairs = [(a, b) for a, b in run.pairs if a.id in present and b.id in present]  # not replaced later in the run
    if pairs:
        store.catalog.add_duplicates(find_duplicates(
            pairs, sentence_vectors(store), store.settings.duplicate_sentence_similarity,
            store.settings.duplicate_coverage,
        ))
    links = store.catalog.duplicates()
    return IngestReport(
        files=results, new_chunks=run.new_chunks, removed_articles=run.removed,
        total_articles=len(store.catalog.article_ids()), total_chunks=store.catalog.count_chunks(), duplicates=links,
    )


class _Run:
    """One ingest run's work on the store: articles added, replaced and forgotten, and the new ones
    still waiting for their sentence vectors (computed together at the end, in full batches)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.new_chunks = self.removed = 0
        self.waiting: list[tuple[Article, Meter]] = []  # new articles whose sentence vectors are still to come
        self.pairs: list[tuple[Article, Article]] = []  # (new article, an article close enough to be a copy or original)

    def ingest_file(self, file: str, read: list[Extracted], sidecar: dict, result: FileResult, meter: FileMeter) -> None:
        """Store what was read from one file: a lone article under the file's path, each of many under
        '<file>#<key>'; articles the file held before and holds no more are forgotten, unless some of
        its entries could not be read this time (they may be those)."""
        if len(read) == 1 and read[0].key is None:
            extracted = read[0]
            result.note = extracted.note
            if extracted.problem:
                raise InputError(extracted.problem)
            entry = self.ingest_article(article_from(extracted, file, sidecar), meter)
            result.status, result.article_id, result.chunks, result.reason = (
                entry.status, entry.article_id, entry.chunks, entry.reason)
            result.articles = 1
            self.forget_entries(file, keep={file})
            return
        result.note = next((e.note for e in read if e.note), None)
        for index, extracted in enumerate(read):
            part = meter.part(index, len(read))
            if extracted.problem:
                result.entries.append(EntryResult(key=extracted.key, status="failed", reason=extracted.problem))
                part.finish()
                continue
            article = article_from(extracted, entry_path(file, extracted.key), sidecar)
            entry = self.ingest_article(article, part)
            entry.key = extracted.key
            result.entries.append(entry)
            if not self.waiting or self.waiting[-1][1] is not part:
                part.finish()
        if not [e for e in result.entries if e.status == "failed"]:
            kept = {entry_path(file, e.key) for e in read}
            result.entries += [EntryResult(key=path.rpartition("#")[2] or None, status="forgotten",
                                           reason="no longer in the file") for path in self.forget_entries(file, kept)]
        result.summarise()

    def ingest_article(self, article: Article, meter: Meter) -> EntryResult:
        """Store one article under its path: new text is chunked and embedded, the same text is only
        recorded, and the article the path held before goes unless another path holds it too."""
        store, key = self.store, article.path
        entry = EntryResult(status="failed", article_id=article.id)
        previous = store.catalog.article_for_path(key)
        if store.catalog.has_article(article.id) and store.catalog.is_embedded(article.id, store.vectors.name):
            entry.status = "unchanged" if previous == article.id else "duplicate"
            if entry.status == "duplicate":
                entry.reason = "same text as an article already ingested"
                if moved_from := _paths_gone(store, article.id):
                    entry.status, entry.reason = "renamed", f"renamed from {moved_from[0]}"
            store.catalog.set_path(key, article.id)
        elif store.catalog.has_article(article.id):
            entry.status, entry.chunks = "unchanged", store.embed_existing(article.id)
            self.new_chunks += entry.chunks
        else:
            chunks, vectors = _embed_chunks(store, article, meter)
            store.add(article, chunks, vectors)
            entry.status, entry.chunks = ("changed" if previous else "new"), len(chunks)
            self.new_chunks += len(chunks)
            if related := _related(store, article, vectors):
                self.waiting.append((article, meter))
                self.pairs += [(article, other) for other in related]
        if previous and previous != article.id and self.drop(key, previous, keep_path=True):
            self.removed += 1
        return entry

    def drop(self, path: str, article_id: str, keep_path: bool = False) -> bool:
        """Forget that `path` holds the article (unless `keep_path`: it now holds another); the article
        goes when no other path holds it. Returns whether it went."""
        if not keep_path:
            self.store.catalog.drop_path(path)
        if [p for p in self.store.catalog.paths_of(article_id) if p != path]:
            return False
        self.store.remove(article_id)
        sentence_vectors(self.store).forget(article_id)
        return True

    def forget_entries(self, file: str, keep: set[str]) -> list[str]:
        """Forget the articles recorded for this file under other paths than `keep`; returns those paths."""
        gone = [(path, article_id) for path, article_id in self.store.catalog.paths(file)
                if path not in keep and file_of(path) == file]
        for path, article_id in gone:
            self.drop(path, article_id)
        return [path for path, _ in gone]


def _paths_gone(store: Store, article_id: str) -> list[str]:
    """Paths an article was ingested from whose files no longer exist; they are dropped (a rename)."""
    gone = [p for p in store.catalog.paths_of(article_id) if not Path(file_of(p)).exists()]
    for path in gone:
        store.catalog.drop_path(path)
    return gone


def forget_missing(store: Store, folders: list[Path]) -> list[str]:
    """Forget what was ingested from files under these folders that are gone (every article of a feed
    or export among them); returns their paths. An article also ingested from a path that still exists
    keeps that path."""
    roots = [resolved(folder) for folder in folders]
    gone = [(path, article_id) for path, article_id in store.catalog.paths()
            if any(Path(path).is_relative_to(root) for root in roots) and not Path(file_of(path)).exists()]
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
    """Remove the article with this id (or id prefix) or ingested from this path (every article of a
    feed or export; one of them as '<path>#<key>'); returns removed ids."""
    path = Path(target)
    file = None if link_problem(path) else str(resolved(path))
    by_path = list(dict.fromkeys(article_id for recorded, article_id in store.catalog.paths(file)
                                 if file in (recorded, file_of(recorded)))) if file else []
    ids = by_path or (store.catalog.resolve_id(target) if len(target) >= 4 else [])
    if not ids:
        raise InputError(f"no ingested article matches {target!r}", hint="see `rag articles` for ids")
    if len(ids) > 1 and not by_path:
        raise InputError(f"{target!r} matches {len(ids)} articles", hint="give more of the id")
    for article_id in ids:
        store.remove(article_id)  # its duplicate links go with it
        sentence_vectors(store).forget(article_id)
    return ids
