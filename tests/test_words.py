"""The one text toolkit: every module folds, stems and finds names the same way."""

import importlib
import pkgutil

import rag.briefing.discrepancies as discrepancies
from rag.ingest.articles import parse_metadata
from rag.store.catalog import fts_query
from rag.text.words import DATELINE, NUMBER_WORDS, names, normalise, numbers, stem, stems


def test_folding_makes_typographic_variants_equal():
    assert normalise("“Very  good” — she said’s\u00a0") == normalise('"Very good" - she said\'s')


def test_stems_meet_across_inflections_hyphens_and_possessives():
    assert stems("prisoners exchanged") == stems("prisoner exchanges")
    assert stems("the cease-fire") == stems("ceasefire") == {"ceasefire"}
    assert stems("Russia’s offer") == stems("Russia offer")
    assert stem("prisoners") == stem("prisoner")
    assert not stems("he said that they would not")  # stop words carry no topic


def test_names_leave_out_sentence_starters_days_and_possessives():
    assert names("During the call on Wednesday, Zelenskyy’s team met NATO.") == {"zelenskyy"}


def test_numbers_and_number_words():
    assert numbers("1,200 troops and 3.5 million dollars") == {"1200", "3.5"}
    assert NUMBER_WORDS["seven"] == "7"


def test_one_dateline_serves_ingest_and_claims():
    lede = "KYIV, Ukraine (AP) — President Zelenskyy said on Wednesday that the talks went well."
    assert DATELINE.match(lede).group("wire") == "AP"
    assert parse_metadata(lede + "\n").outlet == "Associated Press"
    assert DATELINE.match("Russia (the Kremlin said) agreed.") is None


def test_the_lexical_index_drops_the_same_stop_words():
    assert fts_query("What did he say about the prisoners?") == '"prisoners"'


def test_every_discrepancy_detector_is_listed_once():
    modules = [importlib.import_module(f"{discrepancies.__name__}.{m.name}")
               for m in pkgutil.iter_modules(discrepancies.__path__)]
    detectors = [m.detect for m in modules if hasattr(m, "detect")]
    assert len(detectors) == 5 and set(detectors) == set(discrepancies.DETECTORS)
    assert len(discrepancies.DETECTORS) == len(set(discrepancies.DETECTORS))
