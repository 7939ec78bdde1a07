"""Failures of the openai/httpx client turned into one-line ModelErrors that name the server."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.errors import ModelError

if TYPE_CHECKING:
    from rag.llm.chat import ChatModel


def transport_errors() -> tuple[type[Exception], ...]:
    """httpx's base error, and httpx2's (the fork newer openai releases use) when installed."""
    import httpx

    try:
        import httpx2
    except ImportError:
        return (httpx.HTTPError,)
    return (httpx.HTTPError, httpx2.HTTPError)


def model_error(exc: BaseException, chat: ChatModel) -> ModelError | None:
    """A one-line ModelError for a failure of the openai/httpx client, or None for anything else.

    The message names the server and the HTTP status; it never contains the API key (a 401's
    body is not shown at all, since servers echo part of the key there).
    """
    import openai

    local = chat.server is not None
    who = f"the local model server at {chat.url}" if local else f"the OpenAI-compatible server at {chat.url}"
    check_url = f"see {chat.server.log_path}" if local else "check OPENAI_BASE_URL"
    retries = getattr(chat.llm, "max_retries", None)
    retried = f"rag retried up to {retries} times with backoff; " if retries else ""
    if isinstance(exc, openai.AuthenticationError):
        return ModelError(f"{who} rejected the API key (401)", hint="check OPENAI_API_KEY")
    if isinstance(exc, openai.PermissionDeniedError):
        return ModelError(f"{who} refused access (403)", hint="check that the API key may use this model")
    if isinstance(exc, openai.NotFoundError):
        return ModelError(f"{who} has no model {chat.model!r} or no chat completions endpoint (404)",
                          hint="check RAG_OPENAI_MODEL, and that OPENAI_BASE_URL ends in /v1")
    if isinstance(exc, openai.RateLimitError):
        return ModelError(f"{who} is limiting the request rate (429)", retryable=True,
                          hint=f"{retried}wait a minute and try again")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500:
            return ModelError(f"{who} failed with HTTP {status}", retryable=True,
                              hint=f"{retried}the server has a problem; try again later")
        return ModelError(f"{who} rejected the request (HTTP {status}): {_server_says(exc, chat)}")
    if isinstance(exc, openai.APITimeoutError):
        timeout = getattr(chat.llm, "request_timeout", None)
        within = f" within {timeout:g} s" if isinstance(timeout, (int, float)) else ""
        return ModelError(f"{who} did not answer{within}", retryable=True,
                          hint=f"{retried}raise RAG_REQUEST_TIMEOUT or try again")
    if isinstance(exc, openai.APIConnectionError):
        return ModelError(f"cannot connect to {who}", retryable=True,
                          hint=f"{retried}is the server running? {check_url}")
    if isinstance(exc, (openai.OpenAIError, *transport_errors())):
        return ModelError(f"the connection to {who} failed: {type(exc).__name__}", retryable=True,
                          hint="try again")
    return None


def rejects_response_format(error: ModelError) -> bool:
    """An HTTP error whose server message (kept as the cause) is about the response_format we sent."""
    import openai

    cause = error.__cause__
    return isinstance(cause, openai.APIStatusError) and "response_format" in str(cause)


def _server_says(exc, chat: ChatModel) -> str:
    """The server's error message on one line, short, with the API key masked should it be echoed."""
    body = getattr(exc, "body", None)
    said = body.get("message") if isinstance(body, dict) else None
    said = said or re.sub(r"^Error code: \d+ - ", "", str(getattr(exc, "message", "") or exc))
    text = " ".join(str(said).split())[:200]
    key = getattr(chat.llm, "openai_api_key", None)
    secret = key.get_secret_value() if key is not None else ""
    return text.replace(secret, "****") if len(secret) >= 4 else text
