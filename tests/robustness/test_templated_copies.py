"""Articles written from one template are different stories, not copies of each other.

A derived copy (a translation, a rewrite) says the same things as its original; two earthquake
reports or two council notices filled into one template say different things in the same words.
They must not be linked as derived, and a citation must never be moved to a sentence with other
numbers or names. The seeds' machine translation of AP must still be linked (tests/test_ingest.py).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.answer.answerer import Answerer
from rag.answer.backends import open_backend
from rag.answer.context import SourceSentence
from rag.ingest.derived_copies import carries, contradicts, sentence_facts
from rag.ingest.pipeline import ingest_paths
from rag.text.sentences import split_sentences

from support import make_store

QUAKE = """Magnitude {mag} earthquake shakes {region} {country}

{capital}, {country} (Quake Wire) — A magnitude {mag} earthquake struck {region} {country} on {day}, the U.S. Geological Survey said.

The quake hit at a depth of {depth} kilometers, about {distance} kilometers from the city of {city}, at {time} local time.

There were no immediate reports of damage or casualties, and no tsunami warning was issued.

Residents of {city} said the shaking lasted about {seconds} seconds and sent people running into the streets.

Earthquakes are common in the region, which lies on the Pacific Ring of Fire, an arc of faults around the ocean.
"""

CHILE = dict(mag="6.1", region="northern", country="Chile", capital="SANTIAGO", day="Monday", depth=35,
             distance=80, city="Antofagasta", time="3:42 p.m.", seconds=20)
PERU = dict(mag="5.4", region="southern", country="Peru", capital="LIMA", day="Tuesday", depth=60,
            distance=45, city="Arequipa", time="9:15 a.m.", seconds=10)


@pytest.fixture(scope="module")
def quake_store(tmp_path_factory: pytest.TempPathFactory, embeddings):
    folder = tmp_path_factory.mktemp("quakes")
    (folder / "chile.txt").write_text(QUAKE.format(**CHILE), encoding="utf-8")
    (folder / "peru.txt").write_text(QUAKE.format(**PERU), encoding="utf-8")
    store = make_store(tmp_path_factory.mktemp("quake-data"), embeddings)
    report = ingest_paths(store, [folder])
    return store, report


def _id_of(store, name: str) -> str:
    return next(a.id for a in store.catalog.articles() if Path(a.path).name == name)


def test_two_earthquake_reports_from_one_template_are_not_linked(quake_store):
    store, report = quake_store
    assert {f.status for f in report.files} == {"new"}
    assert report.duplicates == [] and store.catalog.duplicates() == []


def test_the_peru_question_is_answered_from_the_peru_article(quake_store):
    store, _ = quake_store
    answer = Answerer(store, open_backend(store.settings, "extractive")).ask("What magnitude was the Peru earthquake?")
    assert not answer.abstained and "5.4" in answer.answer
    assert {c.article_id for c in answer.citations} == {_id_of(store, "peru.txt")}
    assert all("6.1" not in c.quote for c in answer.citations)


def test_sentences_that_swap_numbers_names_or_days_contradict_and_do_not_carry_each_other():
    chile = sentence_facts("A magnitude 6.1 earthquake struck northern Chile on Monday, officials said.")
    peru = sentence_facts("A magnitude 5.4 earthquake struck southern Peru on Tuesday, officials said.")
    thursday = sentence_facts("A magnitude 6.1 earthquake struck northern Chile on Thursday, officials said.")
    assert contradicts(chile, peru) and contradicts(chile, thursday)
    assert not carries(peru, chile) and not carries(thursday, chile)


def test_a_retelling_that_spells_names_otherwise_or_leaves_a_detail_out_does_not_contradict():
    original = sentence_facts("Zelenskyy rejected Putin’s key condition that Western allies stop providing aid to Ukraine.")
    translated = sentence_facts("Zelensky rejected the key condition of Poutine that Western allies stop aid to Ukraine.")
    shorter = sentence_facts("The Ukrainian leader rejected the key condition, as he has since 2022, officials said.")
    assert not contradicts(original, translated) and carries(original, translated)
    assert not contradicts(original, shorter)
    assert not carries(original, shorter)  # 2022 is not in the original: citing it would not support the year
    united = sentence_facts("Officials said the United States could run the power plants for 30 years.")
    assert carries(sentence_facts("Officials said the U.S. could run the power plants for 30 years."), united)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from(["Peru", "U.S.", "’s", "I", "One", "1,200", "6.1", "Ⅻ", "½", "²", "“", "«", " ", "-",
                                 "ǅ", "İ", "x"]) | st.text(max_size=8), max_size=30).map("".join),
       st.text(max_size=40))
def test_facts_of_any_text_are_found_without_error(a: str, b: str):
    fa, fb = sentence_facts(a), sentence_facts(b)
    assert not contradicts(fa, fa) and carries(fa, fa)
    assert contradicts(fa, fb) == contradicts(fb, fa)
    carries(fa, fb)


STORM = """Storm floods coastal towns

