"""Buffered ingestion: bounded queues flushed in batches by size and by time, retried with backoff.

Items carry client-side ids (requestId, feedbackId), so a retried batch is idempotent on the server
(same id, same content: a duplicate, never a second count). A batch that is still refused after
the retry budget goes back to the front of its queue and is sent again on the next flush; the
overflow policy bounds the queue meanwhile. A batch answered 413 (too large) is halved, down to
one item; what the platform refuses for good (per item, or a whole batch on 401/403/4xx/500, or an
item alone answered 413) is counted and reported by the next ``flush()``, which raises
LlmopsRejectedError.
"""

from __future__ import annotations

import json
import logging
import math
from json.encoder import encode_basestring_ascii as _string
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Literal

from ._http import Transport, body_of
from .errors import (
    LlmopsError,
    LlmopsHttpError,
    LlmopsRejectedError,
    LlmopsUnavailableError,
    LlmopsValidationError,
    RejectedItem,
)

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
    """Counters: ``sent`` (accepted by the server), ``rejected`` (refused for good, alone or with
    their batch; not resent, listed by the next flush()),
    ``dropped`` (overflow), ``retried`` (HTTP attempts repeated)."""

    def __init__(self) -> None:
        self.sent = 0
        self.rejected = 0
        self.dropped = 0

    def snapshot(self, retried: int) -> dict[str, int]:
        return {"sent": self.sent, "rejected": self.rejected, "dropped": self.dropped, "retried": retried}


#: Refused items kept for the next flush() to report; older ones are only counted.
MAX_REPORTED_REJECTIONS = 10_000


