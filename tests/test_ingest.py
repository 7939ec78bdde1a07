"""Ingest against a real Chroma and the real MiniLM model."""

from pathlib import Path

from rag.ingest.pipeline import forget, ingest_paths

from support import AP, AP_TRANSLATION, SEEDS, article_id_of, make_store


def test_seeds_ingest_into_five_articles_with_chunks_in_both_indexes(seeded_store):
    assert len(seeded_store.catalog.article_ids()) == 5
    chunk_ids = seeded_store.catalog.chunk_ids()
    assert chunk_ids and seeded_store.vectors.all_ids() == chunk_ids


def test_every_stored_chunk_equals_its_article_text_at_its_offsets(seeded_store):
    for article in seeded_store.catalog.articles():
        for chunk in seeded_store.catalog.chunks_of(article.id):
            assert article.text[chunk.start : chunk.end] == chunk.text


def test_translation_is_the_only_near_duplicate_and_derives_from_ap(seeded_store):
    links = [(d, o) for d, o, _ in seeded_store.catalog.duplicates()]
    assert links == [(article_id_of(seeded_store, AP_TRANSLATION), article_id_of(seeded_store, AP))]


def test_reingest_changes_nothing(tmp_path: Path, embeddings, seeds_copy: Path):
    store = make_store(tmp_path / "d", embeddings)
    first = ingest_paths(store, [seeds_copy])
    count = store.vectors.count()
    again = ingest_paths(store, [seeds_copy])
    assert first.new_chunks > 0 and again.new_chunks == 0
    assert {f.status for f in again.files} == {"unchanged"}
    assert store.vectors.count() == count == store.catalog.count_chunks()


def test_changed_file_replaces_its_chunks(tmp_path: Path, embeddings, seeds_copy: Path):
    store = make_store(tmp_path / "d", embeddings)
    ingest_paths(store, [seeds_copy])
    path = seeds_copy / AP
    old_id = article_id_of(store, AP)
    path.write_text(path.read_text(encoding="utf-8").replace("175 prisoners", "195 prisoners"), encoding="utf-8")
    report = ingest_paths(store, [seeds_copy])
    changed = [f for f in report.files if f.status == "changed"]
    assert len(changed) == 1 and changed[0].article_id != old_id
    assert old_id not in store.catalog.article_ids() and len(store.catalog.article_ids()) == 5
    assert not any(cid.startswith(old_id) for cid in store.vectors.all_ids())
    assert store.vectors.all_ids() == store.catalog.chunk_ids()


def test_forget_by_path_and_by_id_prefix(tmp_path: Path, embeddings, seeds_copy: Path):
    store = make_store(tmp_path / "d", embeddings)
    ingest_paths(store, [seeds_copy])
    removed = forget(store, str(seeds_copy / AP_TRANSLATION))
    assert len(removed) == 1 and store.catalog.duplicates() == []
    nyt = store.catalog.article_ids()[0]
    forget(store, nyt[:6])
    assert len(store.catalog.article_ids()) == 3
    assert store.vectors.all_ids() == store.catalog.chunk_ids()


def test_the_same_text_at_two_paths_is_one_article(tmp_path: Path, embeddings):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text((SEEDS / AP).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "a" / "y.txt").write_text((SEEDS / AP).read_text(encoding="utf-8"), encoding="utf-8")
    store = make_store(tmp_path / "d", embeddings)
    report = ingest_paths(store, [tmp_path / "a"])
    assert sorted(f.status for f in report.files) == ["duplicate", "new"]
    assert len(store.catalog.article_ids()) == 1


def test_only_articles_close_in_meaning_are_compared_sentence_by_sentence(tmp_path: Path, embeddings, seeds_copy: Path):
    """An article on another subject is never compared sentence by sentence (no sentence vectors are
    computed for it), while the seed translation is still found as a copy when it arrives last."""
    store = make_store(tmp_path / "d", embeddings)
    other = seeds_copy / "sourdough.txt"
    other.write_text(
        "How to bake sourdough bread at home\n\nFeed the starter with equal weights of flour and water the night "
        "before baking. Mix the dough, rest it for an hour, then fold it every thirty minutes. Shape the loaf, "
        "proof it overnight in the fridge and bake it in a hot covered pot. Let the bread cool before slicing it, "
        "or the crumb turns gummy. A good crust needs steam during the first twenty minutes in the oven.\n",
        encoding="utf-8",
    )
    ingest_paths(store, [p for p in seeds_copy.glob("*.txt") if p.name != AP_TRANSLATION])
    cached = {p.stem for p in (store.settings.data_dir / "sentences").glob("*.npy")}
    assert article_id_of(store, "sourdough.txt") not in cached and len(cached) >= 3
    report = ingest_paths(store, [seeds_copy / AP_TRANSLATION])
    assert [(d, o) for d, o, _ in report.duplicates] == [
        (article_id_of(store, AP_TRANSLATION), article_id_of(store, AP))]
