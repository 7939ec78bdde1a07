"""The server's edge: the Bearer key, body size caps, safe headers, and errors as one-line JSON.

A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware, so streamed answers pass through
unbuffered and a client's disconnect still reaches the route.
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.errors import InputError, LockBusy, ModelError, RagError
from rag.serve.queue import QueueFull
from rag.settings import Settings

log = logging.getLogger("rag.serve")
OPEN_PATHS = ("/", "/health", "/openapi.json")  # and /static/...
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def error_body(message: str, kind: str, hint: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": kind, "hint": hint or None, "code": code}}


def status_of(exc: RagError) -> int:
    """The HTTP status of a user-facing failure."""
    if isinstance(exc, QueueFull):
        return 503
    if isinstance(exc, LockBusy):
        return 409
    if isinstance(exc, InputError):
        return 404 if exc.message.startswith("no ingested article matches") else 400
    if isinstance(exc, ModelError):
        return 503 if exc.retryable else 502
    return 500


def install_error_handlers(app: FastAPI) -> None:
    """RagError -> its status and one line; HTTP errors in the same shape; anything else -> 500 without a trace."""

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError) -> JSONResponse:
        status = status_of(exc)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, QueueFull) else None
        kind = {400: "invalid_request_error", 404: "not_found_error", 409: "conflict_error",
                503: "overloaded_error"}.get(status, "server_error")
        return JSONResponse(error_body(exc.message, kind, exc.hint), status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return JSONResponse(error_body(str(exc.detail), kind), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal error: see the server's log", "server_error"), 500)


class Guard:
    """Checks every HTTP request before the app sees it."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.key = settings.api_key.get_secret_value() if settings.api_key else None
        self.request_cap = int(settings.serve.max_request_kb * 1024)
        self.upload_cap = int(settings.serve.max_upload_mb * 1024 * 1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        if self.key and not (path in OPEN_PATHS or path.startswith("/static/")) and not self._authorized(scope):
            return await _reply(send, 401, error_body("a valid API key is required", "authentication_error",
                                                      "send it as 'Authorization: Bearer $RAG_API_KEY'"),
                                {"www-authenticate": "Bearer"})
        if scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            cap = self.upload_cap if path.rstrip("/") == "/ingest" else self.request_cap
            body = await _read_capped(scope, receive, cap)
            if body is None:
                return await _reply(send, 413, error_body(f"the request body is over {_size(cap)}",
                                                          "invalid_request_error",
                                                          "send less, or raise RAG_SERVE__MAX_REQUEST_KB / "
                                                          "RAG_SERVE__MAX_UPLOAD_MB"))
            receive = _replay(body, receive)
        await self.app(scope, receive, _with_safe_headers(send, path))

    def _authorized(self, scope: Scope) -> bool:
        headers = dict(scope["headers"])
        given = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.key.encode())


async def _read_capped(scope: Scope, receive: Receive, cap: int) -> bytes | None:
    """The whole body, or None as soon as it is known to pass `cap` (by its Content-Length or as it arrives)."""
    length = dict(scope["headers"]).get(b"content-length")
    if length is not None and length.isdigit() and int(length) > cap:
        return None
    parts, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        size += len(parts[-1])
        if size > cap:
            return None
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body read already, then waits for the client's disconnect as usual."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_safe_headers(send: Send, path: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.append((b"x-content-type-options", b"nosniff"))
            if path == "/" or path.startswith("/static/"):
                headers += [(b"content-security-policy", PAGE_POLICY.encode()), (b"referrer-policy", b"no-referrer")]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


async def _reply(send: Send, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def _size(cap: int) -> str:
    return f"{cap / 1024 / 1024:.0f} MB" if cap >= 1024 * 1024 else f"{cap / 1024:.0f} KB"
