"""Briefings over the real seeded store: claims, corroboration, discrepancies, verification, output."""

import json

import pytest
from typer.testing import CliRunner

from rag.briefing.briefer import Briefer
from rag.settings import BriefingSettings
from rag.briefing.markdown import to_markdown
from rag.briefing.writer import Writer, parse_numbered
from rag.briefing.faithfulness import keeps_meaning_markers, keeps_names_together, keeps_roles, sentence_case
from rag.briefing.section_titles import key_phrase
from rag.briefing.claims import ClaimSet, claim_spans, order_articles
from rag.briefing.discrepancies import Scope, find_discrepancies, number_conflict, quantities, wording
from rag.briefing.grouping import group_facts, shared_clause, stands_alone
from rag.answer.backends import ExtractiveBackend, open_backend
from rag.llm.prompts import NOT_IN_ARTICLES
from rag.settings import Settings
from rag.llm.prompts import get_prompt
from rag.store.search import SearchFilters
from rag.text.words import stem

from support import AP, AP_TRANSLATION, NOTUS, NYT, SUMMARY, article_id_of
from fakes import ScriptedChatModel, model_backend


@pytest.fixture(scope="module")
def ids(seeded_store):
    return {name: article_id_of(seeded_store, name) for name in (AP, SUMMARY, AP_TRANSLATION, NYT, NOTUS)}


@pytest.fixture(scope="module")
def claims(seeded_store):
    clusters = seeded_store.catalog.clusters()
    articles = order_articles(seeded_store.catalog.articles(), clusters)
    return ClaimSet.build(articles, clusters, seeded_store.embeddings,
                          seeded_store.settings.duplicate_sentence_similarity)


@pytest.fixture(scope="module")
def extractive_briefing(seeded_store):
    return Briefer(seeded_store, open_backend(seeded_store.settings, "extractive")).brief()


def claim_with(claims, words: str):
    return next(c for c in claims.claims if words in c.text)


# --- map: claims ------------------------------------------------------------------------------
def test_claims_are_sentences_at_their_offsets_without_headings_abstracts_or_datelines(seeded_store, claims, ids):
    for claim in claims.claims:
        assert seeded_store.catalog.article(claim.article_id).text[claim.start : claim.end] == claim.text
    texts = [c.text for c in claims.claims]
    assert not any(t.startswith(("Abstract:", "date ", "Ukraine’s red line")) for t in texts)
    lede = claim_with(claims, "constructive call")
    assert lede.article_id == ids[AP] and lede.text.startswith("President Donald Trump")  # dateline trimmed
    summary = seeded_store.catalog.article(ids[SUMMARY])
    assert all(summary.text[s:e] != summary.meta.title for s, e, _ in claim_spans(summary))


def test_sentences_the_translation_shares_with_ap_are_folded_into_ap_claims(claims, ids):
    patriot = claim_with(claims, "Patriot defense missile systems")
    assert patriot.article_id == ids[AP] and patriot.also_in == [ids[AP_TRANSLATION]]
    copies = [c.text.lower() for c in claims.claims if c.article_id == ids[AP_TRANSLATION]]
    assert not any("patriot defense missile" in t for t in copies)
    assert all(c.cluster == ids[AP] for c in claims.claims if c.article_id == ids[AP_TRANSLATION])


# --- reduce: facts ------------------------------------------------------------------------------
def test_the_patriot_request_is_one_fact_from_two_independent_sources(claims, ids):
    facts = group_facts(claims, BriefingSettings().same_claim, lambda a, b: bool(number_conflict(a, b)))
    patriot = next(f for f in facts if any("Patriot" in claims.claims[r].text for r in f.rows))
    assert {claims.claims[r].article_id for r in patriot.rows} == {ids[AP], ids[SUMMARY]}
    assert patriot.independent_sources == 2


