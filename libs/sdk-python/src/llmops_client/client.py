"""``Client``: prompts, local assignment, buffered generations/feedback."""

from __future__ import annotations

import os
import time
from typing import Any, Mapping

import httpx

from ._http import RetryPolicy, Transport
from .errors import LlmopsValidationError
from .experiments import Experiments, SnapshotStore
from .hashing import uuid7
from .ingestion import BufferOptions, Ingestion, rfc3339
from .prompts import Prompts

SERVICES = ("registry", "assignment", "feedback", "analytics", "datasets")
DEFAULT_PORTS = {"registry": 3001, "assignment": 3002, "feedback": 3003, "analytics": 3004, "datasets": 3006}
THUMBS = ("up", "down")
SOURCES = ("user", "judge", "reviewer")


def _now() -> str:
    return rfc3339(time.time())


def _id(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 256:
        raise LlmopsValidationError(field, "must be a non-empty string of at most 256 characters")
    return value


def _compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class Generations:
    def __init__(self, ingestion: Ingestion) -> None:
        self._queue = ingestion.generations

    def log(
        self,
        *,
        model: str,
        output: str,
        latency_ms: float,
        request_id: str | None = None,
        input: str | list[Mapping[str, str]] | None = None,
        experiment: str | None = None,
        arm: str | None = None,
        user_id: str | None = None,
        prompt: Mapping[str, str] | None = None,
        usage: Mapping[str, int] | None = None,
        cost_usd: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        timestamp: str | None = None,
    ) -> str:
        """Buffers a generation; returns its ``requestId`` (a UUIDv7 unless given), the key feedback joins on."""
        request_id = _id("request_id", request_id if request_id is not None else uuid7())
        if not isinstance(model, str) or not model:
            raise LlmopsValidationError("model", "must be a non-empty string")
        if not isinstance(output, str):
            raise LlmopsValidationError("output", "must be a string")
        if isinstance(latency_ms, bool) or not isinstance(latency_ms, (int, float)) or not 0 <= latency_ms <= 86_400_000:
            raise LlmopsValidationError("latency_ms", "must be a number in 0..86400000")
        self._queue.put(
            _compact(
                {
                    "requestId": request_id,
                    "experiment": experiment,
                    "arm": arm,
                    "userId": user_id,
                    "prompt": dict(prompt) if prompt is not None else None,
                    "model": model,
                    "input": input,
                    "output": output,
                    "latencyMs": latency_ms,
                    "usage": dict(usage) if usage is not None else None,
                    "costUsd": cost_usd,
                    "metadata": dict(metadata) if metadata is not None else None,
                    "timestamp": timestamp or _now(),
                }
            )
        )
        return request_id


class Feedback:
    def __init__(self, ingestion: Ingestion) -> None:
        self._queue = ingestion.feedback

    def log(
        self,
        request_id: str,
        *,
        rating: int | None = None,
        thumbs: str | None = None,
        comment: str | None = None,
        correction: str | None = None,
        scores: Mapping[str, float] | None = None,
        source: str = "user",
        feedback_id: str | None = None,
        experiment: str | None = None,
        arm: str | None = None,
        user_id: str | None = None,
        latency_ms: float | None = None,
        timestamp: str | None = None,
    ) -> str:
        """Buffers feedback on ``request_id``; returns its ``feedbackId`` (a UUIDv7 unless given), which
        makes a resend a duplicate rather than a second count."""
        _id("request_id", request_id)
        feedback_id = _id("feedback_id", feedback_id if feedback_id is not None else uuid7())
        if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int)):
            raise LlmopsValidationError("rating", "must be an integer")
        if thumbs is not None and thumbs not in THUMBS:
            raise LlmopsValidationError("thumbs", "must be 'up' or 'down'")
        if source not in SOURCES:
            raise LlmopsValidationError("source", "must be 'user', 'judge' or 'reviewer'")
        if rating is None and thumbs is None and comment is None and correction is None and not scores:
            raise LlmopsValidationError("rating", "give at least one of rating, thumbs, comment, correction, scores")
        self._queue.put(
            _compact(
                {
                    "feedbackId": feedback_id,
                    "requestId": request_id,
                    "experiment": experiment,
                    "arm": arm,
                    "userId": user_id,
                    "rating": rating,
                    "thumbs": thumbs,
                    "comment": comment,
                    "correction": correction,
                    "scores": dict(scores) if scores else None,
                    "source": source,
                    "latencyMs": latency_ms,
                    "timestamp": timestamp or _now(),
                }
            )
        )
        return feedback_id


class Client:
    """The platform's Python client.

    ``api_key`` defaults to ``LLMOPS_API_KEY``; each service URL to ``urls[name]``, else
    ``LLMOPS_<SERVICE>_URL``, else ``http://localhost:<port>`` as ``npm start`` serves it.
    """

    def __init__(
        self,
        api_key: str | None = None,
        urls: Mapping[str, str] | None = None,
        *,
        buffer: BufferOptions | None = None,
        retry: RetryPolicy | None = None,
        prompt_ttl: float = 60.0,
        snapshot_wait: int = 25,
        timeout: float = 10.0,
        http: httpx.Client | None = None,
    ) -> None:
        urls = dict(urls or {})
        unknown = set(urls) - set(SERVICES)
        if unknown:
            raise LlmopsValidationError("urls", f"unknown services {sorted(unknown)}; expected {list(SERVICES)}")
        self.urls = {
            s: (urls.get(s) or os.environ.get(f"LLMOPS_{s.upper()}_URL") or f"http://localhost:{DEFAULT_PORTS[s]}")
            .rstrip("/")
            for s in SERVICES
        }
        self._transport = Transport(
            api_key if api_key is not None else os.environ.get("LLMOPS_API_KEY"),
            retry or RetryPolicy(),
            timeout,
            http,
        )
        self._ingestion = Ingestion(self._transport, self.urls, buffer or BufferOptions())
        self.prompts = Prompts(self._transport, self.urls["registry"], ttl=prompt_ttl)
        self.experiments = Experiments(
            self._transport,
            self.urls["assignment"],
            SnapshotStore(self._transport, self.urls["assignment"], snapshot_wait),
            self._ingestion,
        )
        self.generations = Generations(self._ingestion)
        self.feedback = Feedback(self._ingestion)

    def metrics(self) -> dict[str, int]:
        """``sent``, ``rejected``, ``dropped``, ``retried`` and ``pending`` (items still buffered)."""
        return {**self._ingestion.metrics.snapshot(self._transport.retried), "pending": self._ingestion.pending()}

    def flush(self) -> None:
        """Sends every buffered item now; see Ingestion.flush."""
        self._ingestion.flush()

    def close(self) -> None:
        """Stops the background threads, flushes, and closes the connections."""
        self.experiments.snapshots.close()
        try:
            self._ingestion.close()
        finally:
            self._transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
