"""`rag serve` with real clients: the official openai client, LangChain's ChatOpenAI and plain HTTP against a
server on 127.0.0.1 over the seed articles (extractive backend; one test with the local model)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time

import httpx
import openai
import pytest
from typer.testing import CliRunner

from rag.answer.backends import ExtractiveBackend
from rag.answer.render import plain_answer
from rag.cli import app
from rag.llm.prompts import NOT_IN_ARTICLES
from rag.serve.queue import ModelQueue, QueueFull
from rag.settings import ServeSettings, Settings
from rag.types import Answer

from serving import copy_store, free_port, running_server
from support import ROOT

QUESTION = "What did Zelenskyy ask Trump for?"


@pytest.fixture(scope="module")
def data_dir(seeded_store, tmp_path_factory):
    return copy_store(seeded_store, tmp_path_factory.mktemp("serve") / "data")


@pytest.fixture(scope="module")
def served(data_dir, embeddings):
    with running_server(Settings(data_dir=data_dir), embeddings) as running:
        yield running


@pytest.fixture
def url(served):
    return served.url


@pytest.fixture
def client(url):
    return openai.OpenAI(base_url=f"{url}/v1", api_key="not-needed-on-127.0.0.1", max_retries=0)


def _quote_is_in_its_article(seeded_store, citation: dict) -> bool:
    article = seeded_store.catalog.article(citation["article_id"])
    return " ".join(citation["quote"].split()) in " ".join(article.text[citation["start"]:citation["end"]].split())


# --- the OpenAI wire format --------------------------------------------------------------------------
def test_the_openai_client_gets_a_cited_answer(client, seeded_store):
    completion = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])
    content = completion.choices[0].message.content
    assert "Patriot" in content and "[1]" in content and "Sources:" in content
    citations = completion.model_extra["citations"]
    assert citations and all(_quote_is_in_its_article(seeded_store, c) for c in citations)
    assert f"“{citations[0]['quote']}”" in content  # the quote in the text is the structured one
    answer = Answer.model_validate(completion.model_extra["rag"])
    assert content == plain_answer(answer) and not answer.abstained and completion.choices[0].finish_reason == "stop"


def test_the_openai_client_streams_the_same_answer(client):
    stream = client.chat.completions.create(model="rag", stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": QUESTION}])
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    answer = Answer.model_validate(final.model_extra["rag"])
    assert len(pieces) > 3 and "".join(pieces) == plain_answer(answer)
    assert final.model_extra["citations"] == [c.model_dump(mode="json") for c in answer.citations]
    assert chunks[-1].usage is not None and chunks[-1].choices == []


def test_a_question_the_articles_do_not_answer_says_so(client):
    completion = client.chat.completions.create(model="rag", messages=[
        {"role": "user", "content": "Who won the 2024 Super Bowl?"}])
    assert completion.choices[0].message.content == NOT_IN_ARTICLES
    assert completion.model_extra["rag"]["abstained"] and completion.model_extra["citations"] == []


def test_earlier_turns_are_the_history_of_a_follow_up(client):
    completion = client.chat.completions.create(model="rag", messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "How many prisoners were swapped?"},
        {"role": "assistant", "content": "Each side swapped 175 prisoners. [1]"},
        {"role": "user", "content": [{"type": "text", "text": "And who announced it?"}]}])
    rag = completion.model_extra["rag"]
    assert rag["question"] == "And who announced it?" and "prisoners" in rag["standalone_question"]


def test_langchain_chat_openai_talks_to_it(url):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=f"{url}/v1", api_key="unused", model="rag", max_retries=0)
    reply = llm.invoke(QUESTION)
    assert "Patriot" in reply.content and "[1]" in reply.content
    streamed = "".join(str(part.content) for part in llm.stream(QUESTION))
    assert streamed == reply.content


def test_models_lists_rag_and_other_models_are_refused(client):
    assert [m.id for m in client.models.list()] == ["rag"]
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    assert "does not exist" in caught.value.body["message"]


# --- the CLI's routes --------------------------------------------------------------------------------
def test_the_json_routes_answer_like_the_cli(url, data_dir, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(data_dir))
    cli = CliRunner()
    listed = httpx.get(f"{url}/articles").json()
    assert listed == json.loads(cli.invoke(app, ["articles", "--json"]).stdout)
    assert any(row["derived_from"] for row in listed)  # the AP translation
    found = httpx.post(f"{url}/search", json={"query": "Patriot missiles", "k": 3}).json()
    assert found == json.loads(cli.invoke(app, ["search", "Patriot missiles", "-k", "3", "--json"]).stdout)
    asked = httpx.post(f"{url}/ask", json={"question": QUESTION, "outlet": ["Associated Press"]}).json()
    by_cli = json.loads(cli.invoke(app, ["ask", QUESTION, "--outlet", "Associated Press", "--backend", "extractive",
                                         "--json"]).stdout)
    assert {k: v for k, v in asked.items() if k != "seconds"} == {k: v for k, v in by_cli.items() if k != "seconds"}


def test_a_briefing_counts_sources_and_shows_differences(url):
    briefing = httpx.post(f"{url}/brief", json={}, timeout=300).json()
    assert briefing["headline"] and briefing["points"] and briefing["discrepancies"]
    assert all(p["citations"] and p["independent_sources"] >= 1 for p in briefing["points"])
    assert len(briefing["sources"]) == 5 and briefing["independent_sources"] == 4  # the translation is no source


def test_bad_requests_get_one_line_json_errors(url):
    for response, status in [
        (httpx.post(f"{url}/ask", json={"question": "*"}), 400),
        (httpx.post(f"{url}/search", json={"query": "???"}), 400),
        (httpx.delete(f"{url}/articles/ffffffff"), 404),
        (httpx.get(f"{url}/ingest/nope"), 404),
        (httpx.post(f"{url}/ask", content=b'{"question": "' + b"a" * 70_000 + b'"}',
                    headers={"content-type": "application/json"}), 413),
        (httpx.post(f"{url}/v1/chat/completions", json={"model": "rag", "messages": [{"role": "system", "content": "x"}]}), 400),
        (httpx.post(f"{url}/ingest", data={"urls": ["ftp://127.0.0.1/story"]}), 400),
        (httpx.post(f"{url}/ingest", data={}), 400),
    ]:
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["message"] and "\n" not in error["message"] and "Traceback" not in response.text
    malformed = httpx.post(f"{url}/ask", json={"question": QUESTION, "since": "yesterday"})
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["loc"] == ["body", "since"]
    # What the schema does not allow is refused, not coerced: a date as seconds, a count as text, a float count.
    for field, value in [("since", 0), ("since", "2025-03-19T00:00:00"), ("k", "5"), ("k", 5.5), ("k", True),
                         ("one_per_cluster", "true")]:
        refused = httpx.post(f"{url}/search", json={"query": "grid", field: value})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][:2] == ["body", field], (field, value)
    # and what it allows is taken: a whole count written 5.0, a question in any script
    assert httpx.post(f"{url}/search", json={"query": "grid", "k": 5.0}).status_code == 200
    assert httpx.post(f"{url}/search", json={"query": "電力網"}).status_code == 200


def test_a_full_line_to_the_model_is_a_503_with_retry_after(served, url, client):
    queue = served.engine.queue
    held = [queue.reserve() for _ in range(queue.capacity - queue.admitted)]
    try:
        response = httpx.post(f"{url}/ask", json={"question": QUESTION})
        assert response.status_code == 503 and int(response.headers["retry-after"]) >= 1
        assert response.json()["error"]["type"] == "overloaded_error"
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="rag", stream=True, messages=[{"role": "user", "content": QUESTION}])
    finally:
        for reservation in held:
            reservation.release()
    assert httpx.post(f"{url}/ask", json={"question": QUESTION}).status_code == 200


def test_uploads_are_ingested_in_the_background_and_can_be_forgotten(url):
    text = ("Springfield to build twelve parks\n\nThe mayor of Springfield said on Monday that the city will "
            "build 12 new parks by 2027 at a cost of $40 million, paid for by a bond approved last year.")
    job = httpx.post(f"{url}/ingest", files=[("files", ("../../parks <b>.txt", text.encode()))]).json()
    assert job["files"] == ["parks _b_.txt"]  # a plain name inside the uploads folder
    seen = {job["state"]}
    deadline = time.monotonic() + 120
    while job["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = httpx.get(f"{url}/ingest/{job['id']}").json()
        seen.add(job["state"])
    assert job["state"] == "done" and job["done"] == 1 and job["report"]["files"][0]["status"] == "new", job
    new_id = job["report"]["files"][0]["article_id"]
    assert new_id in [row["id"] for row in httpx.get(f"{url}/articles").json()]
    asked = httpx.post(f"{url}/ask", json={"question": "How many parks will Springfield build?"}).json()
    assert asked["citations"] and asked["citations"][0]["article_id"] == new_id
    removed = httpx.delete(f"{url}/articles/{new_id[:8]}").json()
    assert removed["removed"] == [new_id] and removed["articles"] == 5
    assert new_id not in [row["id"] for row in httpx.get(f"{url}/articles").json()]


PAGE = b"""<!doctype html><html lang="en"><head><title>Springfield opens a river museum | Springfield Herald</title>
<meta property="og:site_name" content="Springfield Herald"></head><body><article><h1>Springfield opens a river museum</h1>
<p>The city of Springfield opened a museum about the river on Saturday, the mayor said at the opening ceremony.</p>
<p>The museum cost 18 million dollars and holds more than 3,000 objects collected by local families over a century.</p>
<p>Officials expect about 90,000 visitors in the first year, most of them school classes from the region.</p>
</article></body></html>"""


def test_pages_by_url_are_fetched_and_ingested_in_the_background(url):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    page_url = f"http://127.0.0.1:{site.server_address[1]}/museum"
    try:
        job = httpx.post(f"{url}/ingest", data={"urls": [page_url]}).json()
        deadline = time.monotonic() + 120
        while job["state"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.2)
            job = httpx.get(f"{url}/ingest/{job['id']}").json()
    finally:
        site.shutdown()
    assert job["state"] == "done" and job["files"] == [page_url], job
    result = job["report"]["files"][0]
    assert result["status"] == "new", result
    asked = httpx.post(f"{url}/ask", json={"question": "How much did the Springfield river museum cost?"}).json()
    assert asked["citations"][0]["article_id"] == result["article_id"] and "18 million" in asked["answer"]
    assert httpx.delete(f"{url}/articles/{result['article_id']}").json()["articles"] == 5


# --- the line to the model ---------------------------------------------------------------------------
def test_the_queue_is_first_come_first_served_bounded_and_stops_work_whose_client_left():
    async def scenario() -> None:
        queue = ModelQueue(workers=1, waiting=1, retry_after=3)
        release, started, closed = threading.Event(), [], []

        def work_of(name):
            def work(stop):  # like Answerer.stream: it never looks at `stop`, it is closed
                started.append(name)
                try:
                    while not release.is_set():
                        yield f"{name} draft"
                        time.sleep(0.02)
                    yield f"{name} done"
                finally:
                    closed.append(name)
            return work

        async def consume(name, got):
            async for item in queue.run(queue.reserve(), work_of(name)):
                got.append(item)

        first_items, second_items = [], []
        first = asyncio.create_task(consume("first", first_items))
        while len(first_items) < 3:
            await asyncio.sleep(0.01)
        second = asyncio.create_task(consume("second", second_items))
        await asyncio.sleep(0.05)
        with pytest.raises(QueueFull):
            queue.reserve()  # one running, one waiting: full
        assert started == ["first"] and queue.waiting == 1
        first.cancel()  # the first client goes away
        for _ in range(500):
            if "first" in closed and started == ["first", "second"]:
                break
            await asyncio.sleep(0.01)
        assert closed == ["first"] and started == ["first", "second"]  # stopped, and the next one let in
        release.set()
        await second
        assert second_items[-1] == "second done" and queue.admitted == 0 and queue.running == 0
        queue.close()

    asyncio.run(scenario())


# --- the key, the bind address, and the command itself ------------------------------------------------
def test_a_key_is_required_when_set_and_cors_is_off_unless_configured(data_dir, embeddings, url):
    page = "http://127.0.0.1:9"
    assert "access-control-allow-origin" not in httpx.get(f"{url}/health", headers={"Origin": page}).headers
    settings = Settings(data_dir=data_dir, api_key="s3cret-key-1234", serve=ServeSettings(cors_origins=[page]))
    with running_server(settings, embeddings) as running:
        base = running.url
        preflight = httpx.options(f"{base}/v1/chat/completions", headers={
            "Origin": page, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == page
        refused = httpx.get(f"{base}/articles")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert httpx.get(f"{base}/health").status_code == 200 and httpx.get(f"{base}/").status_code == 200
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0).models.list()
        keyed = openai.OpenAI(base_url=f"{base}/v1", api_key="s3cret-key-1234", max_retries=0)
        assert [m.id for m in keyed.models.list()] == ["rag"]


def test_binding_beyond_this_machine_needs_a_key():
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--backend", "extractive"])
    assert result.exit_code == 2 and "RAG_API_KEY" in result.output


def test_rag_serve_then_the_readme_snippet_gets_a_streamed_cited_answer(data_dir, tmp_path):
    port = free_port()
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port), "--backend", "extractive"],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "serve.log", "w"))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.3)
        snippet = _readme_snippet().replace("8000", str(port))
        result = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "Patriot" in result.stdout and "[1]" in result.stdout and "Associated Press" in result.stdout
    finally:
        server.terminate()
        server.wait(30)
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def _readme_snippet() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```python\nfrom openai import OpenAI")
    return text[start + len("```python\n"): text.index("```", start + 10)]


@pytest.mark.local_model
def test_the_local_model_streams_a_draft_then_a_verified_answer(data_dir, embeddings):
    settings = Settings(data_dir=data_dir, model_dir=Settings().cache_dir / "models")
    with running_server(settings, embeddings, backend="local") as running:
        base = running.url
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0, timeout=600)
        chunks = list(client.chat.completions.create(model="rag", stream=True,
                                                     messages=[{"role": "user", "content": QUESTION}]))
    drafts = [c.choices[0].delta.model_extra.get("reasoning_content") for c in chunks if c.choices]
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    answer = Answer.model_validate(final.model_extra["rag"])
    assert any(drafts) and answer.backend == "local" and not answer.abstained
    assert "Patriot" in answer.answer and answer.citations


# --- the schema, fuzzed -------------------------------------------------------------------------------
FUZZED_EXAMPLES = 40  # per route and mode: bounded, so the suite stays quick


def test_every_route_keeps_to_its_schema(served):
    """Schemathesis draws requests from /openapi.json, valid ones and invalid ones, for every route but the
    writes (upload, forget) and the slow briefing, which have their own tests: no 5xx, statuses and bodies
    as documented, invalid input refused."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # A chat request the schema allows may still be refused with a 400 that JSON Schema cannot state:
        # one whose last user message has no words, or with no user message at all.
        excluded = [positive_data_acceptance] if operation.path == "/v1/chat/completions" else []
        if operation.method.upper() == "DELETE" or operation.path in ("/brief", "/ingest") and operation.method == "post":
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=FUZZED_EXAMPLES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(mode))
            def check(case) -> None:
                case.call_and_validate(excluded_checks=excluded)

            try:
                check()
            except Unsatisfiable:  # no invalid request exists for a route without input
                assert mode == GenerationMode.NEGATIVE, operation.path
                continue
            tried.append(f"{operation.method.upper()} {operation.path} {mode.value}")
    assert len(tried) >= 10, tried


