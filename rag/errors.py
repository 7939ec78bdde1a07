"""User-facing failures: one type per kind, each with a hint on what to do next."""

from __future__ import annotations


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