def _batch_outcome(body: Any) -> tuple[int, list[tuple[int, str, str]]]:
    """(accepted, [(index, code, message)]) of a batch answer: feedback's ``{accepted, rejected:
    [{index, code, message}]}`` or exposures' ``{items: [{status, error?}]}``."""
    if "items" in body:
        rejected = []
        for index, item in enumerate(body["items"]):
            if item.get("status") != "accepted":
                error = item.get("error") or {}
                rejected.append((index, error.get("code", "rejected"), error.get("message", "rejected")))
        return len(body["items"]) - len(rejected), rejected
    refused = [(r.get("index", -1), r.get("code", "rejected"), r.get("message", "")) for r in body.get("rejected", [])]
    return len(body.get("accepted", [])), refused


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
        id_of: Callable[[Any], str],
        refused: list[RejectedItem],
        encode: Callable[[Any], dict[str, Any]] | None = None,
        encode_batch: Callable[[list[Any]], bytes] | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self._max_items = options.max_items
        self._max_batch = options.max_batch
        self._block = options.overflow == "block"
        self._metrics = metrics
        self._wake = wake
        self._encode = encode
        #: Writes a batch's body itself (the JSON of ``{"items": [encode(item), ...]}``).
        self._encode_batch = encode_batch
        self._id_of = id_of
        #: Refused items not reported yet (shared by the client's queues; flush() takes them).
        self._refused = refused
        #: Called with each item dropped by the overflow policy or refused, e.g. so that the
        #: exposure of a user is queued again on the next assignment.
        self.on_lost: Callable[[Any], None] | None = None
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
            lost = self.items.popleft()
        except IndexError:  # emptied by the sender meanwhile
            return
        self._metrics.dropped += 1
        if self.on_lost is not None:
            self.on_lost(lost)

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
            if self.on_lost is not None:
                for lost in batch[: len(batch) - room]:
                    self.on_lost(lost)
            batch = batch[len(batch) - room :]
        self.items.extendleft(reversed(batch))

    def _refuse(self, refused: list[tuple[Any, str, str]]) -> None:
        """Counts (item, code, message) as rejected and keeps them for flush() to report."""
        self._metrics.rejected += len(refused)
        for item, code, message in refused:
            self._refused.append(RejectedItem(self.name, self._id_of(item), code, message))
            if self.on_lost is not None:
                self.on_lost(item)
        excess = len(self._refused) - MAX_REPORTED_REJECTIONS
        if excess > 0:
            del self._refused[:excess]

    def _refuse_unencodable(self, batch: list[Any]) -> int:
        """Counts the items of ``batch`` that JSON cannot encode as rejected; the others go back to
        the front. Returns how many went back."""
        sendable, refused = [], []
        for item in batch:
            try:
                json.dumps(self._encode(item) if self._encode else item, ensure_ascii=False, allow_nan=False).encode()
            except (TypeError, ValueError) as err:
                refused.append((item, "encoding_failed", f"JSON cannot encode the item: {err}"))
                continue
            sendable.append(item)
        if not refused:  # not the items' fault after all
            self._give_back(batch)
            raise LlmopsError(f"{self.name}: the batch could not be sent", code="encoding_failed")
        self._refuse(refused)
        log.warning(
            "%s: %d items refused: JSON cannot encode them (NaN, a surrogate, an object)", self.name, len(refused)
        )
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
                if self._encode_batch is not None:
                    response = transport.request("POST", self.url, content=self._encode_batch(batch))
                else:
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
                if err.status == 413 and len(batch) > 1:
                    # Too large for the service's body limit: smaller batches from now on.
                    self._max_batch = max(1, len(batch) // 2)
                    self._give_back(batch)
                    self.next_check = min(len(self.items) + self._max_batch, self._max_items + 1)
                    taken -= len(batch)
                    continue
                # The whole batch was refused (e.g. 400 with no item accepted, 401, 403, 500, or
                # one item alone answered 413): resending it unchanged cannot succeed.
                per_item = {}
                if err.status == 400 and isinstance(err.details, dict):
                    per_item = {r.get("index"): r for r in err.details.get("rejected") or [] if isinstance(r, dict)}
                self._refuse(
                    [
                        (item, per_item[i].get("code", err.code), per_item[i].get("message", err.message))
                        if i in per_item
                        else (item, err.code, err.message)
                        for i, item in enumerate(batch)
                    ]
                )
                self.last_error = err
                log.warning("%s: a batch of %d items was refused: %s", self.name, len(batch), err)
                continue
            if self._encode_batch is not None and response.content == all_accepted(len(batch)):
                self._metrics.sent += len(batch)  # the usual answer, recognised without parsing it
                continue
            accepted, rejected = _batch_outcome(body_of(response))
            self._metrics.sent += accepted
            if rejected:
                self._refuse([(batch[i], code, message) for i, code, message in rejected if 0 <= i < len(batch)])
                log.warning("%s: %d of %d items refused, e.g. %s", self.name, len(rejected), len(batch), rejected[0])


_second: list[Any] = [-1, ""]


def rfc3339(t: float) -> str:
    """UTC with milliseconds, e.g. 2026-12-06T15:04:05.123Z (the formatted second is reused)."""
    s = int(t)
    if s != _second[0]:
        _second[:] = [s, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s))]
    return f"{_second[1]}.{int((t - s) * 1000):03d}Z"


def _millisecond_end(t: float) -> float:
    """The smallest float above ``t`` (>= 0) that rfc3339 writes with another millisecond: the
    formatted millisecond only grows with ``t``, so every time in [t, end) is written alike."""
    second = int(t)
    key = (second, int((t - second) * 1000))
    end = second + (key[1] + 1) / 1000
    while (int(end), int((end - int(end)) * 1000)) == key:
        end = math.nextafter(end, math.inf)
    while (int(below := math.nextafter(end, -math.inf)), int((below - int(below)) * 1000)) != key:
        end = below
    return end


def encode_exposure(e: tuple[str, str, str, int, float, Any]) -> dict[str, Any]:
    """A local assignment's exposure, queued as (experiment, userId, arm, phase, time.time(),
    attributes): the server recomputes the assignment (targeting needs the attributes)."""
    item = {"experiment": e[0], "userId": e[1], "arm": e[2], "phase": e[3], "assignedAt": rfc3339(e[4])}
    if e[5]:
        item["attributes"] = dict(e[5])
    return item


#: ``{"experiment":…,"arm":…,"phase":…,"userId":`` per (experiment, arm, phase).
_exposure_prefixes: dict[tuple[str, str, int], str] = {}


