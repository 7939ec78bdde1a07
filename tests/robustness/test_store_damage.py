"""Fault injection on the store. Each kind of damage (a truncated, zeroed or deleted catalog.sqlite
or chroma.sqlite3, a lost Chroma folder, a read-only data dir, an unreadable catalog, a data dir
that is a file) meets every command that touches the store, each run as a real process: it must
work, or name the damaged file and the fix in one line; never print a traceback; and nothing may
be deleted without `--force`, which first keeps a backup. Real Chroma, MiniLM and processes."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import pytest

from rag.errors import StoreError
from rag.ingest.locking import current_writer
from rag.store.doctor import check, repair

from support import AP, NYT, ROOT, SEEDS, make_store, write_lock_held
from corpus import committed_articles, rag_env, start_rag, variant_corpus

SEED_ARTICLES = 5
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
PR_CAPBSET_DROP = 24


# --- running rag -------------------------------------------------------------------------------
def _drop_root_file_powers() -> None:
    """Run as root without the capabilities that let root ignore file permissions (as if another user)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _can_drop_root_file_powers() -> bool:
    probe = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_drop_root_file_powers, capture_output=True)
    return probe.returncode == 0


def permissions_bind() -> tuple[Callable[[], None] | None, str | None]:
    """(preexec_fn making file permissions apply to the child, or None; why they cannot be made to apply)."""
    if os.geteuid() != 0:
        return None, None
    if _can_drop_root_file_powers():
        return _drop_root_file_powers, None
    return None, "running as root without CAP_SETPCAP: file permissions cannot be made to apply to rag"


def rag(data_dir: Path, *args: str, preexec: Callable[[], None] | None = None) -> tuple[int, str]:
    """Run `python -m rag.cli <args>` on data_dir; (exit code, stdout and stderr with rich's wrapping undone)."""
    env = rag_env(data_dir) | {"COLUMNS": "400"}
    done = subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, preexec_fn=preexec)
    return done.returncode, done.stdout + done.stderr


def assert_works_or_names(code: int, output: str, damage: Damage, command: str) -> None:
    """Exit 0, or one line that names the damaged file or folder and the fix; never a traceback."""
    assert "Traceback" not in output, f"{damage.name}: `rag {command}` printed a traceback:\n{output[-3000:]}"
    if code == 0:
        return
    named = [line for line in output.splitlines()
             if any(n in line for n in damage.names) and any(f in line for f in damage.fixes)]
    assert named, (f"{damage.name}: `rag {command}` exited {code} without one line naming "
                   f"{damage.names} and {damage.fixes}:\n{output[-3000:]}")


# --- what the store holds, read without rag ------------------------------------------------------
def catalog_rows(data_dir: Path) -> int | None:
    """Articles + chunks + paths in the catalog; 0 for a missing or empty file, None if unreadable."""
    path = data_dir / "catalog.sqlite"
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("articles", "chunks", "paths"))
    except sqlite3.Error:
        return None


def vector_count(folder: Path) -> int | None:
    """Vectors in a Chroma folder; 0 if there is none, None if unreadable."""
    path = folder / "chroma.sqlite3"
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    except sqlite3.Error:
        return None


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


@dataclass
class Held:
    """What a data dir holds: counts where readable, the bytes of what is not."""

    rows: int | None
    vectors: int | None
    catalog_bytes: str | None
    chroma_bytes: str | None

    @classmethod
    def of(cls, data_dir: Path) -> Held:
        if not data_dir.is_dir():
            return cls(None, None, digest(data_dir), None)
        return cls(catalog_rows(data_dir), vector_count(data_dir / "chroma"), digest(data_dir / "catalog.sqlite"),
                   digest(data_dir / "chroma" / "chroma.sqlite3"))


def assert_nothing_deleted(before: Held, after: Held, what: str) -> None:
    for name, readable, was_bytes, now_bytes in (
        ("catalog rows", (before.rows, after.rows), before.catalog_bytes, after.catalog_bytes),
        ("vectors", (before.vectors, after.vectors), before.chroma_bytes, after.chroma_bytes),
    ):
        was, now = readable
        if was is None:  # damaged: no command may rewrite (or remove) it without --force
            assert now_bytes == was_bytes, f"{what}: the damaged file holding the {name} was changed"
        else:
            assert now is not None and now >= was, f"{what}: {name} went from {was} to {now}"


