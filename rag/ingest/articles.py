"""Articles: reading files, normalising text, content ids and metadata (parsed, sidecar, front matter)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from rag.errors import InputError
from rag.text.words import DATELINE
from rag.types import Article, ArticleMeta

if TYPE_CHECKING:
    from rag.ingest.formats.base import Extracted

SIDECAR_NAME = "sources.yaml"
_WIRES = {"AP": "Associated Press", "AFP": "Agence France-Presse", "REUTERS": "Reuters"}
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?))?\b")
_OUTLET_REPORTER = re.compile(r"\bis an? ([A-Z][A-Za-z&]+(?: [A-Z][A-Za-z&]+)?) reporter\b")
_BYLINE = re.compile(
    r"^(?:By [A-Z].{2,80}|.*(?:contributed to this report|Reporting was contributed by|is an? [A-Z]\w+ reporter).*)$",
    re.M,
)


def content_id(text: str) -> str:
    """Stable id from the normalised text, so the same article always gets the same id."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def normalise_text(text: str) -> str:
    """Unify line endings and drop a BOM and trailing blank space; offsets refer to this text."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n") + "\n"


def split_front_matter(text: str) -> tuple[dict, str]:
    """YAML front matter between leading '---' lines, and the text after it."""
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not match:
        return {}, text
    data = _yaml(match.group(1), "front matter")
    return (data if isinstance(data, dict) else {}), text[match.end() :]


def _yaml(source: str, where: str) -> object:
    """Parsed YAML, or an InputError saying in one line where it is broken."""
    try:
        return yaml.safe_load(source) or {}
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{where} is not valid YAML{at}", hint="fix or remove it") from None


def _looks_like_headline(line: str) -> bool:
    line = line.strip()
    return 0 < len(line) <= 200 and len(line.split()) <= 30 and not re.search(r"[.!?:;,]$", line)


def parse_metadata(text: str) -> ArticleMeta:
    """Title, date, abstract, byline and outlet as far as the text itself states them."""
    lines = [line for line in text.split("\n")]
    head = "\n".join(lines[:6])
    meta = ArticleMeta()
    first = next((line for line in lines if line.strip()), "")
    if _looks_like_headline(first) and not _DATE.fullmatch(first.strip()):
        meta.title = first.strip()
    if (dateline := DATELINE.match(text[:300])) and dateline.group("wire").upper() in _WIRES:
        meta.outlet = _WIRES[dateline.group("wire").upper()]
    if date := _DATE.search(head):
        meta.date = date.group(1) + (f" {date.group(2)}" if date.group(2) else "")
    if abstract := re.search(r"^Abstract:\s*(\S.*)$", text, re.M):
        meta.abstract = abstract.group(1).strip()
    if bylines := _BYLINE.findall(text):
        meta.byline = " ".join(b.strip(" _") for b in bylines)
    if meta.outlet is None and (reporter := _OUTLET_REPORTER.search(text)):
        meta.outlet = reporter.group(1)
    return meta


def load_sidecar(folder: Path) -> dict[str, dict]:
    """Per-file metadata from `sources.yaml` in a folder, keyed by file name."""
    path = folder / SIDECAR_NAME
    if not path.is_file():
        return {}
    data = _yaml(path.read_text(encoding="utf-8"), str(path))
    return {str(k): v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def merge_meta(parsed: ArticleMeta, *overrides: dict) -> ArticleMeta:
    """Stated metadata wins over what was parsed from the text, each override over the ones before it."""
    values = parsed.model_dump()
    for override in overrides:
        for key, value in override.items():
            if key in values and value is not None:
                values[key] = str(value) if key not in ("translation",) else bool(value)
    return ArticleMeta(**values)


def build_article(path: Path, raw_text: str, sidecar: dict | None = None) -> Article:
    """An Article from decoded file text (front matter and all) plus any sidecar entry for it."""
    from rag.ingest.formats.base import Extracted

    front, body = split_front_matter(normalise_text(raw_text))
    return article_from(Extracted(body, front_matter=front), str(path), sidecar)


def article_from(extracted: Extracted, path: str, sidecar: dict | None = None) -> Article:
    """An Article recorded under `path` from what a reader extracted. Metadata, each over the one before:
    what the text says of itself < what the format states < the sidecar < the file's front matter."""
    text = normalise_text(extracted.text)
    meta = merge_meta(parse_metadata(text), extracted.meta, sidecar or {}, extracted.front_matter)
    return Article(id=content_id(text), path=path, text=text, meta=meta)
