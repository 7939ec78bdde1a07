"""JSON exports: JSON Lines (one article object per line), or one JSON document holding an article
object or a list of them. Field names vary by exporter, so each field has its common aliases."""

from __future__ import annotations

import json
import re

from rag.errors import InputError
from rag.ingest.decoding import decode_bytes
from rag.ingest.formats.base import Extracted
from rag.ingest.formats.dates import iso_date
from rag.ingest.formats.markup import html_to_text

# ArticleMeta field (or "text") -> names exporters use for it, most specific first; matched ignoring case.
ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("text", "content", "body", "article_text", "full_text", "fulltext", "article", "story",
             "articlebody", "maintext"),
    "title": ("title", "headline"),
    "url": ("url", "link", "canonical_url", "href", "uri", "permalink"),
    "date": ("date", "published", "published_at", "publishedat", "pubdate", "date_published",
             "datepublished", "publication_date", "created_at", "timestamp", "time"),
    "updated": ("updated", "updated_at", "modified", "date_modified", "datemodified", "last_modified"),
    "outlet": ("outlet", "source", "publisher", "site_name", "sitename", "site", "publication", "source_name",
               "domain"),
    "byline": ("byline", "author", "authors", "creator", "by"),
    "language": ("language", "lang"),
    "abstract": ("abstract", "summary", "description", "excerpt", "dek", "subtitle"),
}
_KEY_FIELDS = ("id", "guid", "uuid", "url", "link")  # what tells an article apart across exports
_JSON_START = re.compile(r"\s*(?:\{\s*(?:\"|\})|\[\s*\{)")  # an object with a key, or a list of objects


class JsonLinesReader:
    """.jsonl/.ndjson/.json, or any file that opens with a JSON object or a list of objects."""

    name = "json"
    suffixes = (".jsonl", ".ndjson", ".json")

    def sniff(self, head: str, suffix: str) -> bool:
        return suffix in self.suffixes or bool(_JSON_START.match(head))

    def read(self, data: bytes, source: str) -> list[Extracted]:
        text, note = decode_bytes(data)
        lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
        if not lines:
            raise InputError("no JSON records (whitespace only)")
        one_per_line = _parses(lines[0][1]) and (len(lines) > 1 or not source.lower().endswith(".json"))
        if not one_per_line:
            try:
                whole = json.loads(text)
            except json.JSONDecodeError:
                pass  # read line by line, to say which records are broken
            else:
                return _from_document(whole, note)
        return _unique_keys([_from_line(n, line, note) for n, line in lines])


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def _from_document(whole: object, note: str | None) -> list[Extracted]:
    """A JSON document: one article object, or a list of them (each keyed by its id or position)."""
    if isinstance(whole, list):
        return _unique_keys([_from_record(n, item, note, "item") for n, item in enumerate(whole, start=1)])
    article = _from_record(1, whole, note, "the document")
    if article.problem:
        raise InputError(article.problem.removeprefix("the document: "))
    return [Extracted(article.text, article.meta, None, note=note)]


def _from_line(number: int, line: str, note: str | None) -> Extracted:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return _failed(number, f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})")
    return _from_record(number, record, note, "line")


def _from_record(number: int, record: object, note: str | None, unit: str) -> Extracted:
    where = unit if unit.startswith("the ") else f"{unit} {number}"
    if not isinstance(record, dict):
        return _failed(number, f"{where}: not a JSON object but {type(record).__name__}")
    fields = {str(k).lower(): v for k, v in record.items()}
    text = _text(_first(fields, ALIASES["text"]))
    meta = {name: value for name in ALIASES if name != "text" and (value := _value(name, fields))}
    if not text.strip():
        names = ", ".join(ALIASES["text"][:3])
        return _failed(number, f"{where}: no article text (no {names} ... field with text)")
    if meta.get("abstract") and meta["abstract"] in text:
        del meta["abstract"]  # the opening words, not a separate summary
    key = next((str(fields[k]) for k in _KEY_FIELDS if isinstance(fields.get(k), (str, int)) and str(fields[k])),
               str(number))
    return Extracted(text, meta, key, note=note)


def _failed(number: int, problem: str) -> Extracted:
    return Extracted("", key=str(number), problem=problem)


def _first(fields: dict[str, object], names: tuple[str, ...]) -> object:
    return next((fields[n] for n in names if fields.get(n) not in (None, "", [], {})), None)


def _text(value: object) -> str:
    """Text of a field: HTML turned into paragraphs, a list of paragraphs joined."""
    if isinstance(value, list):
        return "\n\n".join(t for v in value if (t := _text(v).strip()))
    if not isinstance(value, str):
        return ""
    return html_to_text(value) if re.search(r"<(p|div|br|h\d|li|span|a)\b", value, re.I) else value


def _value(name: str, fields: dict[str, object]) -> str | None:
    """One metadata field as text: a name out of a {"name": ...} object, names of a list joined, dates as ISO."""
    value = _first(fields, ALIASES[name])
    if name in ("date", "updated"):
        return iso_date(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("title")
    if isinstance(value, list):
        value = ", ".join(n for v in value if (n := v.get("name") if isinstance(v, dict) else v) and isinstance(n, str))
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _unique_keys(articles: list[Extracted]) -> list[Extracted]:
    """Two records with the same id or url keep their own keys (the later ones get '~2', '~3' ...)."""
    seen: dict[str, int] = {}
    out = []
    for article in articles:
        if article.key is not None and article.key in seen:
            seen[article.key] += 1
            article = Extracted(article.text, article.meta, f"{article.key}~{seen[article.key]}",
                                article.front_matter, article.note, article.problem)
        elif article.key is not None:
            seen[article.key] = 1
        out.append(article)
    return out
