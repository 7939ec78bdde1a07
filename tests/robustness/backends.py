"""Chat servers on 127.0.0.1 that really fail, for the failing-backend and restart tests.

`ScriptedServer` is an OpenAI-compatible server (the pattern of tests/fakes.py StubOpenAIServer)
whose answer to each request is the next step of a script: "ok" (a real chat completion quoting
the prompt's first source sentence), an HTTP status such as 401, 429 or 503 (with an OpenAI-style
error body), or "stall" (never answers, so the client times out). The last step repeats. It
records every request with its arrival time, so tests count retries and measure the backoff.

Run as a script (`python backends.py --port N`), it is an always-"ok" server in its own process:
`StubLocalServer` runs it under LocalServer's real process management (spawn, readiness wait,
process-group stop), so a server death and restart take seconds instead of a model load.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for fakes when run as a script

from fakes import send_json, source_lines  # noqa: E402

from rag.llm.local_server import LocalServer, free_port  # noqa: E402

ERRORS = {
    400: ("invalid_request_error", "Invalid value for 'temperature'. The key sent was {key}."),
    401: ("invalid_request_error", "Incorrect API key provided: {key}. You can find your API key at ..."),
    403: ("permission_denied", "Project does not have access to this model."),
    404: ("invalid_request_error", "The model `{model}` does not exist or you do not have access to it."),
    429: ("rate_limit_exceeded", "Rate limit reached for requests per min. Please try again in 20s."),
    500: ("server_error", "The server had an error while processing your request."),
    503: ("server_error", "The engine is currently overloaded, please try again later."),
}


def completion(body: dict) -> dict:
    """A chat completion that quotes the prompt's first numbered source sentence and cites it."""
    prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
    lines = source_lines(prompt)
    first = min(lines) if lines else None
    if lines:
        content = json.dumps({"sentences": [{"text": lines[first], "sources": [first]}]})
    elif "Follow-up question" in prompt:
        content = "What did Zelenskyy ask Trump for?"
    else:
        content = json.dumps({"sentences": []})
    return {
        "id": "x", "object": "chat.completion", "created": 0, "model": body.get("model", "stub"),
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49},
    }


class ScriptedServer:
    """An OpenAI-compatible server on 127.0.0.1 that follows a script of outcomes; see the module doc."""

    def __init__(self, *script: str | int, port: int = 0) -> None:
        self.script = list(script) or ["ok"]
        self.requests: list[dict] = []
        self.released = threading.Event()  # set on exit so stalled handlers let go
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def times(self) -> list[float]:
        return [r["at"] for r in self.requests]

    def _next(self, body: dict, headers: dict) -> str | int:
        with self._lock:
            self.requests.append({"at": time.monotonic(), "body": body, "headers": headers})
            return self.script[min(len(self.requests), len(self.script)) - 1]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # LocalServer's readiness probe
                self._send(200, {"object": "list", "data": [{"id": "local", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                headers = {k.lower(): v for k, v in self.headers.items()}
                step = stub._next(body, headers)
                if step == "stall":
                    stub.released.wait(60)
                    return
                if step == "ok" and body.get("stream"):
                    self._send_stream(completion(body))
                    return
                if step == "ok":
                    self._send(200, completion(body))
                    return
                kind, text = ERRORS.get(int(step), ("server_error", "error"))
                key = headers.get("authorization", "").removeprefix("Bearer ")
                message = text.format(key=key, model=body.get("model"))  # real servers echo (part of) the key
                self._send(int(step), {"error": {"message": message, "type": kind, "code": None}})

            def _send_stream(self, done: dict) -> None:
                """The completion as server-sent events, a few characters per chunk, like a model writing."""
                text = done["choices"][0]["message"]["content"]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i in range(0, len(text), 16):
                    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": done["model"],
                             "choices": [{"index": 0, "delta": {"content": text[i : i + 16]}, "finish_reason": None}]}
                    if i == 0:
                        chunk["choices"][0]["delta"]["role"] = "assistant"
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                last = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": done["model"],
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(last)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

            def _send(self, code: int, payload: dict) -> None:
                send_json(self, code, payload)

        return Handler

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class StubLocalServer(LocalServer):
    """LocalServer with its real process handling, serving this module's stub instead of llama.cpp.

    `scripts` gives each successive server process its script (the last one repeats), e.g.
    [["stall"], ["ok"]]: the first process hangs on its first request, a restarted one answers.
    """

    def __init__(self, settings, scripts: list[list[str]] | None = None) -> None:
        super().__init__(settings)
        self.scripts = scripts or [["ok"]]
        self.starts = 0

    def _command(self) -> list[str]:
        self.port = free_port()
        script = self.scripts[min(self.starts, len(self.scripts) - 1)]
        self.starts += 1
        return [sys.executable, str(Path(__file__).resolve()), "--port", str(self.port), "--script", ",".join(script)]


def main() -> None:
    parser = argparse.ArgumentParser(description="A scripted OpenAI-compatible stub on 127.0.0.1.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--script", default="ok", help="comma-separated steps: ok, stall or an HTTP status")
    args = parser.parse_args()
    steps = [int(step) if step.isdigit() else step for step in args.script.split(",")]
    server = ScriptedServer(*steps, port=args.port)
    print(f"listening on {server.base_url}", flush=True)
    server.server.serve_forever()


if __name__ == "__main__":
    main()
