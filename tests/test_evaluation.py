"""The eval's quote check is independent of the code that makes quotes, so it can fail."""

from rag.types import Answer
from rag.types import Citation
from rag.evaluation.questions import GoldLocator, GoldQuestion, score_question


def _answer_citing(citation: Citation) -> Answer:
    return Answer(question="q", standalone_question="q", answer=f"{citation.quote} [1]", abstained=False,
                  citations=[citation], backend="test", model="test")


def test_quote_validity_checks_the_stored_offsets_exactly(seeded_store):
    article = seeded_store.catalog.articles()[0]
    start = article.text.index(". ") + 2
    end = article.text.index(".", start) + 1
    quote = article.text[start:end]
    gold = GoldQuestion(id="t", kind="fact", question="q", answerable=False)
    locator = GoldLocator(seeded_store)

    def valid(**changes) -> int:
        fields = dict(n=1, article_id=article.id, quote=quote, start=start, end=end) | changes
        return score_question(gold, _answer_citing(Citation(**fields)), [], locator).valid_quotes

    assert valid() == 1
    assert valid(start=start + 1, end=end + 1) == 0  # the quote is in the article, but not at these offsets
    assert valid(quote=quote.replace(" ", "  ", 1)) == 0  # a folded match is not verbatim
    assert valid(article_id="no-such-article") == 0


def test_gold_passages_name_an_article_by_file_name_or_by_its_seed_prefix(tmp_path, embeddings):
    """Corpora name pages by id ("ars-minecraft"), the seeds by number ("000"); both locate the same way."""
    from rag.evaluation.questions import GoldPassage
    from rag.ingest.pipeline import ingest_paths
    from support import make_store

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "ars-minecraft.txt").write_text("A developer published code that crashes game servers.\n")
    (folder / "000_4cd543fc.txt").write_text("The two leaders spoke for an hour on Tuesday.\n")
    store = make_store(tmp_path / "store", embeddings)
    ingest_paths(store, [folder])
    spans = GoldLocator(store).spans([GoldPassage(article="ars-minecraft", quote="code that crashes game servers"),
                                      GoldPassage(article="000", quote="spoke for an hour"),
                                      GoldPassage(article="000_4cd543fc", quote="spoke for an hour"),
                                      GoldPassage(article="ars", quote="code that crashes game servers")])
    texts = {a.id: a.text for a in store.catalog.articles()}
    assert [texts[a][s:e] for a, s, e in spans[:3]] == ["code that crashes game servers", "spoke for an hour",
                                                         "spoke for an hour"]
    assert spans[3] is None  # a page id is matched whole, never by a prefix of letters


def test_metrics_are_computed_per_split_the_same_way_as_overall():
    from rag.evaluation.questions import QuestionResult, aggregate, split_metrics

    def result(qid: str, split: str, answerable: bool, abstained: bool, found: int) -> QuestionResult:
        return QuestionResult(id=qid, kind="fact", question="q", answerable=answerable, split=split, answer="a",
                              abstained=abstained, passed=False, facts_found=found, facts_total=1 if answerable else 0)

    results = [result("q1", "dev", True, False, 1), result("q2", "dev", False, True, 0),
               result("q3", "test", True, False, 0), result("q4", "test", False, False, 0)]
    splits = split_metrics(results)
    assert set(splits) == {"dev", "test"}
    assert (splits["dev"]["fact_recall"], splits["test"]["fact_recall"]) == (1.0, 0.0)
    assert (splits["dev"]["abstention_accuracy"], splits["test"]["abstention_accuracy"]) == (1.0, 0.0)
    assert splits["dev"] == aggregate(results[:2])
    assert split_metrics([r.model_copy(update={"split": None}) for r in results]) == {}  # the seeds: no split


def test_a_wrong_answer_shown_with_citations_is_counted_on_its_own():
    from rag.evaluation.questions import QuestionResult, aggregate

    def result(answerable: bool, abstained: bool, found: int, citations: int, cites_gold: bool) -> QuestionResult:
        return QuestionResult(id="q", kind="fact", question="q", answerable=answerable, answer="a", abstained=abstained,
                              passed=False, facts_found=found, facts_total=2, citations=citations, cites_gold=cites_gold)

    wrong = [result(False, False, 0, 1, False), result(True, False, 0, 2, False)]
    not_wrong = [result(False, True, 0, 0, False), result(True, False, 1, 1, True),  # abstained; incomplete
                 result(True, False, 0, 0, False), result(True, False, 0, 1, True)]  # uncited; cites the gold quote
    assert aggregate(wrong + not_wrong)["cited_without_gold_rate"] == round(2 / 6, 4)