def exposures_json(batch: list[tuple[str, str, str, int, float, Any]]) -> bytes:
    """The body of ``POST /v1/exposures`` for queued exposures: the JSON of encode_exposure's items,
    written directly (each item's experiment, arm and phase as one prepared string, the timestamp
    formatted once per millisecond), without a dict per item."""
    parts = []
    prefixes = _exposure_prefixes
    # The formatted time is reused for every time in [low, high), the millisecond it is written with.
    low, high, stamp = 0.0, 0.0, ""
    for experiment, user_id, arm, phase, t, attributes in batch:
        prefix = prefixes.get((experiment, arm, phase))
        if prefix is None:
            prefix = prefixes[(experiment, arm, phase)] = (
                f'{{"experiment":{_string(experiment)},"arm":{_string(arm)},"phase":{json.dumps(phase)},"userId":'
            )
        if not low <= t < high:
            low, high, stamp = t, _millisecond_end(t) if t >= 0 else t, rfc3339(t)
        if attributes:
            extra = json.dumps(dict(attributes), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            parts.append(f'{prefix}{_string(user_id)},"assignedAt":"{stamp}","attributes":{extra}}}')
        else:
            parts.append(f'{prefix}{_string(user_id)},"assignedAt":"{stamp}"}}')
    return f'{{"items":[{",".join(parts)}]}}'.encode()


_all_accepted: list[Any] = [0, b'{"items":[]}']


def all_accepted(n: int) -> bytes:
    """The exposures route's answer when it accepted all ``n`` items, byte for byte."""
    if _all_accepted[0] != n:
        _all_accepted[:] = [n, ('{"items":[' + ",".join(['{"status":"accepted"}'] * n) + "]}").encode()]
    return _all_accepted[1]


class Ingestion:
    """The client's queues and the background thread that flushes them."""

    def __init__(self, transport: Transport, urls: dict[str, str], options: BufferOptions) -> None:
        self._transport = transport
        self._options = options
        self.metrics = Metrics()
        self._wakeup = threading.Event()
        self._closed = threading.Event()
        self._send_lock = threading.Lock()
        #: Items refused since the last flush() (appended and taken under _send_lock).
        self._refused: list[RejectedItem] = []
        wake = self._wakeup.set
        feedback = urls["feedback"]
        self.generations = BatchQueue(
            "generations", f"{feedback}/v1/generations/batch", options, self.metrics, wake,
            lambda g: g["requestId"], self._refused,
        )  # fmt: skip
        self.feedback = BatchQueue(
            "feedback", f"{feedback}/v1/feedback/batch", options, self.metrics, wake,
            lambda f: f["feedbackId"], self._refused,
        )  # fmt: skip
        self.exposures = BatchQueue(
            "exposures", f"{urls['assignment']}/v1/exposures", options, self.metrics, wake,
            lambda e: f"{e[0]}:{e[1]}", self._refused, encode_exposure, exposures_json,
        )  # fmt: skip
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
            with self._send_lock:
                # Each queue on its own: one service down must not hold back the others.
                for q in self._queues:
                    try:
                        q.drain(self._transport, full_only=full_only)
                    except LlmopsUnavailableError as err:
                        log.warning("ingestion: %s; the items stay buffered and are retried", err)
                    except Exception:  # the thread must survive anything a response can throw at it
                        log.exception("ingestion: unexpected error while flushing %s", q.name)

    def flush(self) -> None:
        """Sends everything buffered now. Returns when the server has acknowledged every item.

        Raises LlmopsUnavailableError, keeping the unsent items buffered, when a service stays
        unavailable past the retry budget (the other queues are sent first); else
        LlmopsRejectedError listing the items the platform refused for good since the last flush
        (sent by this flush or earlier by the background thread), which are not resent.
        """
        with self._send_lock:
            errors: list[LlmopsError] = []
            for q in self._queues:
                try:
                    q.drain(self._transport, limit=len(q))
                except LlmopsError as err:
                    errors.append(err)
            if errors:
                raise errors[0]
            if self._refused:
                rejected = list(self._refused)
                self._refused.clear()
                raise LlmopsRejectedError(rejected)

    def close(self) -> None:
        self._closed.set()
        self._wakeup.set()
        self._thread.join()
        self.flush()
