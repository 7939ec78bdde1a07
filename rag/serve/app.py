"""The FastAPI app: routes, the page, the edge checks, and the shared Engine opened for the app's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from langchain_core.embeddings import Embeddings

from rag.serve import chat, routes
from rag.serve.engine import Engine
from rag.serve.guard import Guard, install_error_handlers
from rag.settings import Settings

STATIC = files("rag.serve") / "static"


def create_app(settings: Settings, backend: str | None = None, embeddings: Embeddings | None = None,
               engine: Engine | None = None) -> FastAPI:
    """The server's app over `engine`, or over an Engine opened when the app starts; closed when it stops."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine or await anyio.to_thread.run_sync(lambda: Engine(settings, backend, embeddings))
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(app.state.engine.close)

    app = FastAPI(title="rag", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Question answering and briefings over news articles, with verified citations. "
                              "`/v1/chat/completions` speaks the OpenAI wire format (model `rag`).")
    install_error_handlers(app)
    app.include_router(chat.router)
    app.include_router(routes.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    app.add_middleware(Guard, settings=settings)
    if settings.serve.cors_origins:  # outermost, so a browser's preflight needs no key
        app.add_middleware(CORSMiddleware, allow_origins=settings.serve.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"])
    return app