def test_a_claim_that_disagrees_on_a_number_is_not_counted_as_corroboration(claims, ids):
    facts = group_facts(claims, BriefingSettings().same_claim, lambda a, b: bool(number_conflict(a, b)))
    swap = next(f for f in facts if any("175 prisoners" in claims.claims[r].text for r in f.rows))
    assert swap.independent_sources == 1 and swap.weight == 2
    assert [claims.claims[r].article_id for r in swap.conflicting] == [ids[SUMMARY]]
    hundreds = next(f for f in facts if any("hundreds of prisoners" in claims.claims[r].text for r in f.rows))
    assert hundreds is not swap and hundreds.independent_sources == 1


def test_a_point_shows_only_the_clause_other_outlets_report(claims):
    floated = claim_with(claims, "an idea that Ukrainian energy experts said was probably unworkable")
    discussed = claim_with(claims, "they discussed the possibility of the U.S. taking over")
    shown = shared_clause(claims, floated.row, [discussed.row], BriefingSettings().clause_gain)
    assert shown == ("During the call, Mr. Trump also floated the idea of the United States taking control of "
                     "Ukrainian power plants …")
    assert shown.rstrip(" …") in floated.text  # still the article's words
    patriot = claim_with(claims, "Patriot defense missile systems")
    assert shared_clause(claims, patriot.row, [discussed.row], 0.1) == patriot.text


def test_quantities_pair_numbers_with_the_nouns_they_count():
    assert quantities("the two combatants said they had each swapped 175 prisoners") == {
        "combatant": {"2"}, "prisoner": {"175"}}
    assert quantities("exchanged hundreds of prisoners of war")["prisoner"] == {"hundreds"}
    assert quantities("launched seven drones at power facilities") == {stem("drones"): {"7"}}
    assert quantities("Crimea, which Russia annexed in 2014 years ago") == {}
    assert number_conflict("each swapped 175 prisoners", "exchanged hundreds of prisoners") == {
        "prisoner": ({"175"}, {"hundreds"})}
    assert number_conflict("150 drones attacked", "150 drones were launched") == {}


# --- discrepancies ----------------------------------------------------------------------------
def test_the_known_differences_between_outlets_are_found_with_verbatim_sides(seeded_store, claims, ids):
    facts = group_facts(claims, 0.95, lambda a, b: bool(number_conflict(a, b)))
    found = find_discrepancies(claims, facts, set(range(len(facts))), BriefingSettings())
    by_kind = {}
    for d in found:
        by_kind.setdefault(d.kind, []).append(d)
        for v in d.versions:
            assert seeded_store.catalog.article(v.article_id).text[v.start : v.end] == v.quote
    former = by_kind["title"][0]
    assert former.versions[0].article_id == ids[SUMMARY] and former.versions[0].text.startswith("Former U.S. President")
    assert {v.article_id for v in former.versions[1:]} >= {ids[AP], ids[NOTUS]}
    swap = next(d for d in by_kind["numbers"] if "prisoners" in d.about)
    assert [v.text for v in swap.versions] == ["175 prisoners", "hundreds of prisoners"]
    plants = next(d for d in by_kind["wording"] if "ownership" in d.about)
    readings = {v.article_id: v.text for v in plants.versions}
    assert "could be" in readings[ids[AP]] and "would be" in readings[ids[NYT]] and "would be" in readings[ids[NOTUS]]
    assert ids[AP_TRANSLATION] not in readings  # a translation rewords everything: not an outlet's difference


def test_the_same_words_quoted_at_different_lengths_are_no_difference(claims):
    found = wording.detect(claims, Scope(wording_ratio=0.6))
    for d in found:
        texts = [" ".join(v.text.lower().split()) for v in d.versions]
        assert len(set(texts)) > 1
    assert not any("very helpful in running those plants" in d.about for d in found)


# --- the briefing ----------------------------------------------------------------------------
def test_every_quote_in_the_briefing_is_verbatim_in_its_article(seeded_store, extractive_briefing):
    b = extractive_briefing
    quotes = [c for p in b.all_points() for c in p.citations]
    quotes += [v for d in b.discrepancies for v in d.versions]
    assert quotes
    for q in quotes:
        assert seeded_store.catalog.article(q.article_id).text[q.start : q.end] == q.quote


