"""A local stand-in for an OpenAI-compatible chat server, at the HTTP edge of the answer pipeline.

It answers /v1/chat/completions from a script: a judge request (max_tokens 1) gets a "ja"/"nein"
token with log-probabilities; a writer request gets the scripted text, streamed in small pieces
when asked. Every request body is kept, so a test can read exactly what a prompt contained.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Script:
    yes_probability: float = 0.9
    answer: str = ""
    requests: list[dict] = field(default_factory=list)
    # per prompt (all messages joined), overriding the fixed values above when set
    judge: Callable[[str], float] | None = None
    reply: Callable[[str], str] | None = None

    def prompts(self) -> list[str]:
        return ["\n".join(m["content"] for m in body["messages"]) for body in self.requests]


def _completion(content: str, *, logprobs: list | None = None) -> dict:
    choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
    if logprobs is not None:
        choice["logprobs"] = {"content": logprobs}
    return {"id": "standin", "object": "chat.completion", "created": 0, "model": "standin", "choices": [choice],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's name; /v1/models, as health checks ask
            return self._json({"object": "list", "data": [{"id": "standin", "object": "model"}]})

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append(body)
            prompt = "\n".join(m["content"] for m in body["messages"])
            if (body.get("max_completion_tokens") or body.get("max_tokens")) == 1:
                yes = script.judge(prompt) if script.judge else script.yes_probability
                yes = min(max(yes, 1e-6), 1 - 1e-6)
                top = [{"token": "ja", "logprob": math.log(yes), "bytes": None},
                       {"token": "nein", "logprob": math.log(1 - yes), "bytes": None}]
                top.sort(key=lambda item: -item["logprob"])
                payload = _completion(top[0]["token"], logprobs=[{**top[0], "top_logprobs": top}])
                return self._json(payload)
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                text = script.reply(prompt) if script.reply else script.answer
                for start in range(0, len(text), 7):
                    delta = {"id": "standin", "object": "chat.completion.chunk", "created": 0, "model": "standin",
                             "choices": [{"index": 0, "delta": {"content": text[start:start + 7]}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                return None
            return self._json(_completion(script.reply(prompt) if script.reply else script.answer))

        def _json(self, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


class StandinServer:
    def __init__(self) -> None:
        self.script = Script()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.script))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
