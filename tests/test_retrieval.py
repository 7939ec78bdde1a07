"""Hybrid search over the real seeded store."""

from rag.store.search import HybridRetriever, SearchFilters, reciprocal_rank_fusion

from support import AP, AP_TRANSLATION, NYT, article_id_of


def test_rrf_rewards_items_both_rankings_agree_on():
    scores = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "a"]], k=60)
    assert max(scores, key=scores.get) == "b"


def test_patriot_query_ranks_patriot_chunks_first(seeded_store):
    docs = HybridRetriever.from_store(seeded_store).search("Patriot missiles", k=5)
    mentions = ["patriot" in d.page_content.lower() for d in docs]
    assert mentions[:3] == [True, True, True]
    assert all(not later or earlier for earlier, later in zip(mentions, mentions[1:])), mentions


def test_prisoner_exchange_found_in_ap_and_its_translation(seeded_store):
    docs = HybridRetriever.from_store(seeded_store).search("175 prisoners", k=4)
    with_fact = {d.metadata["article_id"] for d in docs if "175 prisoners" in d.page_content}
    assert with_fact == {article_id_of(seeded_store, AP), article_id_of(seeded_store, AP_TRANSLATION)}
    assert "175 prisoners" in docs[0].page_content


def test_outlet_filter_restricts_results(seeded_store):
    docs = HybridRetriever.from_store(seeded_store, filters=SearchFilters(outlets=["new york times"])).search(
        "power plants ownership", k=5)
    assert docs and {d.metadata["article_id"] for d in docs} == {article_id_of(seeded_store, NYT)}


def test_date_filter_excludes_later_articles(seeded_store):
    docs = HybridRetriever.from_store(seeded_store, filters=SearchFilters(since="2025-03-20")).search("call", k=10)
    assert docs and {d.metadata["outlet"] for d in docs} == {"Unattributed summary site"}


def test_one_chunk_per_duplicate_cluster(seeded_store):
    retriever = HybridRetriever.from_store(seeded_store, filters=SearchFilters(per_cluster=1))
    docs = retriever.search("175 prisoners exchange", k=10)
    clusters = [d.metadata["cluster"] for d in docs]
    assert len(clusters) == len(set(clusters))


def test_retriever_is_a_langchain_runnable(seeded_store):
    docs = HybridRetriever.from_store(seeded_store, k=2).invoke("Peskov reciprocity")
    assert len(docs) == 2 and "reciprocity" in docs[0].page_content
