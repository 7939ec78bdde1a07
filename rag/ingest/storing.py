"""Storing what was read: new articles chunked, embedded and added in batches (a feed of thousands of
short entries makes few model and Chroma calls), the same text only recorded under its path, and
articles a path or a file no longer holds forgotten."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.errors import InputError
from rag.ingest.articles import article_from
from rag.ingest.derived_copies import SentenceVectors
from rag.ingest.formats.base import Extracted
from rag.ingest.progress import FileMeter, Meter, in_steps
from rag.ingest.reading import entry_path, file_of
from rag.ingest.report import EntryResult, FileResult
from rag.store.embeddings import as_array
from rag.store.store import Store
from rag.types import Article, Chunk

_STEP_BATCHES = 16  # embedding batches between two progress reports
BATCH_ARTICLES = 64  # new articles of one file embedded and added together


def sentence_vectors(store: Store) -> SentenceVectors:
    return SentenceVectors(store.settings.data_dir / "sentences", store.embeddings)


class Storing:
    """One ingest run's work on the store: articles added, replaced and forgotten, and the new ones
    still waiting for their sentence vectors (computed together at the end, in full batches)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.new_chunks = self.removed = 0
        self.waiting: list[tuple[Article, Meter]] = []  # new articles whose sentence vectors are still to come
        self.pairs: list[tuple[Article, Article]] = []  # (new article, an article close enough to be a copy or original)
        self._waiting_files: set[int] = set()  # ids of the file meters some waiting article moves

    def waits_for(self, meter: FileMeter) -> bool:
        """Whether some article of this file waits for its sentence vectors (its meter is not done)."""
        return id(meter) in self._waiting_files

    def store_file(self, file: str, read: list[Extracted], sidecar: dict, result: FileResult, meter: FileMeter) -> None:
        """Store what was read from one file: a lone article under the file's path, each of many under
        '<file>#<key>'; articles the file held before and holds no more are forgotten, unless some of
        its entries could not be read this time (they may be those)."""
        if len(read) == 1 and read[0].key is None:
            result.note = read[0].note
            if read[0].problem:
                raise InputError(read[0].problem)
            (entry,) = self._store([article_from(read[0], file, sidecar)], meter)
            result.status, result.article_id, result.chunks, result.reason = (
                entry.status, entry.article_id, entry.chunks, entry.reason)
            result.articles = 1
            self.forget_entries(file, keep={file})
            return
        result.note = next((e.note for e in read if e.note), None)
        pending: list[tuple[int, Article]] = []  # (entry index, new article) not yet stored
        for index, extracted in enumerate(read):
            if extracted.problem:
                result.entries.append(EntryResult(key=extracted.key, status="failed", reason=extracted.problem))
            else:
                result.entries.append(EntryResult(key=extracted.key, status="pending"))
                pending.append((index, article_from(extracted, entry_path(file, extracted.key), sidecar)))
            if len(pending) == BATCH_ARTICLES or (index == len(read) - 1 and pending):
                part = meter.part(pending[0][0], index + 1, len(read))
                for (at, _), entry in zip(pending, self._store([a for _, a in pending], part)):
                    result.entries[at] = entry.model_copy(update={"key": result.entries[at].key})
                pending = []
            elif not pending:
                meter.to((index + 1) / len(read))
        if not [e for e in result.entries if e.status == "failed"]:
            kept = {entry_path(file, e.key) for e in read}
            result.entries += [EntryResult(key=path.rpartition("#")[2] or None, status="forgotten",
                                           reason="no longer in the file") for path in self.forget_entries(file, kept)]
        result.summarise()

    def _store(self, articles: list[Article], meter: Meter) -> list[EntryResult]:
        """Store articles read from one file: new text is chunked, embedded and added, the same text only
        recorded, and the article a path held before goes unless another path holds it too."""
        store = self.store
        entries, new, previous = [], [], {}
        seen: set[str] = set()
        for article in articles:
            previous[article.path] = store.catalog.article_for_path(article.path)
            entry = EntryResult(status="new", article_id=article.id)
            entries.append(entry)
            if article.id in seen or (store.catalog.has_article(article.id)
                                      and store.catalog.is_embedded(article.id, store.vectors.name)):
                entry.status = "unchanged" if previous[article.path] == article.id else "duplicate"
                if entry.status == "duplicate":
                    entry.reason = "same text as an article already ingested"
                    if moved_from := _paths_gone(store, article.id):
                        entry.status, entry.reason = "renamed", f"renamed from {moved_from[0]}"
            elif store.catalog.has_article(article.id):
                entry.status, entry.chunks = "unchanged", store.embed_existing(article.id)
                self.new_chunks += entry.chunks
            else:
                new.append((article, entry, previous[article.path]))
            seen.add(article.id)
        waits = self._add(new, meter)
        for article, entry in zip(articles, entries):
            if entry.status in ("unchanged", "duplicate", "renamed"):
                store.catalog.set_path(article.path, article.id)
            was = previous[article.path]
            if was and was != article.id and self.drop(article.path, was, keep_path=True):
                self.removed += 1
        if not waits:
            meter.finish()
        return entries

    def _add(self, new: list[tuple[Article, EntryResult, str | None]], meter: Meter) -> bool:
        """Chunk, embed and add new articles (with the article their path held before, if any); those
        with a stored article close in meaning wait for their sentence vectors, to be compared for
        copies. Returns whether any waits."""
        if not new:
            return False
        articles = [article for article, _, _ in new]
        chunks, vectors = _embed_chunks(self.store, articles, meter)
        self.store.add_many(list(zip(articles, chunks, vectors)))
        waits = False
        for (article, entry, previous), own, related in zip(new, chunks, _related(self.store, articles, vectors)):
            entry.status, entry.chunks = ("changed" if previous else "new"), len(own)
            self.new_chunks += len(own)
            if related:
                self.waiting.append((article, meter))
                self._waiting_files.add(id(meter.file))
                self.pairs += [(article, other) for other in related]
                waits = True
        return waits

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

    def embed_sentences(self) -> None:
        """Sentence vectors of the new articles, all in one stream of full batches; each file's meter moves
        from where chunk embedding left it to the end."""
        if not self.waiting:
            return
        files = list(dict.fromkeys(meter.file for _, meter in self.waiting))
        starts = [meter.share for meter in files]
        store = self.store

        def embed(texts: list[str]) -> np.ndarray:
            total = max(1, sum(len(t) for t in texts))

            def done(finished: int) -> None:
                for meter, start in zip(files, starts):
                    meter.to(start + (1 - start) * finished / total, f"finding copies: {len(texts)} sentences")

            rows = in_steps(lambda part: as_array(store.embeddings, part), texts, _step(store), done)
            return np.array(rows, dtype=np.float32)

        sentence_vectors(store).fill([article for article, _ in self.waiting], embed)
        for meter in files:
            meter.finish()


