"""Small stand-ins for speed in unit tests; every feature is also proven against real models elsewhere."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class ScriptedChatModel(BaseChatModel):
    """A chat model whose reply is computed from the prompt by a function."""

    reply: Callable[[str], str]
    prompts: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs) -> ChatResult:
        prompt = "\n".join(str(m.content) for m in messages)
        self.prompts.append(prompt)
        message = AIMessage(self.reply(prompt), usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15})
        return ChatResult(generations=[ChatGeneration(message=message)])


def source_lines(prompt: str) -> dict[int, str]:
    """The numbered source sentences in an answer prompt."""
    return {int(n): text for n, text in re.findall(r"^\[(\d+)\] (.+)$", prompt, re.M)}


def cite_first_matching(word: str) -> Callable[[str], str]:
    """A reply that quotes the first source sentence containing `word`, citing it."""

    def reply(prompt: str) -> str:
        for n, text in source_lines(prompt).items():
            if word.lower() in text.lower():
                return json.dumps({"sentences": [{"text": text, "sources": [n]}]})
        return json.dumps({"sentences": []})

    return reply


def send_json(handler: BaseHTTPRequestHandler, code: int, payload: dict) -> None:
    """Answer an HTTP request with a JSON body."""
    data = json.dumps(payload).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class StubOpenAIServer:
    """An OpenAI-compatible /v1/chat/completions on 127.0.0.1 that records requests.

    It answers with the first source sentence of the prompt, citing it, so the whole client path
    (base URL, key, response_format, usage) is exercised without a model. `reject_schema` makes it
    refuse json_schema response formats the way llama.cpp's server does.
    """

    def __init__(self, reject_schema: bool = False, status: int = 200) -> None:
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                kind = (body.get("response_format") or {}).get("type")
                if stub.status != 200 or (reject_schema and kind == "json_schema"):
                    code = stub.status if stub.status != 200 else 400
                    self._send(code, {"error": {"message": f"unsupported response_format {kind}", "type": "invalid"}})
                    return
                prompt = "\n".join(m["content"] for m in body["messages"])
                lines = source_lines(prompt)
                first = min(lines) if lines else None
                content = json.dumps({"sentences": [{"text": lines[first], "sources": [first]}]} if lines else {"sentences": []})
                self._send(200, {
                    "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49},
                })

            def _send(self, code: int, payload: dict) -> None:
                send_json(self, code, payload)

        self.status = status
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> StubOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def model_backend(llm: BaseChatModel, model: str = "fake", name: str = "openai", settings=None):
    """An answering backend over any LangChain chat model (a scripted one, or a client of a stub server)."""
    from rag.answer.backends import LocalBackend, OpenAIBackend
    from rag.llm.chat import ChatModel
    from rag.settings import Settings

    kind = OpenAIBackend if name == "openai" else LocalBackend
    return kind(ChatModel(llm=llm, model=model), settings or Settings())
