"""Ingesting files and folders: each file read by its format, what it holds stored (see `storing`), a
report of every file's fate; forgetting articles by id, path, or because their files are gone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rag.errors import InputError
from rag.ingest.articles import load_sidecar
from rag.ingest.derived_copies import find_duplicates
from rag.ingest.formats import DESCRIPTION
from rag.ingest.progress import FileMeter, Progress
from rag.ingest.reading import discover, file_of, link_problem, read_source, resolved, unsupported
from rag.ingest.report import FileResult, IngestReport
from rag.ingest.storing import Storing, sentence_vectors
from rag.ingest.urls import canonical_url, is_url
from rag.ingest.web import url_sources
from rag.settings import Settings
from rag.store.store import Store

__all__ = ["FileResult", "IngestReport", "Progress", "build_store", "forget", "forget_missing", "ingest_paths",
           "sentence_vectors"]


def build_store(settings: Settings, data_dir: Path, folder: Path, progress: Progress | None = None) -> Store:
    """A fresh store in `data_dir` holding every article of `folder` (the chat model stays where
    `settings` keep it, so it is not joined again for each new store)."""
    if not folder.is_dir():
        raise InputError(f"no folder of articles at {folder}")
    store = Store(settings.model_copy(update={"data_dir": data_dir, "model_dir": settings.models_path}))
    ingest_paths(store, [folder], progress)
    return store


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


def ingest_paths(store: Store, paths: list[Path], progress: Progress | None = None,
                 sync: bool = False, urls: list[str] | None = None, refresh: bool = False) -> IngestReport:
    """Ingest files, folders and URLs; each one's fate is in the report, none stops the others. `progress`
    hears of each file's (or URL's) share as it goes, also during a long file's embedding. With `sync`,
    articles whose files were under one of the folders and are gone are forgotten. Pages are fetched
    once and kept in the data dir; `refresh` fetches them again."""
    files, problems = discover(paths)
    results = [FileResult(path=str(p), status="failed", reason=why) for p, why in problems]
    results += [FileResult(path=str(p), status="unsupported", reason=f"not an article file ({p.suffix or 'no suffix'}; "
                           f"rag reads {DESCRIPTION})") for p in unsupported(paths)]
    run = Storing(store)
    sidecars: dict[Path, dict] = {}
    max_bytes = int(store.settings.max_file_mb * 1e6)
    for path in files:
        result = FileResult(path=str(path), status="failed")
        results.append(result)
        meter = FileMeter(progress, path.name)

        def store_file(path: Path = path, result: FileResult = result, meter: FileMeter = meter) -> None:
            sidecar = _sidecar(path, sidecars)
            read = read_source(path, max_bytes)  # before resolving: a symlink loop is named as such
            run.store_file(str(resolved(path)), read, sidecar, result, meter)

        _store_one(run, store_file, result, meter)
    for url in urls or []:
        results += _ingest_url(run, url, progress, refresh)
    run.embed_sentences()
    forgotten = forget_missing(store, [p for p in paths if p.is_dir()]) if sync else []
    results += [FileResult(path=path, status="forgotten", reason="the file is gone") for path in forgotten]
    present = set(store.catalog.article_ids())
    pairs, compared = [], set()
    for a, b in run.pairs:  # each pair once (new articles of one batch find each other), if not replaced since
        if a.id in present and b.id in present and frozenset((a.id, b.id)) not in compared:
            compared.add(frozenset((a.id, b.id)))
            pairs.append((a, b))
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


def _ingest_url(run: Storing, url: str, progress: Progress | None, refresh: bool) -> list[FileResult]:
    """Store what one URL holds (a page, or a feed's entry pages); a result per page."""
    results = []
    for source in url_sources(url, run.store.settings, refresh):
        result = FileResult(path=source.url, status="failed", reason=source.failure)
        results.append(result)
        meter = FileMeter(_scaled(progress, source.share), source.url)
        if source.skipped:
            result.status, result.reason = "skipped", source.skipped
        read = source.read
        _store_one(run, (lambda: run.store_file(source.url, read, {}, result, meter)) if read is not None else None,
                   result, meter)
    return results


def _store_one(run: Storing, store: Callable[[], None] | None, result: FileResult, meter: FileMeter) -> None:
    """Store one file or page; what goes wrong is its result's reason, never the end of the run."""
    try:
        if store is not None:
            store()
    except InputError as exc:
        result.reason = exc.message
    except Exception as exc:  # one bad file or page must not stop the run
        result.reason = f"{type(exc).__name__}: {exc}"
    if not run.waits_for(meter):
        meter.finish()


def _scaled(progress: Progress | None, share: float) -> Progress | None:
    """Progress of one page of a feed URL: its share of the URL's one unit on the bar."""
    return (lambda what, done: progress(what, done * share)) if progress and share else None


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


def forget(store: Store, target: str) -> list[str]:
    """Remove the article with this id (or id prefix) or ingested from this path (every article of a
    feed or export; one of them as '<path>#<key>'); returns removed ids."""
    path = Path(target)
    if is_url(target):
        file = canonical_url(target)
    else:
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
