"""Which URLs to fetch: a URL given on the command line, a list of them in a file, the entries of a feed."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
import httpx

from rag.errors import InputError

SCHEMES = ("http", "https")
FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# What may come before a feed's root element: XML declaration, processing instructions, comments, a doctype.
_PROLOGUE = re.compile(r"\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*", re.DOTALL | re.IGNORECASE)
_FEED_ROOT = re.compile(r"<(?:[\w.-]+:)?(?:rss|feed|RDF)\b")
_LIST_HINT = "one http(s) URL per line; blank lines and lines starting with # are skipped"


def is_url(text: str) -> bool:
    """Whether a command-line argument is meant as a URL (it has a scheme such as https:), not a path.
    A Windows drive letter (C:) is a path."""
    return bool(_SCHEME.match(text)) and not re.match(r"^[A-Za-z]:[\\/]", text)


def check_url(url: str) -> str:
    """The URL stripped of surrounding space, or an InputError saying in one line why it cannot be fetched."""
    url = url.strip()
    if not _SCHEME.match(url):
        raise InputError(f"{url!r} is not a URL", hint="give one starting with http:// or https://")
    scheme = url.split(":", 1)[0].lower()
    if scheme not in SCHEMES:
        raise InputError(f"{scheme}: URLs are not fetched, only http and https")
    if re.search(r"\s", url):
        raise InputError(f"{url!r} has a space in it")
    try:
        host = httpx.URL(url).host
    except httpx.InvalidURL as exc:
        raise InputError(f"{url!r} is not a valid URL ({exc})") from None
    if not host:
        raise InputError(f"{url!r} names no host")
    return url


def canonical_url(url: str) -> str:
    """The URL as a server sees it, for telling duplicates apart: scheme and host lowercased, no fragment."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def media_type(content_type: str | None) -> str:
    """'text/html; charset=utf-8' -> 'text/html'; '' when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def read_url_list(path: Path | str) -> list[str]:
    """The URLs of a list file (`rag ingest --from urls.txt`), in order, each once. Blank lines and
    comments (a line starting with #, or ' #' after a URL) are skipped; any other line that is not an
    http(s) URL makes the whole list an InputError naming the lines, so no half of a list is ingested."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text", hint=_LIST_HINT) from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    urls: list[str] = []
    seen: set[str] = set()
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        if not line:
            continue
        try:
            url = check_url(line)
        except InputError as exc:
            problems.append(f"line {number}: {exc.message}")
            continue
        if (key := canonical_url(url)) not in seen:
            seen.add(key)
            urls.append(url)
    if problems:
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise InputError(f"{path}: " + "; ".join(problems[:3]) + more, hint=_LIST_HINT)
    return urls


def looks_like_feed(data: bytes, content_type: str | None = None) -> bool:
    """Whether fetched bytes are an RSS or Atom feed: by a feed content type, else by the root element
    (feeds are often served as text/xml, application/xml or even text/html)."""
    if media_type(content_type) in FEED_TYPES:
        return True
    return bool(_FEED_ROOT.match(_PROLOGUE.sub("", _head(data))))


def feed_entry_urls(data: bytes, base_url: str | None = None) -> list[str]:
    """The page links of a feed's entries, in feed order, each once; relative links are resolved
    against `base_url` (the feed's own URL). Entries without an http(s) link are skipped. Bytes that
    are not a feed are an InputError."""
    parsed = feedparser.parse(data)
    if not parsed.get("version") and not parsed.entries:
        raise InputError("not an RSS or Atom feed")
    urls: list[str] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        link = entry.get("link") or next((link.get("href") for link in entry.get("links", []) if link.get("href")), "")
        link = urljoin(base_url, link.strip()) if base_url else link.strip()
        if urlsplit(link).scheme.lower() not in SCHEMES or (key := canonical_url(link)) in seen:
            continue
        seen.add(key)
        urls.append(link)
    return urls


def _head(data: bytes) -> str:
    """The first few KB as text, enough to find the root element; UTF-16 feeds carry a BOM."""
    head = data[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="replace")
    return head.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
