"""The cited-answer chain: condense -> retrieve -> pack context -> generate -> parse -> verify.

Models see numbered source sentences and cite them by number; quotes are therefore whole sentences
copied from the articles, and each is verified again (rag.answer.citations) before anyone sees it. A claim
its citations do not support is dropped; an answer left with no supported claim abstains.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import numpy as np
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from pydantic import BaseModel, Field

from rag.answer.answerability import missing_names
from rag.answer.citations import Citation, is_supported, verify_citation
from rag.answer.condense import Turn, condense
from rag.answer.context import Context, build_context
from rag.store.embeddings import as_array
from rag.errors import ModelError
from rag.answer.selection import focus, select_sentences
from rag.llm.backends import Backend, call_model, stream_model
from rag.llm.phrases import NOT_IN_ARTICLES, mark
from rag.llm.prompts import get_prompt
from rag.store.search import HybridRetriever, SearchFilters
from rag.text.sentences import split_sentences
from rag.store.store import Store

_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Claim(BaseModel):
    """One sentence of the answer and the citation numbers that back it."""

    text: str
    citations: list[int]


class Answer(BaseModel):
    """A verified answer; `answer` carries [n] markers that index `citations`."""

    question: str
    standalone_question: str
    answer: str
    abstained: bool
    claims: list[Claim] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list, description="Model sentences removed as unsupported.")
    independent_sources: int = 0
    outlets: list[str] = Field(default_factory=list)
    backend: str
    model: str
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0

    def public(self) -> dict:
        """The JSON shape of `rag ask --json`."""
        return self.model_dump(mode="json")


def parse_model_output(content: str) -> list[tuple[str, list[int]]]:
    """(sentence, [source numbers]) from the model's JSON, or from plain text with [n] markers."""
    text = content.strip()
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text)
    start, end = text.find("{"), text.rfind("}")
    if start >= 0 and end > start:
        try:
            data = json.loads(text[start : end + 1])
            items = data.get("sentences", []) if isinstance(data, dict) else []
            out = []
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("text"), str):
                    sources = item.get("sources") or item.get("citations") or []
                    numbers = [int(n) for n in re.findall(r"\d+", json.dumps(sources))]
                    out.append((item["text"].strip(), numbers))
            return [(t, n) for t, n in out if t]
        except (json.JSONDecodeError, ValueError):
            pass
    # Plain text: each sentence keeps the markers that follow it.
    out = []
    for span in split_sentences(text):
        sentence = text[span.start : span.end]
        numbers = [int(n) for group in _MARKERS.findall(sentence) for n in group.split(",")]
        clean = _MARKERS.sub("", sentence).strip()
        if clean and not clean.startswith("{"):
            out.append((clean, numbers))
    return out


