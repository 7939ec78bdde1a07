"""Articles from the web: a page URL is fetched (or read from the page cache) and read by its format;
a feed URL stands for the pages of its entries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from rag.errors import InputError
from rag.ingest import formats
from rag.ingest.fetching import Fetched, fetch
from rag.ingest.formats.base import Extracted
from rag.ingest.urls import canonical_url, check_url, feed_entry_urls, looks_like_feed
from rag.settings import Settings

# What a page's content type says its format is, for content that does not show it (plain text, JSON Lines).
_TYPE_SUFFIX = {"text/html": ".html", "application/xhtml+xml": ".html", "text/plain": ".txt", "text/markdown": ".md",
                "application/pdf": ".pdf", "application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl"}


def page_articles(fetched: Fetched) -> list[Extracted]:
    """The articles of one fetched page, each knowing the page's final URL when it states none."""
    suffix = _TYPE_SUFFIX.get(fetched.media_type) or PurePosixPath(urlsplit(fetched.final_url).path).suffix.lower()
    read = formats.read(fetched.data, fetched.final_url, suffix)
    return [e if e.meta.get("url") else replace(e, meta={**e.meta, "url": fetched.final_url}) for e in read]


@dataclass(frozen=True)
class WebSource:
    """What one URL gave: the articles read there, or why none (`failure`), or why it was left out (`skipped`)."""

    url: str  # the URL its articles are recorded under
    read: list[Extracted] | None = None
    failure: str | None = None
    skipped: str | None = None
    share: float = 1.0  # of the URL given: a feed's entry pages share it


def url_sources(url: str, settings: Settings, refresh: bool = False) -> Iterator[WebSource]:
    """What a URL holds: the page itself, or for a feed each of its entries' pages (at most
    fetch.max_feed_entries of them; the rest are reported as skipped under the feed's URL)."""
    try:
        key = canonical_url(check_url(url))
        fetched = fetch(key, settings, refresh)
    except InputError as exc:
        yield WebSource(url, failure=exc.message)
        return
    if not looks_like_feed(fetched.data, fetched.content_type):
        yield _read(key, fetched)
        return
    entries = list(dict.fromkeys(canonical_url(e) for e in feed_entry_urls(fetched.data, fetched.final_url)))
    if not entries:
        yield WebSource(key, failure="a feed without entry links")
        return
    limit = settings.fetch.max_feed_entries
    share = 1.0 / min(limit, len(entries))
    for entry in entries[:limit]:
        try:
            yield replace(_read(entry, fetch(entry, settings, refresh)), share=share)
        except InputError as exc:
            yield WebSource(entry, failure=exc.message, share=share)
    if len(entries) > limit:
        yield WebSource(key, skipped=f"{len(entries) - limit} more feed entries left out "
                                     f"(RAG_FETCH__MAX_FEED_ENTRIES={limit})", share=0.0)


def _read(key: str, fetched: Fetched) -> WebSource:
    try:
        return WebSource(key, read=page_articles(fetched))
    except InputError as exc:
        return WebSource(key, failure=exc.message)