def test_independent_sources_count_duplicate_clusters_never_the_translation(seeded_store, extractive_briefing, ids):
    clusters = seeded_store.catalog.clusters()
    for point in extractive_briefing.all_points():
        assert point.independent_sources == len({clusters[c.article_id] for c in point.citations})
        articles = {c.article_id for c in point.citations}
        if ids[AP] in articles and ids[AP_TRANSLATION] in articles:
            assert point.independent_sources < len(articles)
    assert extractive_briefing.independent_sources == 4


def test_the_briefing_has_a_headline_key_points_sections_and_differences(extractive_briefing):
    b = extractive_briefing
    assert b.headline and b.headline != NOT_IN_ARTICLES
    assert 3 <= len(b.points) <= 6 and all(p.independent_sources >= 2 for p in b.points)
    assert len(b.sections) >= 4 and len({s.title for s in b.sections}) == len(b.sections)
    assert {"title", "numbers", "wording"} <= {d.kind for d in b.discrepancies}
    assert all(p.written_by == "article" for p in b.all_points()) and b.calls == 0


def test_the_json_shape_is_what_programs_read(extractive_briefing):
    data = json.loads(json.dumps(extractive_briefing.public()))
    assert {"headline", "points", "sections", "discrepancies", "sources"} <= set(data)
    assert set(data["points"][0]) >= {"text", "citations", "outlets", "independent_sources"}
    assert set(data["points"][0]["citations"][0]) == {"n", "article_id", "outlet", "title", "date", "quote", "start", "end",
                                                      "also_in"}
    assert set(data["discrepancies"][0]) >= {"about", "versions"}
    assert set(data["discrepancies"][0]["versions"][0]) >= {"text", "outlet", "article_id", "quote"}


def test_markdown_lists_every_cited_quote_under_sources(extractive_briefing):
    md = to_markdown(extractive_briefing)
    assert md.startswith(f"# {extractive_briefing.headline}\n")
    assert md.index("## Key points") < md.index("## Where the reports differ") < md.index("## Sources")
    for point in extractive_briefing.all_points():
        for c in point.citations:
            assert f"[{c.n}] “{' '.join(c.quote.split())}”" in md
    assert "a derived copy of Associated Press, not a separate source" in md


def test_a_topic_briefing_keeps_to_the_topic_and_shows_its_difference(seeded_store):
    b = Briefer(seeded_store, open_backend(seeded_store.settings, "extractive")).brief(topic="prisoner exchange")
    texts = [p.text for p in b.all_points()]
    assert texts and all("prisoner" in t.lower() for t in texts)
    assert any(d.kind == "numbers" and "175" in d.about for d in b.discrepancies)


def test_a_topic_the_articles_do_not_cover_gives_no_points(seeded_store):
    b = Briefer(seeded_store, open_backend(seeded_store.settings, "extractive")).brief(topic="Who won the Super Bowl?")
    assert b.headline == NOT_IN_ARTICLES and not b.all_points() and not b.discrepancies


def test_an_outlet_filter_briefs_only_that_outlet(seeded_store, ids):
    b = Briefer(seeded_store, open_backend(seeded_store.settings, "extractive")).brief(
        filters=SearchFilters(outlets=["new york"]))
    assert [s.article_id for s in b.sources] == [ids[NYT]]
    assert {c.article_id for p in b.all_points() for c in p.citations} == {ids[NYT]}
    assert all(d.kind == "single_source" for d in b.discrepancies)


