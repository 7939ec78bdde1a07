"""The cited-answer chain over the real seeded store (real Chroma, real MiniLM)."""

import json

import pytest
from pydantic import SecretStr

from rag.answer.answerer import Answerer
from rag.answer.model_output import parse_model_output
from rag.answer.condense import condense
from rag.types import Turn
from rag.answer.backends import ExtractiveBackend, open_backend
from rag.llm.prompts import NOT_IN_ARTICLES

from support import AP, AP_TRANSLATION, article_id_of
from fakes import ScriptedChatModel, StubOpenAIServer, cite_first_matching, model_backend, source_lines
from rag.settings import Settings


def assert_quotes_verbatim(store, answer):
    for c in answer.citations:
        assert store.catalog.article(c.article_id).text[c.start : c.end] == c.quote


@pytest.fixture(scope="module")
def extractive(seeded_store):
    return Answerer(seeded_store, open_backend(seeded_store.settings, "extractive"))


def test_extractive_answers_the_patriot_question_citing_ap_verbatim(extractive, seeded_store):
    answer = extractive.ask("What did Zelenskyy ask Trump for?")
    assert not answer.abstained and "patriot" in answer.answer.lower()
    assert answer.claims[0].citations == [1] and "Patriot" in answer.citations[0].quote
    assert answer.citations[0].article_id == article_id_of(seeded_store, AP)
    assert_quotes_verbatim(seeded_store, answer)


@pytest.mark.parametrize("question", ["Who won the 2024 Super Bowl?", "What is the boiling point of mercury?"])
def test_extractive_abstains_on_questions_the_articles_do_not_cover(extractive, question):
    answer = extractive.ask(question)
    assert answer.abstained and answer.answer == NOT_IN_ARTICLES and answer.citations == []


def test_translation_is_never_cited_over_the_original_and_not_counted_twice(extractive, seeded_store):
    answer = extractive.ask("How many prisoners did the two sides swap?")
    ids = {c.article_id for c in answer.citations}
    assert article_id_of(seeded_store, AP_TRANSLATION) not in ids
    assert "175" in answer.answer and answer.independent_sources == len({c.outlet for c in answer.citations})


def test_model_claims_citing_missing_or_unrelated_sentences_are_dropped(seeded_store):
    def reply(prompt: str) -> str:
        return json.dumps({"sentences": [
            {"text": "The war has ended and all troops went home.", "sources": [1]},
            {"text": "Zelenskyy requested Patriot systems.", "sources": [999]},
        ]})

    answerer = Answerer(seeded_store, model_backend(model="fake", llm=ScriptedChatModel(reply=reply)))
    answer = answerer.ask("What did Zelenskyy ask Trump for?")
    assert answer.abstained and answer.citations == [] and len(answer.dropped) == 2


def test_a_supported_model_claim_is_kept_with_its_quote(seeded_store):
    answerer = Answerer(seeded_store, model_backend(model="fake", llm=ScriptedChatModel(reply=cite_first_matching("patriot"))))
    answer = answerer.ask("What did Zelenskyy ask Trump for?")
    assert not answer.abstained and "Patriot" in answer.citations[0].quote
    assert answer.usage.prompt_tokens == 10
    assert_quotes_verbatim(seeded_store, answer)


def test_followup_is_condensed_with_the_model_using_the_history(seeded_store):
    model = ScriptedChatModel(reply=lambda p: "What did Russia say about the energy strike pause?"
                              if "Follow-up question" in p else json.dumps({"sentences": []}))
    backend = model_backend(model="fake", llm=model)
    history = [Turn(question="What did Putin agree to about energy strikes?", answer="He agreed to pause them.")]
    answer = Answerer(seeded_store, backend).ask("And what did Russia say about that?", history)
    assert answer.standalone_question == "What did Russia say about the energy strike pause?"
    assert "Putin agree to about energy strikes" in model.prompts[0]