# --- the damages -------------------------------------------------------------------------------
def truncate(path: Path, share: float = 0.5) -> None:
    with path.open("r+b") as handle:
        handle.truncate(int(path.stat().st_size * share))


@dataclass
class Damage:
    name: str
    apply: Callable[[Path], Path]  # damages a copy of the store; returns what RAG_DATA_DIR is set to
    names: tuple[str, ...]  # an error line names one of these (the file, or the data dir when given as "{dir}")
    fixes: tuple[str, ...]  # ... and one of these
    needs_permissions: bool = False  # only meaningful where file permissions bind rag
    force_repairs: bool = True  # `doctor --fix --force` ends with a clean store


CATALOG_FIX = ("catalog.sqlite",), ("`rag doctor --fix --force`", "restore it from a backup")
CHROMA_FIX = ("chroma", "Chroma"), ("`rag doctor --fix`",)
ACCESS_FIX = ("RAG_DATA_DIR",)


def _read_only(data_dir: Path) -> Path:
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    return data_dir


def _unreadable_catalog(data_dir: Path) -> Path:
    (data_dir / "catalog.sqlite").chmod(0)
    return data_dir


def _data_dir_is_a_file(data_dir: Path) -> Path:
    shutil.rmtree(data_dir)
    data_dir.write_text("not a folder\n")
    return data_dir


def _data_dir_under_a_file(data_dir: Path) -> Path:
    _data_dir_is_a_file(data_dir)
    return data_dir / "store"


DAMAGES = [
    Damage("truncated catalog", lambda d: truncate(d / "catalog.sqlite") or d, *CATALOG_FIX),
    Damage("zeroed catalog", lambda d: truncate(d / "catalog.sqlite", 0) or d, *CATALOG_FIX),
    Damage("deleted catalog", lambda d: (d / "catalog.sqlite").unlink() or d, *CATALOG_FIX),
    Damage("truncated chroma.sqlite3", lambda d: truncate(d / "chroma" / "chroma.sqlite3") or d,
           ("chroma.sqlite3",), ("`rag doctor --fix --force`",)),
    Damage("zeroed chroma.sqlite3", lambda d: truncate(d / "chroma" / "chroma.sqlite3", 0) or d, *CHROMA_FIX),
    Damage("deleted chroma folder", lambda d: shutil.rmtree(d / "chroma") or d, *CHROMA_FIX),
    Damage("read-only data dir", _read_only, ("{dir}",), ("writ",), needs_permissions=True, force_repairs=False),
    Damage("unreadable catalog", _unreadable_catalog, ("catalog.sqlite",), ("read and write",),
           needs_permissions=True, force_repairs=False),
    Damage("data dir is a file", _data_dir_is_a_file, ("{dir}",), ACCESS_FIX, force_repairs=False),
    Damage("data dir under a file", _data_dir_under_a_file, ("{dir}",), ACCESS_FIX, force_repairs=False),
]