class SlowDrafts(ExtractiveBackend):
    """Writes a long draft slowly, as a model does, then answers as the extractive backend does."""

    def __init__(self, settings: Settings, drafts: int = 200, pause: float = 0.05) -> None:
        super().__init__(settings)
        self.drafts, self.pause, self.written = drafts, pause, 0
        self.closed = threading.Event()

    def answer(self, question, context, question_vector, stream=False):
        try:
            for _ in range(self.drafts):
                time.sleep(self.pause)
                self.written += 1
                yield "draft "
            yield from super().answer(question, context, question_vector, stream)
        finally:
            self.closed.set()


def test_a_client_that_goes_away_over_http_stops_its_answer_and_frees_the_line(served, url):
    slow = SlowDrafts(served.engine.settings)
    previous, served.engine.backend = served.engine.backend, slow
    try:
        body = {"model": "rag", "stream": True,
                "messages": [{"role": "user", "content": "What did Zelenskyy ask Trump for?"}]}
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=30) as response:
            for line in response.iter_lines():
                if line.startswith("data:") and "draft" in line:
                    break  # leave mid-answer: the connection closes here
        assert slow.closed.wait(15)  # the answer's generator was closed ...
        assert slow.written < slow.drafts  # ... long before it was written out
        deadline = time.monotonic() + 10
        while served.engine.queue.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert served.engine.queue.running == 0  # and its place at the model is free again
    finally:
        served.engine.backend = previous
