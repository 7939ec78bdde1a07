"""Fetched pages kept in the data dir (<data_dir>/pages/), so a re-ingest needs no network and a page
can be extracted again when the extractor improves.

Each page is two files named by a hash of its URL: `<key>.body` (the bytes as served) and `<key>.json`
(a PageRecord). Both are written to a temporary file and renamed into place, the record last, so a
record always describes a complete body; a body that does not match its record's sha256 is ignored.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from rag.ingest.urls import canonical_url

PAGES_DIR = "pages"


class PageRecord(BaseModel):
    """What is known of one cached page; `url` is the URL asked for, `final_url` where redirects ended."""

    url: str
    final_url: str
    content_type: str
    fetched_at: datetime
    sha256: str
    size: int


def pages_dir(data_dir: Path) -> Path:
    return data_dir / PAGES_DIR


def page_key(url: str) -> str:
    """The file name stem of a URL's page: the same for URLs that differ only in case of host or fragment."""
    return hashlib.sha256(canonical_url(url).encode("utf-8")).hexdigest()[:32]


def save_page(data_dir: Path, record: PageRecord, data: bytes) -> Path:
    """Keep a page's bytes and record, replacing an older copy; returns the body's path."""
    folder = pages_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    key = page_key(record.url)
    body = folder / f"{key}.body"
    _write_atomically(body, data)
    _write_atomically(folder / f"{key}.json", record.model_dump_json(indent=1).encode("utf-8"))
    return body


def load_page(data_dir: Path, url: str) -> tuple[PageRecord, bytes] | None:
    """A cached page's record and bytes, or None when there is none or it is incomplete or damaged."""
    folder = pages_dir(data_dir)
    key = page_key(url)
    record = _read_record(folder / f"{key}.json")
    if record is None:
        return None
    try:
        data = (folder / f"{key}.body").read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != record.sha256:
        return None
    return record, data


def cached_pages(data_dir: Path) -> list[PageRecord]:
    """Every cached page's record, oldest fetch first (bodies are not read)."""
    folder = pages_dir(data_dir)
    records = [_read_record(path) for path in folder.glob("*.json")] if folder.is_dir() else []
    return sorted((r for r in records if r is not None), key=lambda r: (r.fetched_at, r.url))


def _read_record(path: Path) -> PageRecord | None:
    try:
        return PageRecord.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a kill mid-write leaves the old file or none."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
