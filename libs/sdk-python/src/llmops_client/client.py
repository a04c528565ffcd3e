"""``Client``: prompts, local assignment, buffered generations/feedback."""

from __future__ import annotations

import os
import time
from typing import Any, Mapping

import httpx

from . import validation as v
from ._http import RetryPolicy, Transport
from .errors import LlmopsValidationError
from .experiments import Experiments, SnapshotStore
from .hashing import uuid7
from .ingestion import BufferOptions, Ingestion, rfc3339
from .prompts import Prompts

SERVICES = ("registry", "assignment", "feedback", "analytics", "datasets")
DEFAULT_PORTS = {"registry": 3001, "assignment": 3002, "feedback": 3003, "analytics": 3004, "datasets": 3006}
#: The feedback service's default rating scale (FEEDBACK_RATING_MIN, FEEDBACK_RATING_MAX).
DEFAULT_RATING_SCALE = (1, 5)


def _now() -> str:
    return rfc3339(time.time())


def _context(experiment: str | None, arm: str | None, user_id: str | None) -> None:
    """The experiment, arm and user an item is attributed to, when given."""
    if experiment is not None:
        v.patterned("experiment", experiment, v.EXPERIMENT_KEY)
    if arm is not None:
        v.patterned("arm", arm, v.ARM_NAME)
    if user_id is not None:
        v.opaque_id("user_id", user_id, v.USER_ID_MAX_LENGTH)


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
        request_id = (
            uuid7() if request_id is None else v.opaque_id("request_id", request_id, v.REQUEST_ID_MAX_LENGTH)
        )
        v.patterned("model", model, v.MODEL_NAME)
        v.text("output", output)
        v.number("latency_ms", latency_ms, 0, v.LATENCY_MS_MAX)
        _context(experiment, arm, user_id)
        self._queue.put(
            _compact(
                {
                    "requestId": request_id,
                    "experiment": experiment,
                    "arm": arm,
                    "userId": user_id,
                    "prompt": v.prompt_ref(prompt) if prompt is not None else None,
                    "model": model,
                    "input": v.generation_input(input) if input is not None else None,
                    "output": output,
                    "latencyMs": latency_ms,
                    "usage": v.usage(usage) if usage is not None else None,
                    "costUsd": v.number("cost_usd", cost_usd, 0, v.COST_USD_MAX) if cost_usd is not None else None,
                    "metadata": v.json_object("metadata", metadata) if metadata is not None else None,
                    "timestamp": v.timestamp(timestamp) if timestamp is not None else _now(),
                }
            )
        )
        return request_id


class Feedback:
    def __init__(self, ingestion: Ingestion, rating_scale: tuple[int, int] | None) -> None:
        self._queue = ingestion.feedback
        low, high = rating_scale or (-v.RATING_ABS_MAX, v.RATING_ABS_MAX)
        self._rating_low, self._rating_high = low, high

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
        v.opaque_id("request_id", request_id, v.REQUEST_ID_MAX_LENGTH)
        feedback_id = (
            uuid7() if feedback_id is None else v.opaque_id("feedback_id", feedback_id, v.FEEDBACK_ID_MAX_LENGTH)
        )
        if rating is not None:
            v.integer("rating", rating, self._rating_low, self._rating_high)
        if thumbs is not None and (thumbs.__class__ is not str or thumbs not in v.THUMBS):
            raise LlmopsValidationError("thumbs", f"must be 'up' or 'down', got {thumbs!r}")
        if source.__class__ is not str or source not in v.SOURCES:
            raise LlmopsValidationError("source", f"must be 'user', 'judge' or 'reviewer', got {source!r}")
        if comment is not None:
            v.text("comment", comment, max_length=v.COMMENT_MAX_LENGTH, non_empty=True)
        if correction is not None:
            v.text("correction", correction, max_length=v.CORRECTION_MAX_LENGTH, non_empty=True)
        if scores is not None:
            scores = v.scores(scores)
        if rating is None and thumbs is None and comment is None and correction is None and not scores:
            raise LlmopsValidationError("rating", "give at least one of rating, thumbs, comment, correction, scores")
        _context(experiment, arm, user_id)
        if latency_ms is not None:
            v.number("latency_ms", latency_ms, 0, v.LATENCY_MS_MAX)
        if timestamp is not None:
            v.timestamp(timestamp)
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
                    "scores": scores or None,
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
    ``rating_scale`` is the feedback service's (``FEEDBACK_RATING_MIN``..``FEEDBACK_RATING_MAX``,
    default 1..5): ``feedback.log`` refuses a rating outside it; None checks only the contract's bounds.
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
        rating_scale: tuple[int, int] | None = DEFAULT_RATING_SCALE,
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
        api_key = api_key if api_key is not None else os.environ.get("LLMOPS_API_KEY")
        if api_key is not None and (not isinstance(api_key, str) or any(c.isspace() for c in api_key)):
            raise LlmopsValidationError("api_key", "expected a key without whitespace (llmk_<id>_<secret>)")
        rating_scale = v.rating_scale(rating_scale)
        self._transport = Transport(
            api_key,
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
        self.feedback = Feedback(self._ingestion, rating_scale)

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
