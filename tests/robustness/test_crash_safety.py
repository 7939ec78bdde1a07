"""A kill -9 in the middle of an ingest, and damage done on purpose: the next ingest or the doctor
must leave the catalog and the Chroma collection in step. Real Chroma, real MiniLM, real processes."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import numpy as np

from rag.ingest.articles import build_article
from rag.store.doctor import check, repair
from rag.ingest.pipeline import ingest_paths, sentence_vectors
from rag.ingest.reading import read_article_text
from rag.store.search import HybridRetriever

from support import make_store
from corpus import committed_articles, start_rag, variant_corpus

KILL_AFTER = 10  # articles committed before the kill: part-way through a run of 40


def distinct_article_ids(files: list[Path]) -> set[str]:
    return {build_article(p.resolve(), read_article_text(p, 10**8)).id for p in files}


def assert_store_consistent(store, expected_ids: set[str]) -> None:
    catalog, vectors = store.catalog, store.vectors
    assert set(catalog.article_ids()) == expected_ids
    chunk_ids = catalog.chunk_ids()
    assert vectors.all_ids() == chunk_ids
    assert vectors.count() == len(chunk_ids) == catalog.count_chunks()
    for article in catalog.articles():
        stored = catalog.chunks_of(article.id)
        assert [c.id for c in stored] == [c.id for c in store.chunk(article)], "chunks stored twice or lost"
        assert all(article.text[c.start : c.end] == c.text for c in stored)
    report = check(store)
    assert report.clean, report.problems


def test_ingest_killed_part_way_then_run_again_leaves_catalog_and_chroma_in_step(
    tmp_path: Path, isolated_data_dir: Path, embeddings
):
    files = variant_corpus(tmp_path / "corpus", per_seed=8)
    expected = distinct_article_ids(files)
    assert len(expected) == len(files) - 3  # the three byte-identical copies are no new articles

    first = start_rag(isolated_data_dir, "ingest", str(tmp_path / "corpus"))
    deadline = time.monotonic() + 120
    while committed_articles(isolated_data_dir) < KILL_AFTER and first.poll() is None:
        assert time.monotonic() < deadline, "the first ingest never committed an article"
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    _, err = first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL, f"the ingest ended before it was killed: {err[-500:]}"
    assert KILL_AFTER <= committed_articles(isolated_data_dir) < len(expected)

    second = start_rag(isolated_data_dir, "ingest", str(tmp_path / "corpus"))
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err[-2000:]
    assert "Traceback" not in out + err

    store = make_store(isolated_data_dir, embeddings)
    assert_store_consistent(store, expected)
    hits = HybridRetriever.from_store(store).search("American ownership of Ukrainian power plants", k=3)
    assert hits and all(h.metadata["chunk_id"] in store.catalog.chunk_ids() for h in hits)


def _simulate_kill_between_upsert_and_commit(store, text: str) -> list[str]:
    """What Store.add has done when a kill lands after the Chroma upsert, before the catalog commit."""
    article = build_article(Path("/gone/interrupted.txt"), text)
    chunks = store.chunk(article)
    store.vectors.upsert(
        [c.id for c in chunks], store.embeddings.embed_documents([c.text for c in chunks]),
        [{"article_id": article.id, "index": c.index, "start": c.start, "end": c.end, "outlet": "", "date": ""}
         for c in chunks],
    )
    return [c.id for c in chunks]


def test_doctor_finds_every_kind_of_damage_and_repair_fixes_it(tmp_path: Path, isolated_data_dir: Path, embeddings):
    files = variant_corpus(tmp_path / "corpus", per_seed=2, exact_copies=0)
    store = make_store(isolated_data_dir, embeddings)
    ingest_paths(store, [tmp_path / "corpus"])
    assert check(store).clean and check(store).repaired == []
    links_before = sorted(store.catalog.duplicates())
    catalog, db = store.catalog, store.catalog.db
    victim, unmarked, fts_victim, fts_changed, *_ = catalog.articles()
    victim_chunk = catalog.chunks_of(victim.id)[0]
    gone = "f" * 16

    orphans = _simulate_kill_between_upsert_and_commit(
        store, "A ceasefire report that never reached the catalog.\n\nIts vectors did reach Chroma.\n"
    )
    store.vectors.delete_ids([victim_chunk.id])  # a catalog chunk without its vector
    catalog.unembed(store.vectors.name, [unmarked.id])  # killed between the commit and mark_embedded
    fts_missing = catalog.chunks_of(fts_victim.id)[0]
    fts_edited = catalog.chunks_of(fts_changed.id)[0]
    with catalog.transaction():
        db.execute("DELETE FROM chunks_fts WHERE rowid = (SELECT rowid FROM chunks WHERE id = ?)", (fts_missing.id,))
        db.execute("UPDATE chunks_fts SET text = 'zzyzx quuxword' WHERE rowid = (SELECT rowid FROM chunks WHERE id = ?)",
                   (fts_edited.id,))
        db.execute("INSERT INTO chunks_fts(rowid, text) VALUES (999999, 'a row for no chunk')")
        db.execute("INSERT INTO chunks(id, article_id, idx, start, end, text) VALUES (?, ?, 0, 0, 5, 'ghost')",
                   (f"{gone}:0", gone))
        db.execute("INSERT INTO paths(path, article_id) VALUES ('/gone/a.txt', ?)", (gone,))
        db.execute("INSERT INTO duplicates(article_id, original_id, score) VALUES (?, ?, 0.9)", (victim.id, gone))
        db.execute("INSERT INTO embedded(article_id, collection) VALUES (?, 'chunks-other-model')", (gone,))
    cache = sentence_vectors(store).folder
    (cache / f"{victim.id}.npy").write_bytes((cache / f"{victim.id}.npy").read_bytes()[:40])  # torn write
    np.save(cache / f"{gone}.npy", np.zeros((1, 384), dtype=np.float32))

    found = check(store)
    assert found.orphan_vectors == sorted(orphans)
    assert found.missing_vectors == [victim_chunk.id]
    assert found.unmarked_articles == [unmarked.id]
    assert found.fts_missing == [fts_missing.id] and found.fts_mismatched == [fts_edited.id]
    assert found.fts_stale == [999999]
    assert found.orphan_chunks == [f"{gone}:0"]
    assert found.dangling_paths == ["/gone/a.txt"]
    assert found.dangling_duplicates == [(victim.id, gone)]
    assert found.dangling_embedded == [(gone, "chunks-other-model")]
    assert found.bad_sentence_caches == sorted([f"{victim.id}.npy", f"{gone}.npy"])
    assert not found.clean and len(found.problems) == 11

    fixed = repair(store)
    assert fixed.clean, fixed.problems
    assert len(fixed.repaired) == 6
    expected = {build_article(p.resolve(), p.read_text(encoding="utf-8")).id for p in files}
    assert_store_consistent(store, expected)
    assert sorted(store.catalog.duplicates()) == links_before
    # The re-embedded chunk is found by meaning again, the re-indexed ones by their words.
    dense = store.vectors.query(store.embeddings.embed_query(victim_chunk.text), 1)
    assert dense[0][0] == victim_chunk.id
    phrase = '"' + " ".join(re.findall(r"\w+", fts_missing.text)[:8]) + '"'
    rows = db.execute("SELECT c.id FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
                      "WHERE chunks_fts MATCH ?", (phrase,)).fetchall()
    assert fts_missing.id in [r[0] for r in rows]
    assert catalog.lexical_search("zzyzx quuxword", 5) == []
    # The torn cache file no longer breaks the duplicate refresh of the next ingest.
    (tmp_path / "corpus" / "extra.txt").write_text("A new short report on the energy ceasefire.\n", encoding="utf-8")
    again = ingest_paths(store, [tmp_path / "corpus"])
    assert [f.status for f in again.files if f.status != "unchanged"] == ["new"]
    assert sorted(store.catalog.duplicates()) == links_before
    assert repair(store).repaired == []