Heavy rain from Storm Aldo flooded three coastal towns in Brittany on Sunday, officials said.

The death toll rose to {toll} on Monday after rescuers found two more bodies near Brest.

About 4,000 homes were left without power, {utility}.

Schools in the affected towns will stay closed until Thursday, the prefecture announced.

Forecasters expect the rain to ease by the middle of the week, the weather service said.
"""
STORM_SIDECAR = """first.txt:
  outlet: Storm Desk
  date: "2025-05-05"
update.txt:
  outlet: Coast News
  date: "2025-05-06"
"""


def test_a_citation_moves_to_the_original_only_when_the_original_states_the_same_numbers(tmp_path: Path, embeddings):
    folder = tmp_path / "storm"
    folder.mkdir()
    (folder / "sources.yaml").write_text(STORM_SIDECAR, encoding="utf-8")
    (folder / "first.txt").write_text(STORM.format(toll=9, utility="the regional utility said"), encoding="utf-8")
    (folder / "update.txt").write_text(STORM.format(toll=12, utility="according to the regional utility"),
                                       encoding="utf-8")
    store = make_store(tmp_path / "data", embeddings)
    ingest_paths(store, [folder])
    first, update = _id_of(store, "first.txt"), _id_of(store, "update.txt")
    assert [(d, o) for d, o, _ in store.catalog.duplicates()] == [(update, first)]  # one updated figure: still a copy
    article = store.catalog.article(update)

    def source(words: str) -> SourceSentence:
        span = next(s for s in split_sentences(article.text) if words in article.text[s.start : s.end])
        return SourceSentence(sid=1, article_id=update, cluster=first, outlet="Coast News", title=None, date=None,
                              start=span.start, end=span.end, text=article.text[span.start : span.end], rank=0)

    answerer = Answerer(store, open_backend(store.settings, "extractive"))
    # The original's "rose to 9" would not back a claim of 12 dead: the quote stays in the update.
    kept, also_in = answerer._original_of(source("death toll"))
    assert kept.article_id == update and "12" in kept.text and also_in == []
    moved, also_in = answerer._original_of(source("4,000 homes"))
    assert moved.article_id == first and "4,000 homes" in moved.text and also_in == [update]

    # Nor is the updated toll left out of what a question reads because the original has a close sentence.
    from rag.answer.context import build_context
    from rag.store.search import HybridRetriever

    question = "What did the death toll rise to?"
    docs = HybridRetriever.from_store(store).invoke(question)
    context = build_context(store, docs, store.counter, store.settings.context_tokens,
                            store.settings.duplicate_sentence_similarity)
    tolls = {s.article_id for s in context.sentences if "death toll" in s.text}
    assert tolls == {first, update}
    homes = [s.article_id for s in context.sentences if "4,000 homes" in s.text]
    assert update not in homes  # a retold sentence with the same facts is still left to its original


FIRST = ["Alice", "Bruno", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Julia", "Kofi", "Lena"]
LAST = ["Moreno", "Okafor", "Lindqvist", "Tanaka", "Novak", "Haddad", "Silva", "Kowalski", "Byrne", "Mensah"]
DISTRICTS = ["Riverside", "Hillcrest", "Old Town", "Harbour", "Northgate", "Westfield", "Eastbrook", "Millbank"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]


def notice(rng: random.Random, number: int) -> str:
    """One council notice from the template, every slot filled with its own values."""
    mayor, councillor = f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    month, day = rng.choice(MONTHS), rng.randint(1, 28)
    return (
        f"Council notice {number}\n\n"
        f"Council number {number} approved {rng.randint(10, 9999)} building permits at its meeting on {month} "
        f"{day}, chaired by Mayor {mayor}.\n\n"
        f"The permits cover {rng.randint(2, 400)} homes and {rng.randint(1, 60)} shops in the "
        f"{rng.choice(DISTRICTS)} district, the council said.\n\n"
        f"Councillor {councillor} voted against the permits, citing {rng.randint(2, 90)} complaints from residents.\n\n"
        f"The next meeting of council number {number} is set for {rng.choice(MONTHS)} {rng.randint(1, 28)}.\n\n"
        "Notices like this one are published by the council secretary under the municipal records act.\n"
    )


def test_five_hundred_templated_notices_link_none_as_copies(tmp_path: Path, embeddings):
    rng = random.Random(12)
    folder = tmp_path / "notices"
    folder.mkdir()
    numbers = rng.sample(range(1, 10_000), 500)
    for number in numbers:
        (folder / f"notice_{number:04d}.txt").write_text(notice(rng, number), encoding="utf-8")
    store = make_store(tmp_path / "data", embeddings)
    report = ingest_paths(store, [folder])
    assert len(report.files) == 500 and not report.failed
    assert report.duplicates == [] and store.catalog.duplicates() == []
