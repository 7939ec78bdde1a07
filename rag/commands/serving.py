"""`rag serve`: the library over HTTP (rag.serve), under uvicorn."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Optional

import typer

from rag.commands.common import BackendOption, _settings, app, err, run_safely
from rag.errors import ConfigError


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(host: Annotated[Optional[str], typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
          port: Annotated[Optional[int], typer.Option(help="Port (default 8000).")] = None,
          backend: BackendOption = None) -> None:
    """Serve the chat page, an OpenAI-compatible API (model "rag") and JSON routes over HTTP."""

    def work() -> None:
        import uvicorn

        from rag.serve.app import create_app
        from rag.serve.engine import Engine

        settings = _settings()
        bind = host or settings.serve.host
        if not is_loopback(bind) and settings.api_key is None:
            raise ConfigError(f"binding {bind} exposes the articles beyond this machine",
                              hint="set RAG_API_KEY (clients send it as a Bearer key), or bind 127.0.0.1")
        chosen = port if port is not None else settings.serve.port
        with err.status(f"starting the {backend or settings.backend} backend..."):
            engine = Engine(settings, backend)
        err.print(f"rag: serving on http://{bind}:{chosen}/ (OpenAI base URL http://{bind}:{chosen}/v1)",
                  highlight=False, soft_wrap=True)
        uvicorn.run(create_app(settings, engine=engine), host=bind, port=chosen, log_level="info",
                    timeout_graceful_shutdown=5)

    run_safely(work)
