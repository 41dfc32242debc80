"""A local Gemini API (Google's generativelanguage REST API, v1beta) for tests: POST
/v1beta/models/{model}:generateContent with the key in x-goog-api-key, answering as
Google does: candidates[].content.parts[].text, finishReason, usageMetadata; errors as
{"error": {"code", "message", "status", "details"}} (429 RESOURCE_EXHAUSTED with a
google.rpc.RetryInfo retryDelay, 400 INVALID_ARGUMENT, 403 PERMISSION_DENIED for a bad
key, 404 NOT_FOUND for an unknown model, 503 UNAVAILABLE).

`answers` decides the text for each prompt (a function of the prompt), or a blocked
answer; `faults` are statuses to answer next, in order.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.doubles.local_http import LocalServer, run_server

GEMINI_KEY = "AIza-test-key-never-printed"
MODELS = ("gemini-2.5-flash", "gemini-2.5-pro")
_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def rewrite_as_json(prompt: str) -> str:
    """The default model: takes the card's front and back from the prompt and shortens."""
    front = re.search(r"^Front: (.*)$", prompt, re.MULTILINE)
    back = re.search(r"^Back: (.*)$", prompt, re.MULTILINE)
    short_back = " ".join((back[1] if back else "").split()[:5])
    return json.dumps(
        {
            "front": (front[1] if front else "").strip(),
            "back": short_back,
            "reason": "kept one fact",
            "confidence": 0.8,
        }
    )


@dataclass
class GeminiState:
    answer: Callable[[str], str | None] = rewrite_as_json  # None: the prompt is blocked
    faults: deque[int] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    server: GeminiServer

    def log_message(self, *_: object) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self, status: int, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        error: dict[str, Any] = {"code": status, "message": message, "status": _STATUS[status]}
        if details:
            error["details"] = details
        self._send(status, {"error": error})

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with state.lock:
            state.keys.append(self.headers.get("x-goog-api-key"))
            state.requests.append(body)
            fault = state.faults.popleft() if state.faults else None
        match = re.fullmatch(r"/v1beta/models/([\w.-]+):generateContent", self.path)
        if match is None:
            return self._error(404, f"Requested entity was not found: {self.path}")
        if self.headers.get("x-goog-api-key") != GEMINI_KEY:
            return self._error(
                400 if not self.headers.get("x-goog-api-key") else 403,
                "API key not valid. Please pass a valid API key.",
            )
        if match[1] not in MODELS:
            return self._error(404, f"models/{match[1]} is not found for API version v1beta")
        if fault == 429:
            return self._error(
                429,
                "You exceeded your current quota.",
                [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0s"}],
            )
        if fault is not None:
            return self._error(fault, "The model is overloaded. Please try again later.")
        prompt = "".join(
            part.get("text", "")
            for content in body.get("contents", [])
            for part in content["parts"]
        )
        text = state.answer(prompt)
        if text is None:
            return self._send(
                200,
                {"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": match[1]},
            )
        return self._send(
            200,
            {
                "candidates": [
                    {
                        "content": {"parts": [{"text": text}], "role": "model"},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": 50,
                    "candidatesTokenCount": 20,
                    "totalTokenCount": 70,
                },
                "modelVersion": match[1],
            },
        )


class GeminiServer(LocalServer[GeminiState]):
    def __init__(self, state: GeminiState) -> None:
        super().__init__(state, Handler)


def serve(state: GeminiState) -> Iterator[GeminiServer]:
    yield from run_server(GeminiServer(state))