def _step(store: Store) -> int:
    return getattr(store.embeddings, "batch_size", 8) * _STEP_BATCHES


def _embed_chunks(store: Store, articles: list[Article], meter: Meter) -> tuple[list[list[Chunk]], list[list]]:
    """Each article's chunks and their vectors, embedded in one stream; the meter moves through the
    share that chunk vectors take (the rest is left for sentence vectors, computed when looking for copies)."""
    meter.to(0.0, f"{meter.name}: chunking")
    chunks = [store.chunk(article) for article in articles]
    texts = [c.text for own in chunks for c in own]
    chars = sum(len(t) for t in texts)
    share = chars / max(1, chars + sum(len(a.text) for a in articles))

    def done(finished: int) -> None:
        meter.to(share * finished / max(1, chars), f"{meter.name}: embedding {len(texts)} chunks")

    rows = in_steps(store.embeddings.embed_documents, texts, _step(store), done)
    vectors, first = [], 0
    for own in chunks:
        vectors.append(rows[first : first + len(own)])
        first += len(own)
    return chunks, vectors


def _paths_gone(store: Store, article_id: str) -> list[str]:
    """Paths an article was ingested from whose files no longer exist; they are dropped (a rename)."""
    gone = [p for p in store.catalog.paths_of(article_id) if not Path(file_of(p)).exists()]
    for path in gone:
        store.catalog.drop_path(path)
    return gone


def _related(store: Store, articles: list[Article], vectors: list[list]) -> list[list[Article]]:
    """For each new article, the stored articles that could be its original or copy: those holding a
    chunk close to one of its chunks. Only these are compared sentence by sentence, so an article on
    another subject costs no sentence vectors and the comparison does not grow with every pair in the store."""
    floor = store.settings.duplicate_chunk_similarity
    if len(articles) == 1:
        found = [store.vectors.neighbour_articles(vectors[0], articles[0].id, floor)]
    else:
        found = store.vectors.neighbour_articles_many([(a.id, v) for a, v in zip(articles, vectors)], floor)
    return [[other for other_id in sorted(ids) if (other := store.catalog.article(other_id)) is not None]
            for ids in found]
