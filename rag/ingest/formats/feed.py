"""RSS and Atom feed files (feedparser): each entry is an article, its full content where the feed
carries it (content:encoded, Atom content), else its summary."""

from __future__ import annotations

from urllib.parse import urlparse

from rag.errors import InputError
from rag.ingest.formats.base import Extracted
from rag.ingest.formats.dates import iso_date
from rag.ingest.formats.markup import html_to_text, root_tag

FEED_ROOTS = {"rss": "</rss>", "feed": "</feed>", "rdf:rdf": "</rdf:RDF>"}  # root element -> its end tag
_HTML_TYPES = {"text/html", "application/xhtml+xml"}


class FeedReader:
    """A feed file: .rss, .atom, or .xml/.html/no suffix when its root element is rss, feed or rdf:RDF."""

    name = "feed"
    suffixes = (".rss", ".atom", ".xml")

    def sniff(self, head: str, suffix: str) -> bool:
        return root_tag(head) in FEED_ROOTS or suffix in self.suffixes

    def read(self, data: bytes, source: str) -> list[Extracted]:
        import feedparser

        parsed = feedparser.parse(data)
        problem = _xml_problem(parsed)
        if not parsed.get("version"):
            raise InputError(f"not an RSS or Atom feed{f' ({problem})' if problem else ''}")
        if problem and _cut_off(data):
            raise InputError(f"the feed is cut off ({problem}): nothing read from it", hint="download it again")
        if not parsed.entries:
            raise InputError("the feed holds no entries")
        outlet = parsed.feed.get("title") or _site(parsed.feed.get("link"))
        language = (parsed.feed.get("language") or "").split("-")[0].lower() or None
        note = f"malformed XML ({problem}): read leniently" if problem else _encoding_note(parsed)
        keys: set[str] = set()
        return [_entry(entry, i, keys, outlet, language, note, problem)
                for i, entry in enumerate(parsed.entries, start=1)]


def _xml_problem(parsed) -> str | None:
    """The XML error feedparser recovered from, in one line, or None (encoding overrides are no error)."""
    exc = parsed.get("bozo_exception")
    if not parsed.get("bozo") or exc is None or type(exc).__name__ != "SAXParseException":
        return None
    return f"{exc.getMessage()} at line {exc.getLineNumber()}"


def _encoding_note(parsed) -> str | None:
    """'document declared as utf-8, but parsed as windows-1252' when the declared encoding did not fit."""
    exc = parsed.get("bozo_exception")
    return " ".join(str(exc).split()) if type(exc).__name__ == "CharacterEncodingOverride" else None


def _cut_off(data: bytes) -> bool:
    """The document ends before its root element closes (a download cut short)."""
    tail = data.rstrip()[-64:].decode("utf-8", errors="ignore").lower()
    return not any(tail.endswith(end.lower()) for end in FEED_ROOTS.values())


def _site(link: str | None) -> str | None:
    host = urlparse(link or "").hostname
    return host.removeprefix("www.") if host else None


def _entry(entry, number: int, keys: set[str], outlet: str | None, language: str | None,
           note: str | None, xml_problem: str | None) -> Extracted:
    key = _unique(str(entry.get("id") or entry.get("link") or number), keys)
    text = _body(entry)
    meta = {name: value for name, value in _meta(entry, outlet, language).items() if value}
    if not text.strip():
        why = f"no text left by the malformed XML ({xml_problem})" if xml_problem else "no text, only a title and link"
        return Extracted("", meta, key, problem=f"entry {number} ({meta.get('title') or key}): {why}")
    return Extracted(text, meta, key, note=note)


def _unique(key: str, taken: set[str]) -> str:
    """The entry's id, told apart from an earlier entry with the same id (feeds repeat them)."""
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key}~{n}"
    taken.add(candidate)
    return candidate


def _body(entry) -> str:
    """The longest text among the entry's contents, else its summary."""
    texts = [_plain(c.get("value", ""), c.get("type", "text/html")) for c in entry.get("content") or []]
    best = max(texts, key=len, default="")
    if best.strip():
        return best
    detail = entry.get("summary_detail") or {}
    return _plain(entry.get("summary", ""), detail.get("type", "text/html"))


def _plain(value: str, kind: str) -> str:
    return html_to_text(value) if kind in _HTML_TYPES and "<" in value else value.strip()


def _meta(entry, outlet: str | None, language: str | None) -> dict[str, str | None]:
    title_type = (entry.get("title_detail") or {}).get("type", "text/plain")
    published = iso_date(entry.get("published")) or iso_date(entry.get("published_parsed"))
    # dict.get: feedparser's own get falls back from a missing 'updated' to 'published', with a warning
    updated = iso_date(dict.get(entry, "updated")) or iso_date(dict.get(entry, "updated_parsed"))
    authors = [a.get("name") for a in entry.get("authors") or [] if a.get("name")]
    return {
        "title": _plain(entry.get("title", ""), title_type) or None,
        "date": published or updated,
        "updated": updated if updated != (published or updated) else None,
        "byline": ", ".join(authors) or entry.get("author"),
        "url": link if urlparse(link := entry.get("link") or "").scheme in ("http", "https") else None,  # no bare guid
        "outlet": outlet,
        "language": language,
    }