def test_followup_without_a_model_keeps_the_previous_topic():
    history = [Turn(question="What did Putin agree to about energy strikes?", answer="...")]
    standalone = condense("And what did Russia say about that?", history, ExtractiveBackend(Settings()))
    assert "energy strikes" in standalone and standalone.endswith("about that?")


def test_streaming_yields_drafts_then_the_verified_answer(seeded_store):
    answerer = Answerer(seeded_store, model_backend(model="fake", llm=ScriptedChatModel(reply=cite_first_matching("175"))))
    pieces = list(answerer.stream("How many prisoners were swapped?"))
    assert pieces[-1].citations and "175" in pieces[-1].answer


def test_parser_repairs_fenced_json_and_reads_plain_text_markers():
    assert parse_model_output('```json\n{"sentences": [{"text": "A.", "sources": ["[2]"]}]}\n```') == [("A.", [2])]
    assert parse_model_output("Zelenskyy asked for Patriots [3]. Russia refused [1, 4].") == [
        ("Zelenskyy asked for Patriots .", [3]), ("Russia refused .", [1, 4])]


def test_openai_path_against_an_openai_compatible_server_on_loopback(seeded_store):
    with StubOpenAIServer() as server:
        settings = seeded_store.settings.model_copy(update={"openai_base_url": server.base_url,
                                                            "openai_api_key": SecretStr("sk-test-1234")})
        backend = open_backend(settings, None)  # auto picks openai when a key is set
        answer = Answerer(seeded_store, backend).ask("What did Peskov say about reciprocity?")
    request = server.requests[-1]
    assert backend.name == "openai" and request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer sk-test-1234"
    assert request["body"]["response_format"]["type"] == "json_schema"
    assert request["body"]["temperature"] == 0 and request["body"]["model"] == settings.openai_model
    assert not answer.abstained and answer.usage.prompt_tokens == 42
    assert_quotes_verbatim(seeded_store, answer)


def test_a_server_without_json_schema_support_is_retried_without_it(seeded_store):
    with StubOpenAIServer(reject_schema=True) as server:
        settings = seeded_store.settings.model_copy(update={"openai_base_url": server.base_url})
        answer = Answerer(seeded_store, open_backend(settings, "openai")).ask("What did Peskov say about reciprocity?")
    assert [r["body"].get("response_format", {}).get("type") for r in server.requests] == ["json_schema", None]
    assert not answer.abstained


class _CutStream(ScriptedChatModel):
    """Streams its reply in pieces, then stops the way the openai client reports a reply cut at max_tokens."""

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        import openai
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk
        from openai.types.chat import ChatCompletion

        text = self.reply(messages[-1].content)
        for at in range(0, len(text), 12):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text[at : at + 12]))
        raise openai.LengthFinishReasonError(completion=ChatCompletion.model_construct(
            id="x", choices=[], created=0, model="fake", object="chat.completion", usage=None))


def test_a_streamed_answer_cut_at_the_token_limit_keeps_its_complete_sentences(seeded_store):
    """A JSON answer cut mid-sentence at max_tokens ends the stream, not the answer: the complete
    sentences are verified as usual and the half-written one is dropped."""
    def reply(prompt: str) -> str:
        number = next(n for n, text in source_lines(prompt).items() if "Patriot" in text)
        return json.dumps({"sentences": [{"text": "Zelenskyy requested additional Patriot defense missile systems.",
                                          "sources": [number]}]})[:-2] + ', {"text": "He also asked for F-'
    model = _CutStream(reply=reply)
    answer = list(Answerer(seeded_store, model_backend(llm=model)).stream("What did Zelenskyy ask Trump for?"))[-1]
    assert not answer.abstained and "Patriot" in answer.answer and "F-" not in answer.answer
    assert parse_model_output('{"sentences": [{"text": "One.", "sources": [1]}, {"text": "Tw') == [("One.", [1])]