# --- what a model may write -------------------------------------------------------------------
def test_model_sentences_must_keep_numbers_negations_hedges_and_attribution(seeded_store):
    writer = Writer(seeded_store, ExtractiveBackend(Settings()), BriefingSettings())
    source = ("Meanwhile, the two combatants said Wednesday that they had each swapped 175 prisoners in one of the "
              "largest exchanges of the war.")
    assert writer.faithful(source, "The two sides said they each swapped 175 prisoners.")
    assert not writer.faithful(source, "The two sides said they each swapped 195 prisoners.")
    assert not writer.faithful(source, "The two sides each swapped 175 prisoners.")  # attribution dropped
    hedged = "Trump told Zelenskyy that the U.S. could be very helpful in running those plants, the statement said."
    assert not keeps_meaning_markers(hedged, "The statement said the U.S. will run the plants.")
    assert not keeps_meaning_markers("Officials said the talks went well.", "Officials said the talks did not go well.")


def test_names_may_not_be_glued_together_and_roles_may_not_swap():
    evidence = ("President Volodymyr Zelensky of Ukraine agreed in a call with President Trump. "
                "Former U.S. President Donald Trump stated that he had a call.")
    assert not keeps_names_together(evidence, "U.S. President Zelensky agrees to energy pause")
    assert keeps_names_together(evidence, "President Zelensky agrees to a pause in a call with Trump")
    source = ("Russia responded by saying it had halted its targeting of Ukraine’s energy facilities and accused "
              "Kyiv of attacking Russian equipment near one of its pipelines.")
    assert not keeps_roles(source, "Russia halted energy targets, Kyiv accused Russian equipment.")
    assert keeps_roles(source, "Russia said it halted strikes and accused Kyiv of attacking its equipment.")
    assert sentence_case("Zelenskyy Agrees To Partial Ceasefire", "President Volodymyr Zelenskyy agreed to a partial "
                         "ceasefire.") == "Zelenskyy agrees to partial ceasefire"


def test_numbered_replies_are_parsed_leniently():
    assert parse_numbered("1. First.\n2) **Second**\nnoise\n3 - “Third”") == {1: "First.", 2: "Second", 3: "Third"}


def test_rewrites_that_fail_the_check_are_dropped_and_the_verbatim_sentence_stays(seeded_store):
    def reply(prompt: str) -> str:
        if "headline" in prompt.lower():
            return "Russia and Ukraine declare the war over"
        if "label the topic" in prompt.lower():
            return "Prisoners"
        lines = [line.split(". ", 1) for line in prompt.splitlines() if line[:1].isdigit()]
        return "\n".join(f"{n}. The two sides said they each swapped 195 prisoners." if "175" in text
                         else f"{n}. The two countries exchanged prisoners." for n, text in lines)

    model = ScriptedChatModel(reply=reply, prompts=[])
    briefing = Briefer(seeded_store, model_backend(model="fake", llm=model)).brief(topic="prisoner exchange")
    assert all("195" not in p.text for p in briefing.all_points())
    assert "The two sides said they each swapped 195 prisoners." in briefing.dropped
    kept = [p for p in briefing.all_points() if p.written_by == "model"]
    assert [p.text for p in kept] == ["The two countries exchanged prisoners."]  # shorter, nothing added
    assert "hundreds of prisoners" in kept[0].citations[0].quote  # and the verbatim quote still backs it
    assert briefing.headline != "Russia and Ukraine declare the war over"
    counter = seeded_store.counter
    assert model.prompts and all(counter.count(p) < BriefingSettings().call_tokens + 50 for p in model.prompts)


def test_a_full_briefing_needs_few_small_model_calls(seeded_store):
    model = ScriptedChatModel(reply=lambda prompt: "", prompts=[])
    briefing = Briefer(seeded_store, model_backend(model="fake", llm=model)).brief()
    assert 1 <= briefing.calls <= 8 and len(model.prompts) == briefing.calls
    assert all(seeded_store.counter.count(p) < 600 for p in model.prompts)
    assert all(p.written_by == "article" for p in briefing.all_points())  # nothing usable came back


