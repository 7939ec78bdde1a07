"""The `rag` command: parse options, call the library, print. No logic lives here (see rag.commands)."""

from __future__ import annotations

import sys

from rag.commands import library, answering, maintenance, serving  # noqa: F401  (each registers its commands, in this order)
from rag.commands.common import app

__all__ = ["app"]

if __name__ == "__main__":
    sys.exit(app())
