"""The CLI's commands as JSON routes, each answering in the shape of its `--json` output."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Path, Request, UploadFile

from rag.briefing.model import Briefing
from rag.serve.engine import Engine
from rag.serve.jobs import IngestJob
from rag.serve.queue import last
from rag.serve.schemas import ERRORS, AskRequest, BriefRequest, SearchRequest
from rag.serve.waiting import until_gone
from rag.store.listing import article_rows, search_rows
from rag.store.search import HybridRetriever
from rag.types import Answer

router = APIRouter(tags=["rag"], responses=ERRORS)
ArticleId = Annotated[str, Path(pattern=r"^[0-9a-f]{4,64}$", description="An article id, or a prefix of 4+ characters.")]


def _engine(request: Request) -> Engine:
    return request.app.state.engine


@router.get("/health", summary="Whether the server is up, its backend, store size and queue")
def health(request: Request) -> dict:
    return _engine(request).health()


@router.post("/ask", summary="A cited answer, as `rag ask --json`", response_model=Answer)
async def ask(body: AskRequest, request: Request) -> Answer:
    engine = _engine(request)
    question = body.checked()
    answerer = engine.answerer(body.filters())
    reservation = engine.queue.reserve()
    return await until_gone(request, last(engine.queue.run(
        reservation, lambda stop: iter([answerer.ask(question, body.history)]))))


@router.post("/brief", summary="A cited briefing, as `rag brief --json`", response_model=Briefing)
async def brief(body: BriefRequest, request: Request) -> Briefing:
    engine = _engine(request)
    topic, filters = body.checked(), body.filters()
    briefer = engine.briefer()
    reservation = engine.queue.reserve()
    return await until_gone(request, last(engine.queue.run(
        reservation, lambda stop: iter([briefer.brief(topic, filters)]))))


@router.post("/search", summary="Hybrid search, as `rag search --json`")
def search(body: SearchRequest, request: Request) -> list[dict]:
    engine = _engine(request)
    filters = body.filters(body.until, 1 if body.one_per_cluster else None)
    docs = HybridRetriever.from_store(engine.store, filters=filters).search(body.checked(), body.k)
    return search_rows(docs)


@router.get("/articles", summary="The stored articles, as `rag articles --json`")
def articles(request: Request) -> list[dict]:
    return article_rows(_engine(request).store)


@router.delete("/articles/{article_id}", summary="Forget an article, as `rag forget`")
def delete_article(article_id: ArticleId, request: Request) -> dict:
    return _engine(request).jobs.forget(article_id)


@router.post("/ingest", status_code=202, response_model=IngestJob,
             summary="Ingest uploaded files and pages by URL in the background; poll /ingest/{job_id}")
async def ingest(request: Request, files: Annotated[list[UploadFile], File(description="Article files.")] = [],  # noqa: B006
                 urls: Annotated[list[str], Form(description="http(s) URLs of pages or feeds to fetch.")] = []):  # noqa: B006
    uploads = [(upload.filename or "", await upload.read()) for upload in files]
    return _engine(request).jobs.submit(uploads, urls)


@router.get("/ingest", summary="Recent ingest jobs, newest first")
def ingest_jobs(request: Request) -> list[IngestJob]:
    return sorted(_engine(request).jobs.jobs.values(), key=lambda job: -job.created)


@router.get("/ingest/{job_id}", response_model=IngestJob, summary="One ingest job's progress and report")
def ingest_job(job_id: str, request: Request) -> IngestJob:
    job = _engine(request).jobs.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no ingest job {job_id!r}: finished jobs are kept a while, then dropped")
    return job