class Answerer:
    """Answers questions over a Store with one backend; reuse it for many questions."""

    def __init__(self, store: Store, backend: Backend, filters: SearchFilters | None = None) -> None:
        self.store = store
        self.backend = backend
        self.settings = store.settings
        self.retriever = HybridRetriever.from_store(store, filters=filters or SearchFilters())
        self.prompt = get_prompt("answer")
        self._sentence_cache: dict[str, tuple[list, np.ndarray]] = {}
        self.chain = (
            RunnablePassthrough.assign(standalone=RunnableLambda(lambda x: condense(x["question"], x["history"], backend)))
            | RunnablePassthrough.assign(docs=RunnableLambda(lambda x: self.retriever.invoke(x["standalone"])))
            | RunnablePassthrough.assign(context=RunnableLambda(lambda x: self._context(x["docs"])))
            | RunnableLambda(self._generate_and_verify)
        )

    def ask(self, question: str, history: list[Turn] | None = None) -> Answer:
        started = time.perf_counter()
        answer: Answer = self.chain.invoke({"question": question, "history": history or []})
        answer.seconds = round(time.perf_counter() - started, 3)
        return answer

    def stream(self, question: str, history: list[Turn] | None = None) -> Iterator[str | Answer]:
        """Yields draft text as the model writes it, then the verified Answer."""
        started = time.perf_counter()
        state = {"question": question, "history": history or []}
        state["standalone"] = condense(question, state["history"], self.backend)
        retrieved = self._context(self.retriever.invoke(state["standalone"]))
        context, relevant, qvec = self._prepare(state["standalone"], retrieved)
        message = None
        if self.backend.llm is not None and relevant:
            shown = ""
            messages = self._messages(state["standalone"], context)
            for chunk in stream_model(self.backend, lambda: self._model().stream(messages)):
                message = chunk if message is None else message + chunk
                draft = " ".join(t for t, _ in parse_partial(str(message.content)))
                if draft.startswith(shown) and len(draft) > len(shown):
                    yield draft[len(shown) :]
                    shown = draft
        answer = self._finish(state["question"], state["standalone"], context, message, relevant, qvec)
        answer.seconds = round(time.perf_counter() - started, 3)
        yield answer

    # --- steps -------------------------------------------------------------------------------
    def _context(self, docs) -> Context:
        return build_context(self.store, docs, self.store.counter, self.settings.context_tokens,
                             self.settings.duplicate_sentence_similarity)

    def _relevant(self, question: str, context: Context) -> tuple[bool, np.ndarray]:
        """Whether the context can answer at all: close enough in meaning and naming what is asked about."""
        vector = as_array(self.store.embeddings, [question])[0]
        if not context.sentences or missing_names(question, [s.text for s in context.sentences]):
            return False, vector
        return float(np.max(context.vectors @ vector)) >= self.settings.min_relevance, vector

    def _model(self):
        llm = self.backend.llm
        return llm.bind(response_format=self.backend.response_format) if self.backend.response_format else llm

    def _invoke(self, messages: list) -> AIMessage:
        """Call the model; a server that rejects structured output is asked again without it.

        Failures of the client library arrive as ModelError naming the server (rag.models.call_model,
        which also restarts a dead local server once); self._model() is read on every attempt so a
        restarted server's new port is used.
        """
        try:
            return call_model(self.backend, lambda: self._model().invoke(messages))
        except ModelError as exc:
            if self.backend.response_format is None or not _rejects_response_format(exc):
                raise
            self.backend.response_format = None  # this server does not do JSON schemas: prompt-only from now on
            return call_model(self.backend, lambda: self._model().invoke(messages))

    def _messages(self, question: str, context: Context) -> list:
        system, user = self.prompt.render(sources=context.render(), question=question)
        return [SystemMessage(system), HumanMessage(user)]

    def _generate_and_verify(self, state: dict) -> Answer:
        context, relevant, qvec = self._prepare(state["standalone"], state["context"])
        message = None
        if self.backend.llm is not None and relevant:
            message = self._invoke(self._messages(state["standalone"], context))
        return self._finish(state["question"], state["standalone"], context, message, relevant, qvec)

    def _prepare(self, question: str, context: Context) -> tuple[Context, bool, np.ndarray]:
        """(context a chat model reads, whether it can answer at all, question vector): checked once."""
        relevant, qvec = self._relevant(question, context)
        if self.backend.llm is not None:
            context = focus(question, context, qvec, self.settings.source_sentences)
        return context, relevant, qvec

    def _finish(self, question: str, standalone: str, context: Context, message: AIMessage | None,
                relevant: bool, qvec: np.ndarray) -> Answer:
        usage = Usage()
        if self.backend.llm is None:
            proposed = select_sentences(standalone, context, qvec, self.settings.min_relevance) if relevant else []
        elif message is not None:
            proposed = parse_model_output(str(message.content))
            meta = message.usage_metadata or {}
            usage = Usage(prompt_tokens=meta.get("input_tokens", 0), completion_tokens=meta.get("output_tokens", 0))
        else:
            proposed = []
        return self._verify(question, standalone, context, proposed, usage)

    def _verify(self, question: str, standalone: str, context: Context, proposed: list[tuple[str, list[int]]],
                usage: Usage) -> Answer:
        """Keep claims whose cited sentences exist and support them; build verified citations."""
        index = context.by_sid()
        claim_vectors = as_array(self.store.embeddings, [t for t, _ in proposed]) if proposed else None
        citations: dict[tuple[str, int], Citation] = {}
        claims: list[Claim] = []
        dropped: list[str] = []
        for k, (text, sids) in enumerate(proposed):
            rows = [index[s] for s in dict.fromkeys(sids) if s in index]
            evidence = [context.sentences[r].text for r in rows]
            if not rows or not is_supported(text, evidence, claim_vectors[k], context.vectors[rows], standalone,
                                            self.settings.support_similarity, self.settings.support_max_novel):
                dropped.append(text)
                continue
            numbers = []
            for r in rows:
                citation = self._cite(context.sentences[r], len(citations) + 1, citations)
                if citation is not None:
                    numbers.append(citation.n)
            if numbers:
                claims.append(Claim(text=text, citations=list(dict.fromkeys(numbers))))
            else:
                dropped.append(text)
        used = list(citations.values())
        cluster_of = self.store.catalog.clusters()
        clusters = {cluster_of.get(c.article_id, c.article_id) for c in used}
        outlets = list(dict.fromkeys(c.outlet or "unknown outlet" for c in used))
        body = " ".join(f"{c.text} {''.join(mark(n) for n in c.citations)}" for c in claims)
        return Answer(
            question=question, standalone_question=standalone, answer=body or NOT_IN_ARTICLES, abstained=not claims,
            claims=claims, citations=used, dropped=dropped, independent_sources=len(clusters), outlets=outlets,
            backend=self.backend.name, model=self.backend.model, usage=usage,
        )

    def _cite(self, sentence, n: int, citations: dict) -> Citation | None:
        """A verified citation for a source sentence, moved to the original when it is from a derived copy."""
        target, also_in = self._original_of(sentence)
        key = (target.article_id, target.start)
        if key in citations:
            existing = citations[key]
            existing.also_in = list(dict.fromkeys(existing.also_in + also_in))
            return existing
        article = self.store.catalog.article(target.article_id)
        if article is None:
            return None
        citation = verify_citation(Citation(
            n=n, article_id=article.id, outlet=article.meta.outlet, title=article.meta.title,
            quote=target.text, start=target.start, end=target.end, also_in=also_in,
        ), article.text)
        if citation is not None:
            citations[key] = citation
        return citation

    def _original_of(self, sentence):
        """(sentence to cite, derived ids): the original article's version when one matches closely."""
        if sentence.cluster == sentence.article_id:
            return sentence, []
        original = self.store.catalog.article(sentence.cluster)
        if original is None:
            return sentence, []
        if original.id not in self._sentence_cache:
            spans = split_sentences(original.text)
            self._sentence_cache[original.id] = (
                spans, as_array(self.store.embeddings, [original.text[s.start : s.end] for s in spans]))
        spans, vectors = self._sentence_cache[original.id]
        mine = as_array(self.store.embeddings, [sentence.text])[0]
        best = int(np.argmax(vectors @ mine))
        if float(vectors[best] @ mine) < self.settings.duplicate_sentence_similarity:
            return sentence, []
        span = spans[best]
        moved = sentence.model_copy(update={"article_id": original.id, "start": span.start, "end": span.end,
                                            "text": original.text[span.start : span.end], "outlet": original.meta.outlet})
        return moved, [sentence.article_id]


def _rejects_response_format(error: ModelError) -> bool:
    """An HTTP error whose server message (kept as the cause) is about the response_format we sent."""
    import openai

    cause = error.__cause__
    return isinstance(cause, openai.APIStatusError) and "response_format" in str(cause)


def parse_partial(content: str) -> list[tuple[str, list[int]]]:
    """Sentence texts from a JSON answer that is still being written (for streaming drafts)."""
    texts = re.findall(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)', content)
    return [(t.replace('\\"', '"'), []) for t in texts]
