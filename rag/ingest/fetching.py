"""Fetching a page by URL for ingest: http(s) only, bounded in time, size and redirects, only the
content types rag has a reader for, and kept in the page cache so the next ingest needs no network.
Every failure is an InputError with a one-line reason (the URL is named by whoever reports it)."""

from __future__ import annotations

import hashlib
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import httpx

from rag.errors import InputError
from rag.ingest.page_cache import PageRecord, load_page, save_page
from rag.ingest.urls import SCHEMES, canonical_url, check_url, media_type

if TYPE_CHECKING:
    from rag.settings import FetchSettings, Settings

# The media types a format reader exists for; a missing Content-Type is let through to content sniffing.
ACCEPTED_TYPES = {
    "text/html": "HTML", "application/xhtml+xml": "XHTML",
    "application/rss+xml": "RSS", "application/atom+xml": "Atom", "application/rdf+xml": "RSS 1.0",
    "application/xml": "XML", "text/xml": "XML",
    "text/plain": "text", "text/markdown": "Markdown", "text/x-markdown": "Markdown",
    "application/pdf": "PDF",
    "application/jsonl": "JSON Lines", "application/x-jsonlines": "JSON Lines", "application/jsonlines": "JSON Lines",
    "application/x-ndjson": "JSON Lines", "application/ndjson": "JSON Lines",
}
_ACCEPTED_KINDS = "HTML, RSS/Atom, text, Markdown, PDF or JSON Lines"


@dataclass(frozen=True)
class Fetched:
    """One fetched page: `url` as asked, `final_url` after redirects, the bytes as served (content
    encoding undone), when they were fetched, and whether they came from the page cache."""

    url: str
    final_url: str
    content_type: str
    data: bytes
    fetched_at: datetime
    from_cache: bool = False

    @property
    def media_type(self) -> str:
        """The content type without parameters: 'text/html; charset=utf-8' -> 'text/html'."""
        return media_type(self.content_type)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def fetch(url: str, settings: Settings, refresh: bool = False) -> Fetched:
    """A page by URL: from the page cache when it holds one (unless `refresh`), else from the network,
    then cached. Raises InputError with a one-line reason (retryable for timeouts, 429 and 5xx)."""
    url = check_url(url)
    if not refresh and (cached := cached_fetch(url, settings)) is not None:
        return cached
    fetched = download(url, settings.fetch)
    record = PageRecord(url=fetched.url, final_url=fetched.final_url, content_type=fetched.content_type,
                        fetched_at=fetched.fetched_at, sha256=fetched.sha256, size=len(fetched.data))
    save_page(settings.data_dir, record, fetched.data)
    return fetched


def cached_fetch(url: str, settings: Settings) -> Fetched | None:
    """The cached copy of a URL's page, without any network; None when it was never fetched (or the
    copy is damaged)."""
    found = load_page(settings.data_dir, url)
    if found is None:
        return None
    record, data = found
    return Fetched(url=record.url, final_url=record.final_url, content_type=record.content_type, data=data,
                   fetched_at=record.fetched_at, from_cache=True)


def download(url: str, limits: FetchSettings) -> Fetched:
    """Fetch a page from the network, bypassing the cache; see `fetch`."""
    url = check_url(url)
    started = time.monotonic()
    headers = {"User-Agent": limits.user_agent, "Accept": ", ".join([*ACCEPTED_TYPES, "*/*;q=0.1"])}
    with httpx.Client(headers=headers, timeout=limits.timeout) as client:
        try:
            response = _follow(client, url, limits, started)
            try:
                content_type = _accepted_type(response)
                data = _read_capped(response, limits, started)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise _explain(exc) from None
    return Fetched(url=url, final_url=str(response.url), content_type=content_type, data=data,
                   fetched_at=datetime.now(timezone.utc))


