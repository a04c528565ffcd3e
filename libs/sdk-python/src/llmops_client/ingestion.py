"""Buffered ingestion: bounded queues flushed in batches by size and by time, retried with backoff.

Items carry client-side ids (requestId, feedbackId), so a retried batch is idempotent on the server
(same id, same content: a duplicate, never a second count). A batch that is still refused after
the retry budget goes back to the front of its queue and is sent again on the next flush; the
overflow policy bounds the queue meanwhile.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Literal

from ._http import Transport, body_of
from .errors import LlmopsError, LlmopsHttpError, LlmopsUnavailableError, LlmopsValidationError

log = logging.getLogger("llmops_client")

Overflow = Literal["drop-oldest", "block"]


@dataclass(frozen=True)
class BufferOptions:
    max_items: int = 10_000
    max_batch: int = 500
    flush_interval: float = 1.0
    overflow: Overflow = "drop-oldest"

    def __post_init__(self) -> None:
        if self.overflow not in ("drop-oldest", "block"):
            raise LlmopsValidationError("buffer.overflow", "expected 'drop-oldest' or 'block'")
        if not 1 <= self.max_batch <= 1000:
            raise LlmopsValidationError("buffer.max_batch", "expected 1..1000 (the batch routes' limit)")
        if self.max_items < self.max_batch:
            raise LlmopsValidationError("buffer.max_items", "expected at least max_batch")
        if not self.flush_interval > 0:
            raise LlmopsValidationError("buffer.flush_interval", "expected seconds > 0")


class Metrics:
    """Counters: ``sent`` (accepted by the server), ``rejected`` (refused per item, not retried),
    ``dropped`` (overflow), ``retried`` (HTTP attempts repeated)."""

    def __init__(self) -> None:
        self.sent = 0
        self.rejected = 0
        self.dropped = 0

    def snapshot(self, retried: int) -> dict[str, int]:
        return {"sent": self.sent, "rejected": self.rejected, "dropped": self.dropped, "retried": retried}


def _batch_outcome(body: Any) -> tuple[int, list[Any]]:
    """(accepted, rejections) of a batch answer: feedback's ``{accepted, rejected}`` or exposures' ``{items}``."""
    if "items" in body:
        rejected = [i for i in body["items"] if i.get("status") != "accepted"]
        return len(body["items"]) - len(rejected), rejected
    return len(body.get("accepted", [])), list(body.get("rejected", []))


class BatchQueue:
    """A bounded FIFO of items for one batch route. ``put`` is lock-free (deque appends and pops are
    atomic in CPython); only the ``block`` policy waits, on a condition, for room."""

    def __init__(
        self,
        name: str,
        url: str,
        options: BufferOptions,
        metrics: Metrics,
        wake: Callable[[], None],
        encode: Callable[[Any], dict[str, Any]] | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self._max_items = options.max_items
        self._max_batch = options.max_batch
        self._block = options.overflow == "block"
        self._metrics = metrics
        self._wake = wake
        self._encode = encode
        #: The queued items. put() appends and, at ``next_check`` items, calls backlog(): a full batch
        #: wakes the sender, more than max_items applies the overflow policy.
        self.items: deque[Any] = deque()
        self.next_check = options.max_batch
        self._space = threading.Condition()
        self.last_error: LlmopsError | None = None

    def __len__(self) -> int:
        return len(self.items)

    def put(self, item: Any) -> None:
        items = self.items
        items.append(item)
        if len(items) >= self.next_check:
            self.backlog()

    def backlog(self) -> None:
        """A full batch is waiting: wake the sender; past max_items apply the overflow policy."""
        n = len(self.items)
        self._wake()
        if n <= self._max_items:
            self.next_check = min(n + self._max_batch, self._max_items + 1)
            return
        if self._block:
            with self._space:
                self._space.wait_for(lambda: len(self.items) <= self._max_items)
            return
        try:
            self.items.popleft()
            self._metrics.dropped += 1
        except IndexError:  # emptied by the sender meanwhile
            pass

    def _take(self) -> list[Any]:
        items = self.items
        batch = []
        try:
            for _ in range(self._max_batch):
                batch.append(items.popleft())
        except IndexError:
            pass
        self.next_check = min(len(items) + self._max_batch, self._max_items + 1)
        if self._block and batch:
            with self._space:
                self._space.notify_all()
        return batch

    def _give_back(self, batch: list[Any]) -> None:
        """Back to the front, in order; under drop-oldest, what no longer fits (the oldest) is dropped."""
        room = max(0, self._max_items - len(self.items))
        if room < len(batch) and not self._block:
            self._metrics.dropped += len(batch) - room
            batch = batch[len(batch) - room :]
        self.items.extendleft(reversed(batch))

    def _refuse_unencodable(self, batch: list[Any]) -> int:
        """Counts the items of ``batch`` that JSON cannot encode as rejected; the others go back to
        the front. Returns how many went back."""
        sendable = []
        for item in batch:
            try:
                json.dumps(self._encode(item) if self._encode else item, ensure_ascii=False, allow_nan=False).encode()
            except (TypeError, ValueError):
                continue
            sendable.append(item)
        refused = len(batch) - len(sendable)
        if not refused:  # not the items' fault after all
            self._give_back(batch)
            raise LlmopsError(f"{self.name}: the batch could not be sent", code="encoding_failed")
        self._metrics.rejected += refused
        log.warning("%s: %d items refused: JSON cannot encode them (NaN, a surrogate, an object)", self.name, refused)
        self.items.extendleft(reversed(sendable))
        return len(sendable)

    def drain(self, transport: Transport, limit: int | None = None, full_only: bool = False) -> None:
        """Sends batches until the queue is empty (or ``limit`` items were taken; with ``full_only``,
        while a full batch is queued).

        Raises LlmopsUnavailableError, with the batch back in the queue, when the retry budget runs out.
        """
        taken = 0
        while limit is None or taken < limit:
            if full_only and len(self.items) < self._max_batch:
                return
            batch = self._take()
            if not batch:
                return
            taken += len(batch)
            try:
                body = {"items": [self._encode(i) for i in batch] if self._encode else batch}
                response = transport.request("POST", self.url, json=body)
            except (TypeError, ValueError):
                # An item JSON cannot carry (log() checks every field, but e.g. a caller's object
                # mutated after logging): refuse it alone rather than losing its batch.
                taken -= self._refuse_unencodable(batch)
                continue
            except LlmopsUnavailableError as err:
                self._give_back(batch)
                self.last_error = err
                raise
            except LlmopsHttpError as err:
                # The whole batch was refused (e.g. 400 with no item accepted, 401, 403): resending
                # it unchanged cannot succeed.
                accepted, rejected = 0, [err]
                if err.status == 400 and isinstance(err.details, dict):
                    rejected = err.details.get("rejected", rejected)
                self._metrics.rejected += len(batch)
                self.last_error = err
                log.warning("%s: a batch of %d items was refused: %s", self.name, len(batch), err)
                continue
            accepted, rejected = _batch_outcome(body_of(response))
            self._metrics.sent += accepted
            if rejected:
                self._metrics.rejected += len(rejected)
                log.warning("%s: %d of %d items refused, e.g. %s", self.name, len(rejected), len(batch), rejected[0])


_second: list[Any] = [-1, ""]


def rfc3339(t: float) -> str:
    """UTC with milliseconds, e.g. 2026-12-06T15:04:05.123Z (the formatted second is reused)."""
    s = int(t)
    if s != _second[0]:
        _second[:] = [s, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s))]
    return f"{_second[1]}.{int((t - s) * 1000):03d}Z"


def encode_exposure(e: tuple[str, str, str, int, float, Any]) -> dict[str, Any]:
    """A local assignment's exposure, queued as (experiment, userId, arm, phase, time.time(),
    attributes): the server recomputes the assignment (targeting needs the attributes)."""
    item = {"experiment": e[0], "userId": e[1], "arm": e[2], "phase": e[3], "assignedAt": rfc3339(e[4])}
    if e[5]:
        item["attributes"] = dict(e[5])
    return item


class Ingestion:
    """The client's queues and the background thread that flushes them."""

    def __init__(self, transport: Transport, urls: dict[str, str], options: BufferOptions) -> None:
        self._transport = transport
        self._options = options
        self.metrics = Metrics()
        self._wakeup = threading.Event()
        self._closed = threading.Event()
        self._send_lock = threading.Lock()
        wake = self._wakeup.set
        self.generations = BatchQueue(
            "generations", f"{urls['feedback']}/v1/generations/batch", options, self.metrics, wake
        )
        self.feedback = BatchQueue("feedback", f"{urls['feedback']}/v1/feedback/batch", options, self.metrics, wake)
        self.exposures = BatchQueue(
            "exposures", f"{urls['assignment']}/v1/exposures", options, self.metrics, wake, encode_exposure
        )
        self._queues = (self.generations, self.feedback, self.exposures)
        self._thread = threading.Thread(target=self._run, name="llmops-ingestion", daemon=True)
        self._thread.start()

    def pending(self) -> int:
        return sum(len(q) for q in self._queues)

    def _run(self) -> None:
        while not self._closed.is_set():
            # Woken by a full batch: send full batches; at the interval: send everything.
            full_only = self._wakeup.wait(self._options.flush_interval)
            self._wakeup.clear()
            if self._closed.is_set():
                return
            try:
                with self._send_lock:
                    for q in self._queues:
                        q.drain(self._transport, full_only=full_only)
            except LlmopsUnavailableError as err:
                log.warning("ingestion: %s; the items stay buffered and are retried", err)
            except Exception:  # the thread must survive anything a response can throw at it
                log.exception("ingestion: unexpected error while flushing")

    def flush(self) -> None:
        """Sends everything buffered now. Returns when the server has acknowledged every item (or
        refused it per item); raises LlmopsUnavailableError, keeping the rest buffered, when a
        service stays unavailable past the retry budget."""
        with self._send_lock:
            errors: list[LlmopsUnavailableError] = []
            for q in self._queues:
                try:
                    q.drain(self._transport, limit=len(q))
                except LlmopsUnavailableError as err:
                    errors.append(err)
            if errors:
                raise errors[0]

    def close(self) -> None:
        self._closed.set()
        self._wakeup.set()
        self._thread.join()
        self.flush()
