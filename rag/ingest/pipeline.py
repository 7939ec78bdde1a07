"""Ingesting files: new articles are chunked, embedded and stored; unchanged ones are left alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from rag.ingest.articles import build_article, load_sidecar
from rag.ingest.derived_copies import SentenceVectors, find_duplicates
from rag.errors import InputError
from rag.ingest.reading import discover, read_article_text
from rag.settings import Settings
from rag.store.store import Store

Progress = Callable[[str, int], None]  # (description of the step, units just finished)


class FileResult(BaseModel):
    """What happened to one path."""

    path: str
    status: str  # new | changed | unchanged | duplicate | failed
    article_id: str | None = None
    chunks: int = 0
    reason: str | None = None


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


def ingest_paths(store: Store, paths: list[Path], progress: Progress | None = None) -> IngestReport:
    """Ingest files and folders; each file's fate is in the report, none stops the others."""
    files, problems = discover(paths)
    results = [FileResult(path=str(p), status="failed", reason=why) for p, why in problems]
    sidecars: dict[Path, dict[str, dict]] = {}
    new_chunks = removed = 0
    max_bytes = int(store.settings.max_file_mb * 1e6)
    for path in files:
        result = FileResult(path=str(path), status="failed")
        results.append(result)
        try:
            folder = path.parent
            if folder not in sidecars:
                try:
                    sidecars[folder] = load_sidecar(folder)
                except InputError as exc:
                    sidecars[folder] = {"__error__": exc}
            if "__error__" in sidecars[folder]:
                raise sidecars[folder]["__error__"]
            article = build_article(path.resolve(), read_article_text(path, max_bytes), sidecars[folder].get(path.name))
        except InputError as exc:
            result.reason = exc.message
            continue
        except Exception as exc:  # one bad file must not stop the run
            result.reason = f"{type(exc).__name__}: {exc}"
            continue
        result.article_id = article.id
        key = str(path.resolve())
        previous = store.catalog.article_for_path(key)
        if store.catalog.has_article(article.id) and store.catalog.is_embedded(article.id, store.vectors.name):
            result.status = "unchanged" if previous == article.id else "duplicate"
            if result.status == "duplicate":
                result.reason = "same text as an article already ingested"
            store.catalog.set_path(key, article.id)
        elif store.catalog.has_article(article.id):
            result.status, result.chunks = "unchanged", store.embed_existing(article.id)
            new_chunks += result.chunks
        else:
            chunks = store.chunk(article)
            vectors = store.embeddings.embed_documents([c.text for c in chunks])
            store.add(article, chunks, vectors)
            result.status, result.chunks = ("changed" if previous else "new"), len(chunks)
            new_chunks += len(chunks)
        if previous and previous != article.id and not [p for p in store.catalog.paths_of(previous) if p != key]:
            store.remove(previous)
            sentence_vectors(store).forget(previous)
            removed += 1
        if progress:
            progress(path.name, 1)
    links = refresh_duplicates(store) if new_chunks or removed else store.catalog.duplicates()
    return IngestReport(
        files=results, new_chunks=new_chunks, removed_articles=removed,
        total_articles=len(store.catalog.article_ids()), total_chunks=store.catalog.count_chunks(), duplicates=links,
    )


def refresh_duplicates(store: Store) -> list[tuple[str, str, float]]:
    """Recompute the near-duplicate links over all articles (sentence vectors are cached)."""
    settings = store.settings
    links = find_duplicates(
        store.catalog.articles(), sentence_vectors(store), settings.duplicate_sentence_similarity,
        settings.duplicate_coverage,
    )
    store.catalog.set_duplicates(links)
    return links


def forget(store: Store, target: str) -> list[str]:
    """Remove the article with this id (or id prefix) or ingested from this path; returns removed ids."""
    by_path = store.catalog.article_for_path(str(Path(target).resolve()))
    ids = [by_path] if by_path else []
    if not ids:
        ids = store.catalog.resolve_id(target) if len(target) >= 4 else []
    if not ids:
        raise InputError(f"no ingested article matches {target!r}", hint="see `rag articles` for ids")
    if len(ids) > 1:
        raise InputError(f"{target!r} matches {len(ids)} articles", hint="give more of the id")
    for article_id in ids:
        store.remove(article_id)
        sentence_vectors(store).forget(article_id)
    refresh_duplicates(store)
    return ids
