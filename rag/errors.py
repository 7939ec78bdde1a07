"""User-facing failures: one type per kind, each with a hint on what to do next; and the checks of
user input (questions, dates, counts) that raise them, shared by every entry point."""

from __future__ import annotations

import re
from datetime import date


class RagError(Exception):
    """A failure a user can act on; the CLI prints it as one line, never a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.retryable = retryable

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(RagError):
    """Bad input from the user: a missing path, an unknown id, an invalid option."""

    exit_code = 2


class ConfigError(InputError):
    """A RAG_ variable (or OPENAI_*) holds a value rag cannot use."""


class StoreError(RagError):
    """The index cannot be reached or is inconsistent."""


class StoreDamaged(StoreError):
    """A file of the store is unreadable as what it should be (truncated, zeroed, not a database).

    `path` names the damaged file or folder; the hint says how to get the store back. Repairs
    must not treat what a damaged file fails to list as deleted.
    """

    def __init__(self, message: str, hint: str, path: str) -> None:
        super().__init__(message, hint=hint)
        self.path = path


class ModelError(RagError):
    """An embedding or chat model failed to load or answer."""


class LockBusy(RagError):
    """Another process holds the ingest lock."""

    exit_code = 3


# A character that can start a word, as one class that Python's `re`, the ECMA-262 regexes of JSON Schema
# (where \w is ASCII only) and Rust's regex all read alike: any character but ASCII punctuation, controls
# and the spaces of either dialect. Letters, digits and _ pass, and so does every non-ASCII character
# that is not a space, so questions in any script are accepted and the served schema states the rule exactly.
WORD_CHARACTER = (r"[^\x00-\x2F\x3A-\x40\x5B-\x5E\x60\x7B-\x7F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029"
                  r"\u202F\u205F\u3000\uFEFF]")


def require_words(text: str) -> str:
    """A question or query must hold a word: '', '   ' and '*' are refused, not answered with nothing."""
    if not re.search(WORD_CHARACTER, text):
        raise InputError(f"{text.strip()!r} has no words to look for", hint="ask about the articles in words")
    return text.strip()


def iso_date(value: str | None, option: str) -> str | None:
    """An ISO date (YYYY-MM-DD) as given to --since/--until; 'yesterday' is refused, not matched as text."""
    try:
        return date.fromisoformat(value).isoformat() if value is not None else None
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date", hint="give an ISO date: YYYY-MM-DD") from None


def at_least_one(count: int | None, option: str) -> int | None:
    if count is not None and count < 1:
        raise InputError(f"{option} {count}: must be at least 1")
    return count