def _follow(client: httpx.Client, url: str, limits: FetchSettings, started: float) -> httpx.Response:
    """Send the request and follow redirects by hand, so each hop is checked (scheme, loops, count,
    time left); returns the final response, streaming and unread."""
    request = client.build_request("GET", url, timeout=_time_left(limits, started))
    seen = {canonical_url(url)}
    for _ in range(limits.max_redirects + 1):
        response = client.send(request, stream=True, follow_redirects=False)
        if response.next_request is None:
            _check_status(response)
            return response
        response.close()
        request = response.next_request
        target = str(request.url)
        if request.url.scheme not in SCHEMES:
            raise InputError(f"redirected to a {request.url.scheme}: URL, only http and https are fetched")
        if canonical_url(target) in seen:
            raise InputError(f"redirect loop: back to {target} after {len(seen)} redirects")
        seen.add(canonical_url(target))
        request.extensions["timeout"] = _time_left(limits, started).as_dict()
    raise InputError(f"more than {limits.max_redirects} redirects",
                     hint="raise RAG_FETCH__MAX_REDIRECTS to follow more")


def _time_left(limits: FetchSettings, started: float) -> httpx.Timeout:
    """Connect and read timeouts for the next step, cut short so the whole fetch keeps its deadline."""
    left = limits.deadline - (time.monotonic() - started)
    if left <= 0:
        raise InputError(f"timed out after {limits.deadline:g} s", hint="raise RAG_FETCH__DEADLINE", retryable=True)
    return httpx.Timeout(min(limits.timeout, left))


def _check_status(response: httpx.Response) -> None:
    if response.is_success:
        return
    response.close()
    code = response.status_code
    reason = response.reason_phrase or httpx.codes.get_reason_phrase(code)
    raise InputError(f"HTTP {code} {reason}".strip(), retryable=code == 429 or code >= 500)


def _accepted_type(response: httpx.Response) -> str:
    """The response's Content-Type if rag reads that kind of page; otherwise an InputError naming it."""
    content_type = response.headers.get("content-type", "").strip()
    media = media_type(content_type)
    if media and media not in ACCEPTED_TYPES:
        raise InputError(f"content type {media} is not a page rag reads ({_ACCEPTED_KINDS})")
    return content_type


def _read_capped(response: httpx.Response, limits: FetchSettings, started: float) -> bytes:
    """The body, read as it streams in and abandoned once past the size cap or the deadline."""
    cap = int(limits.max_mb * 1_000_000)
    over = f"over the {limits.max_mb:g} MB limit"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise InputError(f"page is {int(declared) / 1e6:.1f} MB, {over}", hint="raise RAG_FETCH__MAX_MB")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > cap:
            raise InputError(f"page is {over}; stopped reading after {len(body) / 1e6:.1f} MB",
                             hint="raise RAG_FETCH__MAX_MB")
        if time.monotonic() - started > limits.deadline:
            raise InputError(f"timed out after {limits.deadline:g} s", hint="raise RAG_FETCH__DEADLINE",
                             retryable=True)
    return bytes(body)


def _explain(exc: httpx.HTTPError) -> InputError:
    """An httpx failure as a one-line reason: which host did not resolve, refused, timed out, or failed TLS."""
    host = exc.request.url.host if _has_request(exc) else "the server"
    if isinstance(exc, httpx.TimeoutException):
        seconds = _timeout_seconds(exc)
        doing = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
        return InputError(f"timed out after {seconds:g} s {doing} {host}", retryable=True)
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror):
            return InputError(f"could not resolve host {host}", hint="check the URL and the network", retryable=True)
        if isinstance(cause, ConnectionRefusedError):
            return InputError(f"connection refused by {host}", retryable=True)
        if isinstance(cause, ssl.SSLCertVerificationError):
            return InputError(f"TLS certificate of {host} not trusted ({cause.verify_message})")
        if isinstance(cause, ssl.SSLError):
            return InputError(f"TLS error with {host} ({cause.reason or cause})")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.DecodingError):
        return InputError(f"bad response from {host} ({exc})")
    return InputError(f"could not fetch from {host} ({type(exc).__name__}: {exc})", retryable=True)


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request
    except RuntimeError:  # raised by httpx when the error carries no request
        return False
    return True


def _timeout_seconds(exc: httpx.TimeoutException) -> float:
    """The timeout that ran out, as the request was sent with it."""
    timeouts = exc.request.extensions.get("timeout", {}) if _has_request(exc) else {}
    key = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
    return float(timeouts.get(key) or 0)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it was raised from, innermost last (httpx wraps httpcore wraps OSError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
