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
