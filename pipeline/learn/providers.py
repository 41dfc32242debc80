"""AI rewrite providers behind one interface; Google's Gemini REST API is the first.

A provider takes an atom (type, front, back, why it needs work) and returns a
proposal (front, back, reason, confidence). Gemini: POST
{base}/v1beta/models/{model}:generateContent with the key in the x-goog-api-key
header (never in the URL, never printed), asking for JSON (responseMimeType and
responseSchema). GEMINI_API_KEY (or GOOGLE_API_KEY) holds the key;
GEMINI_API_BASE_URL overrides the address (the tests point it at a local server).

429 RESOURCE_EXHAUSTED waits for the RetryInfo delay (or Retry-After), 500/503/504
and timeouts are retried with back-off; a refused key or model is a usage error
(exit 2), a service still failing is exit 4, and an answer that is blocked or not
the JSON asked for is that atom's failure only.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from pipeline.config import env_int
from pipeline.errors import ContentError, ServiceError, UsageError

KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
BASE_URL_VARIABLE = "GEMINI_API_BASE_URL"
ATTEMPTS_VARIABLE = "PIPELINE_GEMINI_ATTEMPTS"
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
_RETRYABLE = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Request:
    atom_type: str
    front: str
    back: str | None
    reason: str


@dataclass(frozen=True)
class Proposal:
    front: str
    back: str | None
    reason: str
    confidence: float | None


class Provider(Protocol):
    name: str  # review_queue.source

    def rewrite(self, request: Request) -> Proposal: ...


class Unusable(ContentError):
    """The provider answered, but not with a usable proposal for this atom."""


PROMPT = """You improve one spaced-repetition flashcard for Anki.
Make it atomic: one fact, a short question (at most 25 words), a short answer (at most
15 words). Keep the meaning and the language. For a cloze card keep the {{c1::...}}
deletions in the front. If the card holds several facts, keep the most important one.
Why it needs work: %(reason)s
Card type: %(atom_type)s
Front: %(front)s
Back: %(back)s"""

SCHEMA = {
    "type": "OBJECT",
    "properties": {
        "front": {"type": "STRING"},
        "back": {"type": "STRING"},
        "reason": {"type": "STRING"},
        "confidence": {"type": "NUMBER"},
    },
    "required": ["front", "back", "reason", "confidence"],
}


class _Retry(Exception):
    def __init__(self, status: int, wait: float | None, message: str) -> None:
        super().__init__(message)
        self.status, self.wait = status, wait


class Gemini:
    name = "gemini"

    def __init__(
        self,
        key: str,
        model: str,
        *,
        base_url: str | None = None,
        attempts: int = 4,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.model = model
        self._attempts, self._sleep = attempts, sleep
        self._http = httpx.Client(
            base_url=(base_url or DEFAULT_BASE_URL).rstrip("/"),
            headers={"x-goog-api-key": key, "Content-Type": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    @classmethod
    def from_environment(cls, model: str, **kwargs: Any) -> Gemini:
        key = next((os.environ[v].strip() for v in KEY_VARIABLES if os.environ.get(v)), "")
        if not key:
            raise UsageError(
                "GEMINI_API_KEY is not set; create a key in Google AI Studio and export it "
                "(or leave learn.rewrite.provider out of pipeline.yaml to keep rewriting off)"
            )
        kwargs.setdefault("attempts", env_int(ATTEMPTS_VARIABLE, 4))
        return cls(key, model, base_url=os.environ.get(BASE_URL_VARIABLE) or None, **kwargs)

    def close(self) -> None:
        self._http.close()

    def rewrite(self, request: Request) -> Proposal:
        body = {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {
                            "text": PROMPT
                            % {
                                "reason": request.reason,
                                "atom_type": request.atom_type,
                                "front": request.front,
                                "back": request.back or "",
                            }
                        }
                    ],
                }
            ],
            "generationConfig": {
                "temperature": 0.2,
                "responseMimeType": "application/json",
                "responseSchema": SCHEMA,
            },
        }
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=_wait,
            retry=retry_if_exception(lambda e: isinstance(e, _Retry)),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            answer = retrying(self._post, body)
        except _Retry as exc:
            raise ServiceError(
                "Gemini",
                f"Gemini did not give a rewrite after {self._attempts} attempts ({exc}); "
                "try again later",
                status=exc.status,
            ) from None
        return _proposal(answer)

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        path = f"/v1beta/models/{self.model}:generateContent"
        try:
            response = self._http.post(path, json=body)
        except httpx.TimeoutException:
            raise _Retry(0, None, "timed out") from None
        except httpx.TransportError as exc:
            raise _Retry(0, None, type(exc).__name__) from None
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError:
                raise Unusable("Gemini's answer was not JSON") from None
            return data if isinstance(data, dict) else {}
        error = _error(response)
        if response.status_code in _RETRYABLE:
            raise _Retry(response.status_code, _retry_delay(response), error)
        if response.status_code in (400, 401, 403, 404):
            raise UsageError(
                f"Gemini refused the request (HTTP {response.status_code}: {error}); check "
                "GEMINI_API_KEY and learn.rewrite.model in pipeline.yaml"
            )
        raise ServiceError("Gemini", f"Gemini failed: HTTP {response.status_code}: {error}")


def _error(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return response.reason_phrase
    return f"{error.get('status', '')} {error.get('message', '')}".strip()


def _retry_delay(response: httpx.Response) -> float | None:
    """Google's RetryInfo (error.details[].retryDelay "7s"), else Retry-After."""
    try:
        for detail in response.json().get("error", {}).get("details", []):
            delay = str(detail.get("retryDelay") or "")
            if match := re.fullmatch(r"(\d+(?:\.\d+)?)s", delay):
                return min(float(match[1]), 60.0)
    except (ValueError, AttributeError):
        pass
    try:
        return min(float(response.headers.get("retry-after", "")), 60.0)
    except ValueError:
        return None


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _Retry) and exc.wait is not None:
        return exc.wait
    return float(min(0.5 * 2 ** (state.attempt_number - 1), 8.0))


