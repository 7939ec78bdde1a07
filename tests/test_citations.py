import numpy as np

from rag.answer.citations import is_supported, locate_quote, verify_citation

from rag.types import Citation

TEXT = "Trump said the talks were “very good.”\n\nHe added  that   175 prisoners — each side — were freed."


def test_quote_found_despite_curly_quotes_dashes_and_whitespace():
    start, end = locate_quote(TEXT, 'the talks were "very good."')
    assert TEXT[start:end] == "the talks were “very good.”"
    start, end = locate_quote(TEXT, "He added that 175 prisoners - each side - were freed.")
    assert TEXT[start:end].startswith("He added") and TEXT[start:end].endswith("freed.")


def test_a_fabricated_quote_is_rejected():
    fake = Citation(n=1, article_id="a", quote="Trump said the war has ended.", start=0, end=10)
    assert verify_citation(fake, TEXT) is None
    assert locate_quote(TEXT, "195 prisoners") is None


def test_wrong_offsets_are_corrected_to_where_the_quote_is():
    citation = Citation(n=1, article_id="a", quote="175 prisoners", start=0, end=13)
    fixed = verify_citation(citation, TEXT)
    assert fixed is not None and TEXT[fixed.start : fixed.end] == "175 prisoners"


def _unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_support_needs_the_numbers_and_the_words_of_the_claim():
    evidence = ["The two sides each swapped 175 prisoners on Wednesday."]
    near, vectors = _unit([1, 0.1]), np.array([_unit([1, 0])])
    assert is_supported("The sides swapped 175 prisoners.", evidence, near, vectors)
    assert not is_supported("The sides swapped 195 prisoners.", evidence, near, vectors)
    assert not is_supported("Trump declared the war over and praised the generals.", evidence, near, vectors)
    assert not is_supported("The sides swapped 175 prisoners.", evidence, _unit([0, 1]), vectors)
    assert not is_supported("The sides swapped 175 prisoners.", [], near, vectors[:0])


def test_a_name_the_evidence_never_mentions_makes_the_claim_unsupported():
    evidence = ["The Kremlin says Kyiv isn't upholding its end of the bargain."]
    near, vectors = _unit([1, 0.1]), np.array([_unit([1, 0])])
    assert is_supported("The Kremlin says Kyiv isn't upholding its end.", evidence, near, vectors)
    assert not is_supported("Peskov says Kyiv isn't upholding its end.", evidence, near, vectors)
    assert is_supported("Peskov says Kyiv isn't upholding its end.", evidence, near, vectors,
                        question="What did Peskov say about Kyiv?")