@pytest.fixture(scope="module")
def healthy_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds ingested by `rag ingest` in a process of its own (so every file is closed and flushed)."""
    data_dir = tmp_path_factory.mktemp("healthy") / "data"
    code, output = rag(data_dir, "ingest", str(SEEDS))
    assert code == 0, output
    assert catalog_rows(data_dir) and vector_count(data_dir / "chroma")
    return data_dir


def damaged_copy(healthy: Path, tmp_path: Path, damage: Damage) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(healthy, data_dir)
    return damage.apply(data_dir)


def restore_permissions(root: Path) -> None:
    for path in [root, *root.rglob("*")] if root.is_dir() else []:
        path.chmod(path.stat().st_mode | 0o700)


READING = [
    ("articles",),
    ("search", "ceasefire energy infrastructure"),
    ("ask", "--backend", "extractive", "What did Trump and Putin agree about energy infrastructure?"),
    ("brief", "--backend", "extractive"),
    ("doctor",),
    ("doctor", "--fix"),
]


@pytest.mark.parametrize("damage", DAMAGES, ids=[d.name for d in DAMAGES])
def test_every_command_works_or_names_the_damage_and_nothing_is_deleted_without_force(
    damage: Damage, healthy_store: Path, tmp_path: Path
):
    preexec, why_not = permissions_bind() if damage.needs_permissions else (None, None)
    if why_not:
        pytest.skip(why_not)
    data_dir = damaged_copy(healthy_store, tmp_path, damage)
    damage = replace(damage, names=tuple(n.replace("{dir}", str(data_dir)) for n in damage.names))
    try:
        before = Held.of(data_dir)
        for args in READING:
            code, output = rag(data_dir, *args, preexec=preexec)
            assert_works_or_names(code, output, damage, " ".join(args))
            assert_nothing_deleted(before, Held.of(data_dir), f"{damage.name}: `rag {' '.join(args)}`")

        ingested = SEEDS / NYT
        code, output = rag(data_dir, "ingest", str(ingested), preexec=preexec)
        assert_works_or_names(code, output, damage, "ingest")
        ingest_worked = code == 0
        code, output = rag(data_dir, "forget", str(ingested), preexec=preexec)
        assert_works_or_names(code, output, damage, "forget")
        assert (code == 0) == ingest_worked, f"{damage.name}: forget after an ingest that worked: {output}"

        before_force = Held.of(data_dir)
        code, output = rag(data_dir, "doctor", "--fix", "--force", preexec=preexec)
        assert_works_or_names(code, output, damage, "doctor --fix --force")
        if not damage.force_repairs:
            assert code != 0
            return
        assert code == 0, output
        code, output = rag(data_dir, "doctor")
        assert code == 0 and output.startswith("ok:"), output
        deleted = before_force.rows is None or before_force.vectors is None or (
            before_force.vectors > (vector_count(data_dir / "chroma") or 0))
        backups = sorted((data_dir / "backups").glob("*")) if (data_dir / "backups").is_dir() else []
        if deleted:  # whatever --force deleted or replaced is in the backup, byte for byte
            assert len(backups) == 1, f"{damage.name}: --force changed the store without a backup: {output}"
            assert digest(backups[0] / "catalog.sqlite") == before_force.catalog_bytes
            if before_force.vectors is None:
                assert digest(backups[0] / "chroma" / "chroma.sqlite3") == before_force.chroma_bytes
            else:  # Chroma rewrites some of its bookkeeping whenever it opens; the vectors are what count
                assert vector_count(backups[0] / "chroma") == before_force.vectors
    finally:
        restore_permissions(data_dir)


def test_a_truncated_catalog_keeps_what_is_readable_and_lists_the_files_to_ingest_again(
    healthy_store: Path, tmp_path: Path
):
    data_dir = tmp_path / "data"
    shutil.copytree(healthy_store, data_dir)
    truncate(data_dir / "catalog.sqlite", 0.9)

    code, output = rag(data_dir, "doctor", "--fix")
    assert code == 1 and "catalog.sqlite is damaged" in output and "--force" in output

    code, output = rag(data_dir, "doctor", "--fix", "--force")
    assert code == 0, output
    (backup,) = (data_dir / "backups").iterdir()
    lost_list = backup / "lost-files.txt"
    lost = lost_list.read_text().split("\n")[:-1] if lost_list.exists() else []
    with closing(sqlite3.connect(data_dir / "catalog.sqlite")) as db:
        kept = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert kept + len(lost) == SEED_ARTICLES, output  # every article is either kept or named for re-ingest

    code, output = rag(data_dir, "ingest", *lost)
    assert code == 0, output
    code, output = rag(data_dir, "doctor")
    assert code == 0 and f"({SEED_ARTICLES} articles" in output, output


def rag_files(data_dir: Path) -> dict[Path, str | None]:
    """Every file rag itself writes in a data dir (all but Chroma's folder and the lock), with its digest."""
    return {p: digest(p) for p in data_dir.rglob("*")
            if p.is_file() and p.name != "write.lock" and "chroma" not in p.relative_to(data_dir).parts}


def test_doctor_only_reads_so_it_runs_while_an_ingest_holds_the_write_lock(healthy_store: Path, tmp_path: Path):
    data_dir = tmp_path / "data"
    shutil.copytree(healthy_store, data_dir)
    before = rag_files(data_dir)
    vectors = vector_count(data_dir / "chroma")
    with write_lock_held(data_dir):
        code, output = rag(data_dir, "doctor")
        assert code == 0 and output.startswith("ok:"), output
        assert f"note: an ingest is running (pid {os.getpid()})" in output
        code, output = rag(data_dir, "doctor", "--fix")
        assert code == 3 and "being written" in output, output  # a repair does wait its turn
    assert rag_files(data_dir) == before  # Chroma may tidy its own files on opening; rag wrote nothing
    assert vector_count(data_dir / "chroma") == vectors

    fresh = tmp_path / "never-used"
    code, output = rag(fresh, "doctor")
    assert code == 0 and "0 articles" in output and not fresh.exists(), output


def test_doctor_reports_beside_a_real_ingest_and_the_store_is_clean_after_it(tmp_path: Path, isolated_data_dir: Path):
    variant_corpus(tmp_path / "corpus", per_seed=3, exact_copies=0)
    ingest = start_rag(isolated_data_dir, "ingest", str(tmp_path / "corpus"))
    try:
        deadline = time.monotonic() + 120
        while committed_articles(isolated_data_dir) < 2:
            assert ingest.poll() is None and time.monotonic() < deadline, "the ingest never committed an article"
            time.sleep(0.05)
        code, output = rag(isolated_data_dir, "doctor")
        # The ingest takes the write lock once and lets it go once, a little before its process ends: a
        # lock still held after doctor returned was held all through doctor's run.
        held_throughout = current_writer(isolated_data_dir) is not None
    finally:
        _, err = ingest.communicate(timeout=300)
    assert ingest.returncode == 0, err[-2000:]
    assert "Traceback" not in output and "being written" not in output, output
    assert code in (0, 1) and ("note: an ingest is running" in output or not held_throughout), output
    code, output = rag(isolated_data_dir, "doctor")
    assert code == 0 and output.startswith("ok:") and "note:" not in output, output


def test_a_repair_deleting_more_than_a_few_records_needs_force_and_keeps_a_backup(
    tmp_path: Path, isolated_data_dir: Path, embeddings
):
    from rag.ingest.pipeline import ingest_paths

    store = make_store(isolated_data_dir, embeddings)
    ingest_paths(store, [SEEDS])
    kept = {a.id for a in store.catalog.articles() if Path(a.path).name in (AP, NYT)}
    with store.catalog.transaction() as db:  # as if catalog.sqlite were restored from an older backup
        db.execute(f"DELETE FROM articles WHERE id NOT IN ({','.join('?' * len(kept))})", sorted(kept))
    vectors_before, records_before = store.vectors.count(), store.catalog.count_records()

    found = check(store)
    assert found.needs_force and found.doomed_vectors > 5 and found.doomed_vectors > 0.1 * found.vectors
    with pytest.raises(StoreError, match="--force"):
        repair(store)
    assert (store.vectors.count(), store.catalog.count_records()) == (vectors_before, records_before)
    assert not (isolated_data_dir / "backups").exists()

    fixed = repair(store, force=True)
    assert fixed.clean and set(store.catalog.article_ids()) == kept
    (backup,) = (isolated_data_dir / "backups").iterdir()
    assert fixed.repaired[0] == f"copied the store to {backup} before deleting"
    assert vector_count(backup / "chroma") == vectors_before
    with closing(sqlite3.connect(backup / "catalog.sqlite")) as db:
        assert db.execute("SELECT count(*) FROM chunks").fetchone()[0] == found.chunks  # orphan chunks included

    # A few orphans (what an interrupted ingest leaves) are still repaired without asking.
    store.vectors.upsert(["ffffffffffffffff:0"], [[0.1] * 384], [{"article_id": "f" * 16, "index": 0, "start": 0,
                                                                  "end": 1, "outlet": "", "date": ""}])
    assert repair(store).repaired == ["deleted 1 orphan vectors"]
    assert len(list((isolated_data_dir / "backups").iterdir())) == 1
