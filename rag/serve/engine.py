"""What every request shares: one store and one warm backend, the line to the model, the ingest jobs."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from rag.answer.answerer import Answerer
from rag.answer.backends import Backend, open_backend
from rag.briefing.briefer import Briefer
from rag.serve.jobs import IngestJobs
from rag.serve.queue import ModelQueue
from rag.settings import Settings
from rag.store.search import SearchFilters
from rag.store.store import Store


class Engine:
    """Opened once when the server starts (the local model is started and the embeddings loaded then),
    closed when it stops. Readers use `store`; writes go through `jobs`, on a connection of their own."""

    def __init__(self, settings: Settings, backend: str | None = None, embeddings: Embeddings | None = None) -> None:
        self.settings = settings
        self.store = Store(settings, embeddings=embeddings)
        self.store.embeddings.embed_query("warm up")  # the first request should not pay for loading the model
        self.backend: Backend = open_backend(settings, backend)
        self.queue = ModelQueue(settings.serve.model_workers, settings.serve.queue_size, settings.serve.retry_after)
        self.jobs = IngestJobs(Store(settings, embeddings=self.store.embeddings))

    def answerer(self, filters: SearchFilters | None = None) -> Answerer:
        """An Answerer over the shared store and backend (cheap: it holds only a retriever and a cache)."""
        return Answerer(self.store, self.backend, filters)

    def briefer(self) -> Briefer:
        return Briefer(self.store, self.backend)

    def health(self) -> dict:
        """What /health reports: the backend, the store's size, the line to the model, ingest activity."""
        return {
            "status": "ok", "backend": self.backend.name, "model": self.backend.model,
            "articles": len(self.store.catalog.article_ids()), "chunks": self.store.catalog.count_chunks(),
            "queue": {"running": self.queue.running, "waiting": self.queue.waiting, "capacity": self.queue.capacity},
            "ingesting": self.jobs.busy(),
        }

    def close(self) -> None:
        self.queue.close()
        self.jobs.close()
        self.backend.close()
        self.store.close()
