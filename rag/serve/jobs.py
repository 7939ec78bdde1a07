"""Ingest in the background: uploads are written to <data_dir>/uploads and ingested one job at a time,
under the store's write lock, with progress that the page polls."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from rag.errors import InputError, LockBusy, RagError
from rag.ingest.locking import write_lock
from rag.ingest.pipeline import forget, ingest_paths
from rag.ingest.urls import check_url
from rag.store.store import Store

KEPT_JOBS = 50  # finished jobs remembered for the page
MAX_URLS = 100  # pages (or feeds) fetched by one job
_UNSAFE = re.compile(r"[^\w.\- ]+")


class IngestJob(BaseModel):
    """One upload being ingested: what it holds and how far it got."""

    id: str
    state: Literal["queued", "waiting", "running", "done", "failed"] = "queued"
    files: list[str] = Field(description="The uploaded files' names, then the URLs to fetch.")
    done: float = Field(0.0, description="Files finished, counting parts of a file being embedded.")
    step: str | None = Field(None, description="What is being done now.")
    report: dict | None = Field(None, description="The ingest report, as `rag ingest --json` prints it.")
    error: str | None = None
    created: float = Field(default_factory=time.time)


def safe_name(name: str) -> str:
    """An uploaded file's name reduced to a plain file name in the uploads folder (no folders, no dot files)."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip(" .")
    if not base:
        raise InputError(f"{name!r} is not a usable file name", hint="give the file a name such as article.txt")
    return base[:120]


class IngestJobs:
    """The writer side of the server: one Store connection used only under the write lock."""

    def __init__(self, writer: Store) -> None:
        self.writer = writer
        self.folder = writer.settings.data_dir / "uploads"
        self.jobs: dict[str, IngestJob] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="rag-ingest")

    def submit(self, uploads: list[tuple[str, bytes]], urls: list[str] | None = None) -> IngestJob:
        """Queue an upload of (file name, bytes) and pages to fetch; the job runs after those before it."""
        urls = [check_url(url) for url in urls or [] if url.strip()]
        if not uploads and not urls:
            raise InputError("nothing to ingest", hint="attach article files or give URLs of pages or feeds")
        if len(urls) > MAX_URLS:
            raise InputError(f"{len(urls)} URLs is more than {MAX_URLS} at once", hint="send them in several jobs")
        named = {safe_name(name): data for name, data in uploads}
        job = IngestJob(id=uuid.uuid4().hex[:12], files=sorted(named) + urls)
        self.jobs[job.id] = job
        for old in sorted(self.jobs.values(), key=lambda j: j.created)[:-KEPT_JOBS]:
            if old.state in ("done", "failed"):
                del self.jobs[old.id]
        self._pool.submit(self._run, job, named, urls)
        return job

    def busy(self) -> bool:
        return any(job.state in ("queued", "waiting", "running") for job in self.jobs.values())

    def _run(self, job: IngestJob, named: dict[str, bytes], urls: list[str]) -> None:
        try:
            try:
                with write_lock(self.writer.settings.data_dir):
                    self._ingest(job, named, urls)
            except LockBusy as exc:  # another process (a `rag ingest`) is writing: wait for it
                job.state, job.step = "waiting", exc.message
                with write_lock(self.writer.settings.data_dir, wait=True):
                    self._ingest(job, named, urls)
        except RagError as exc:
            job.state, job.error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - a job must end in a state the page can show
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"

    def _ingest(self, job: IngestJob, named: dict[str, bytes], urls: list[str]) -> None:
        job.state, job.step = "running", "writing the uploads"
        self.folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, data in named.items():
            path = self.folder / name
            path.write_bytes(data)
            paths.append(path)

        def progress(step: str, share: float) -> None:
            job.step, job.done = step, min(len(job.files), job.done + share)

        report = ingest_paths(self.writer, paths, progress, urls=urls)
        job.report = report.model_dump(mode="json")
        job.done, job.step, job.state = len(job.files), None, "done"

    def forget(self, article_id: str) -> dict:
        """Remove an article now (409 while an ingest holds the lock); the CLI's `rag forget` as JSON."""
        with write_lock(self.writer.settings.data_dir):
            removed = forget(self.writer, article_id)
        return {"removed": removed, "articles": len(self.writer.catalog.article_ids()),
                "chunks": self.writer.catalog.count_chunks()}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.writer.close()
