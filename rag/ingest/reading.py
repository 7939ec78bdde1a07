"""Files on disk: which to read below a folder, their bytes within limits, the articles in them (or a
one-line reason why not), and the paths articles are recorded under."""

from __future__ import annotations

import errno
from pathlib import Path

from rag.errors import InputError
from rag.ingest import formats
from rag.ingest.articles import SIDECAR_NAME
from rag.ingest.decoding import Decoded, decode, decode_bytes, legacy_encoding  # noqa: F401 (their old home)
from rag.ingest.formats.base import Extracted
from rag.ingest.formats.markup import html_to_text  # noqa: F401 (its old home)

_SNIFF_BYTES = 4096  # read of a file without suffix to tell whether it is an article format


def read_source(path: Path, max_bytes: int) -> list[Extracted]:
    """The articles in one file (a feed or an export holds many); raises InputError with a short reason."""
    return formats.read(read_bytes(path, max_bytes), str(path), path.suffix.lower())


def read_article(path: Path, max_bytes: int) -> Decoded:
    """The text of a file holding one article and how it was decoded; raises InputError with a short reason."""
    first = read_source(path, max_bytes)[0]
    if first.problem:
        raise InputError(first.problem)
    return Decoded(first.text, first.note)


def read_article_text(path: Path, max_bytes: int) -> str:
    """The article text of a file holding one article; raises InputError with a short reason."""
    return read_article(path, max_bytes).text


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file within the size limit; raises InputError with a short reason."""
    if problem := link_problem(path):
        raise InputError(problem)
    if not path.exists():
        raise InputError("no such file")
    if not path.is_file():
        raise InputError("not a regular file")  # a FIFO or device would block or never end
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(f"too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB limit, RAG_MAX_FILE_MB)")
    try:
        return path.read_bytes()
    except PermissionError:
        raise InputError("permission denied") from None
    except OSError as exc:
        raise InputError(f"unreadable ({exc.strerror or exc})") from None


def entry_path(file: str, key: str | None) -> str:
    """Where an article is recorded: the file's path, or '<file>#<key>' for one of many in it ('#' in a
    key is escaped, so the last '#' always ends the file's part)."""
    return file if key is None else f"{file}#{key.replace('%', '%25').replace('#', '%23')}"


def file_of(recorded: str) -> str:
    """The file an article was recorded from (see `entry_path`)."""
    if "#" not in recorded or Path(recorded).exists():
        return recorded
    return recorded.rpartition("#")[0]


def link_problem(path: Path) -> str | None:
    """Why a symlink leads to no file ('broken symlink', 'symlink loop'), or None."""
    if not path.is_symlink():
        return None
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        return "symlink loop"
    except OSError as exc:
        return "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
    return None


def resolved(path: Path) -> Path:
    """The absolute path a file is recorded under; a symlink loop is an InputError, not a RuntimeError."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        raise InputError(f"{path}: {link_problem(path) or 'cannot be resolved'}") from None


def discover(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to ingest below the given paths, and the paths that cannot be used with a reason."""
    files: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for path in paths:
        if problem := link_problem(path):
            problems.append((path, problem))
        elif not path.exists():
            problems.append((path, "no such file or directory"))
        elif path.is_dir():
            files.extend(p for p in _visible_files(path) if _is_article_file(p))
        else:
            files.append(path)
    return list(dict.fromkeys(files)), problems


def unsupported(paths: list[Path]) -> list[Path]:
    """Files inside the given folders that are not articles rag reads (a Word file, an image)."""
    return [p for path in paths if path.is_dir()
            for p in _visible_files(path) if not _is_article_file(p) and p.name != SIDECAR_NAME and p.is_file()]


def _is_article_file(path: Path) -> bool:
    """A suffix rag reads, or no suffix and content that shows a format rag reads."""
    if path.suffix:
        return path.suffix.lower() in formats.SUFFIXES
    if path.name == SIDECAR_NAME or not path.is_file():  # a FIFO would block the read
        return False
    try:
        with path.open("rb") as handle:
            return formats.recognised(handle.read(_SNIFF_BYTES))
    except OSError:
        return True  # let reading it give the reason


def _visible_files(folder: Path) -> list[Path]:
    """Files (and links) below a folder, leaving out hidden ones and those in hidden folders."""
    return sorted(p for p in folder.rglob("*") if not any(part.startswith(".") for part in p.relative_to(folder).parts)
                  and (p.is_file() or p.is_symlink()))
