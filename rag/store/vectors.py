"""Chroma, embedded (PersistentClient) or a server (HttpClient): one collection per embedding model."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from rag.errors import StoreDamaged, StoreError
from rag.store.damage import chroma_error, sqlite_header_problem, vectors_hint


def _persistent_client(folder: Path, chroma_settings):
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    if problem := sqlite_header_problem(folder / "chroma.sqlite3"):
        raise StoreDamaged(f"the vector store {folder / 'chroma.sqlite3'} is damaged: {problem}",
                           hint=vectors_hint(folder), path=str(folder / "chroma.sqlite3"))
    try:
        return chromadb.PersistentClient(path=str(folder), settings=chroma_settings)
    except Exception as exc:  # chromadb raises its own, Rust and OS errors alike; damage.py tells them apart
        # Chroma caches a client per folder even when it failed to start; forget it so a later one may.
        SharedSystemClient._identifier_to_system.pop(str(folder), None)
        raise chroma_error(exc, folder) from exc


def _client(data_dir: Path, url: str | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if not url:
        return _persistent_client(data_dir / "chroma", chroma_settings)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise StoreError(f"RAG_CHROMA_URL={url!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:8000")
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https", settings=chroma_settings,
        )
        client.heartbeat()
    except Exception as exc:  # chromadb raises several transport errors; all mean the same to a user
        raise StoreError(
            f"cannot reach the Chroma server at {url}", hint="start it with `chroma run --host 127.0.0.1`"
        ) from exc
    return client


class VectorIndex:
    """Chunk vectors in one Chroma collection, keyed by chunk id.

    `readonly` neither creates the Chroma folder nor the collection: a missing one reads as empty.
    """

    def __init__(self, data_dir: Path, url: str | None, embedding_name: str, readonly: bool = False) -> None:
        self.url = url
        self.folder = data_dir / "chroma"
        self.name = "chunks-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in embedding_name)
        self.collection = None
        if readonly and not url and not self.folder.is_dir():
            return
        self.client = _client(data_dir, url)
        if readonly:
            names = self._call("list collections", self.client.list_collections)
            if self.name in [getattr(c, "name", c) for c in names]:
                self.collection = self._call("open", self.client.get_collection, self.name, embedding_function=None)
            return
        self.collection = self._call(
            "open", self.client.get_or_create_collection, self.name, embedding_function=None,
            metadata={"hnsw:space": "cosine", "embedding": embedding_name},
        )

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not self.url:
                raise chroma_error(exc, self.folder, what) from exc
            raise StoreError(f"{what} failed in the Chroma server at {self.url}: {exc}", retryable=True) from exc

    def upsert(self, ids: list[str], vectors: list[list[float]], metadatas: list[dict]) -> None:
        """Add or replace vectors, in as many calls as Chroma's batch limit needs (a long article has more
        chunks than one call may carry)."""
        if not ids:
            return
        batch = self._call("batch size", self.client.get_max_batch_size)
        for at in range(0, len(ids), batch):
            part = slice(at, at + batch)
            self._call("upsert", self.collection.upsert, ids=ids[part], embeddings=vectors[part],
                       metadatas=metadatas[part])

    def delete_article(self, article_id: str) -> None:
        self.delete_articles([article_id])

    def delete_articles(self, article_ids: list[str]) -> None:
        if article_ids:
            where = {"article_id": article_ids[0] if len(article_ids) == 1 else {"$in": article_ids}}
            self._call("delete", self.collection.delete, where=where)

    def delete_ids(self, ids: list[str]) -> None:
        if ids:
            self._call("delete", self.collection.delete, ids=ids)

    def count(self) -> int:
        return self._call("count", self.collection.count) if self.collection is not None else 0

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        if self.collection is None:
            return ids
        offset, page = 0, 1000
        while True:
            got = self._call("get", self.collection.get, include=[], limit=page, offset=offset)["ids"]
            ids.update(got)
            if len(got) < page:
                return ids
            offset += page

    def query(self, vector: list[float], limit: int, article_ids: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first."""
        if article_ids is not None and not article_ids:
            return []
        where = {"article_id": {"$in": article_ids}} if article_ids is not None else None
        total = self.count()
        if total == 0:
            return []
        result = self._call(
            "query", self.collection.query, query_embeddings=[vector], n_results=min(limit, total), where=where,
            include=["distances"],
        )
        return [(cid, 1.0 - dist) for cid, dist in zip(result["ids"][0], result["distances"][0])]

    def neighbour_articles(self, vectors: list[list[float]], article_id: str, floor: float,
                           limit: int = 4, batch: int = 256) -> set[str]:
        """Other articles holding a chunk within cosine `floor` of one of these vectors (among each vector's
        `limit` nearest chunks outside `article_id`)."""
        if self.collection is None or not vectors or self.count() == 0:
            return set()
        found: set[str] = set()
        where = {"article_id": {"$ne": article_id}}
        for at in range(0, len(vectors), batch):
            result = self._call(
                "query", self.collection.query, query_embeddings=vectors[at : at + batch], n_results=limit,
                where=where, include=["distances", "metadatas"],
            )
            for distances, metadatas in zip(result["distances"], result["metadatas"]):
                found.update(m["article_id"] for d, m in zip(distances, metadatas) if 1.0 - d >= floor)
        return found

    def neighbour_articles_many(self, groups: list[tuple[str, list[list[float]]]], floor: float,
                                limit: int = 4, batch: int = 256) -> list[set[str]]:
        """`neighbour_articles` of many (article id, chunk vectors) at once, in a few queries for all
        their vectors (many short feed entries would each pay a filtered query): each vector asks for
        `limit` more neighbours than its article has chunks, so its own chunks can be left out."""
        found: list[set[str]] = [set() for _ in groups]
        if self.collection is None or not groups or self.count() == 0:
            return found
        most_own = max(len(vectors) for _, vectors in groups)
        if most_own > batch:  # a long article among them: its own filtered queries cost less
            return [self.neighbour_articles(vectors, article_id, floor, limit, batch) for article_id, vectors in groups]
        rows = [(g, vector) for g, (_, vectors) in enumerate(groups) for vector in vectors]
        wanted = min(limit + most_own, self.count())
        for at in range(0, len(rows), batch):
            part = rows[at : at + batch]
            result = self._call("query", self.collection.query, query_embeddings=[v for _, v in part],
                                n_results=wanted, include=["distances", "metadatas"])
            for (g, _), distances, metadatas in zip(part, result["distances"], result["metadatas"]):
                others = [(d, m["article_id"]) for d, m in zip(distances, metadatas) if m["article_id"] != groups[g][0]]
                found[g].update(other for d, other in others[:limit] if 1.0 - d >= floor)
        return found