def test_extractive_titles_are_phrases_of_their_sections():
    facts = [["Russia and Ukraine swapped 175 prisoners."], ["The prisoner swap was the largest of the war."]]
    corpus = [t for f in facts for t in f] + ["Drones hit power plants.", "Talks will be held in Riyadh."]
    title = key_phrase(facts, corpus, set())
    assert title.lower() in {"prisoners", "swapped", "war", "prisoner swap", "swap"} or "prisoner" in title.lower()
    assert key_phrase(facts, corpus, {title.lower()}) != title


def test_the_briefing_prompts_are_registered_and_small():
    for name in ("brief_shorten", "brief_titles", "brief_headline"):
        prompt = get_prompt(name)
        assert len((prompt.system + prompt.user).split()) < 200


def test_sentences_that_need_the_one_before_are_not_chosen_to_stand_for_a_fact():
    assert not stands_alone("“American ownership would be the best protection,” they said.")
    assert not stands_alone("He stated that seven drones were already en route.")
    assert stands_alone("“American ownership would be the best protection,” Mr. Rubio and Mr. Waltz said.")
    assert stands_alone("This Wednesday, the two countries also exchanged hundreds of prisoners of war.")
    assert not stands_alone("This marks their first conversation since the meeting.")
    assert not stands_alone("“We will not go for it.”")
    assert not stands_alone("Furthermore, they discussed the possibility of the U.S. taking over power plants.")
    assert not stands_alone('"Overnight, 150 drones attacked energy infrastructure," he added, noting two hospitals.')
    assert not stands_alone("“Ukraine accepted a cease-fire without any form of conditions.")  # part of a quote


def test_rag_brief_prints_json_and_writes_markdown(seeded_store, tmp_path, monkeypatch):
    from rag.cli import app

    monkeypatch.setenv("RAG_DATA_DIR", str(seeded_store.settings.data_dir))
    target = tmp_path / "brief.md"
    result = CliRunner().invoke(app, ["brief", "--backend", "extractive", "--json", "--out", str(target)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["points"] and target.read_text(encoding="utf-8").startswith(f"# {data['headline']}")
    missing = CliRunner().invoke(app, ["brief", "--backend", "extractive", "--outlet", "no such outlet"])
    assert missing.exit_code == 2 and "no ingested article matches" in missing.output


def test_the_openai_backend_path_works_end_to_end(seeded_store, monkeypatch):
    """`rag brief --backend openai` against an OpenAI-compatible server whose replies are useless for a
    briefing: every call is made and rejected, and the briefing stands in the articles' own words."""
    from rag.cli import app

    from fakes import StubOpenAIServer

    monkeypatch.setenv("RAG_DATA_DIR", str(seeded_store.settings.data_dir))
    with StubOpenAIServer() as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        result = CliRunner().invoke(app, ["brief", "--backend", "openai", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["backend"] == "openai" and 1 <= data["calls"] <= 8 and len(stub.requests) == data["calls"]
    assert all(p["written_by"] == "article" for p in data["points"])
    assert all(r["body"]["max_completion_tokens"] <= 320 for r in stub.requests)


@pytest.mark.local_model
def test_the_local_model_writes_a_checked_briefing_in_few_small_calls(seeded_store, tmp_path):
    from rag.settings import Settings

    settings = Settings(data_dir=tmp_path / "local", model_dir=Settings().cache_dir / "models")
    backend = open_backend(settings, "local")
    try:
        briefing = Briefer(seeded_store, backend).brief()
    finally:
        backend.close()
    assert 1 <= briefing.calls <= 8 and briefing.usage.completion_tokens > 0, briefing.notes
    assert briefing.usage.prompt_tokens < 600 * briefing.calls
    checker = Writer(seeded_store, ExtractiveBackend(Settings()), BriefingSettings())
    for point in briefing.all_points():
        for c in point.citations:
            assert seeded_store.catalog.article(c.article_id).text[c.start : c.end] == c.quote
        if point.written_by == "model":
            assert checker.faithful(point.citations[0].quote, point.text)
    assert briefing.headline and briefing.headline != NOT_IN_ARTICLES
    assert 3 <= len(briefing.points) <= 6 and len(briefing.sections) >= 4