def _proposal(answer: dict[str, Any]) -> Proposal:
    blocked = (answer.get("promptFeedback") or {}).get("blockReason")
    if blocked:
        raise Unusable(f"Gemini blocked the prompt ({blocked})")
    candidates = answer.get("candidates") or []
    if not candidates:
        raise Unusable("Gemini gave no candidate")
    first = candidates[0]
    finish = first.get("finishReason")
    if finish not in (None, "STOP"):
        raise Unusable(f"Gemini stopped early ({finish})")
    text = "".join(str(p.get("text", "")) for p in (first.get("content") or {}).get("parts") or [])
    try:
        data = json.loads(text)
    except ValueError:
        raise Unusable("Gemini's answer was not the JSON asked for") from None
    front = str(data.get("front") or "").strip() if isinstance(data, dict) else ""
    if not front:
        raise Unusable("Gemini's answer has no front")
    confidence = data.get("confidence")
    if not isinstance(confidence, int | float) or isinstance(confidence, bool):
        confidence = None
    else:
        confidence = round(min(1.0, max(0.0, float(confidence))), 2)
    return Proposal(
        front,
        str(data.get("back") or "").strip() or None,
        str(data.get("reason") or "").strip() or "rewritten for atomicity",
        confidence,
    )


def provider(name: str | None, model: str) -> Gemini:
    """The configured provider; rewriting is off unless one is named."""
    if name is None:
        raise UsageError(
            "AI rewriting is off: set learn.rewrite.provider: gemini in pipeline.yaml and "
            "GEMINI_API_KEY in the environment"
        )
    if name != "gemini":
        raise UsageError(
            f"learn.rewrite.provider {name!r} is not known; the one provider is gemini"
        )
    return Gemini.from_environment(model)
