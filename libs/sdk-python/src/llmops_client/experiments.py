"""Local assignment: the assignment service's rules over the project's experiment snapshots.

Rules, in order (services' CompiledExperiment): lifecycle (not running -> control, ``not-running``),
forced users, targeting, then bucketing (layer, allocation, arm). Users outside the experiment get
the control arm with ``in_experiment=False`` and the reason.

One exposure is queued per user, phase and arm: the last exposed answer of each user is remembered
(two generations of REMEMBERED_PER_GENERATION users), and forgotten when its exposure is dropped
or refused, so the next assignment of that user queues it again.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ._http import MAX_RETRY_AFTER, Transport, body_of
from .errors import LlmopsError, LlmopsHttpError, LlmopsValidationError
from .hashing import compile_arm_picker, validate_user_id
from .ingestion import Ingestion
from .validation import attributes as check_attributes

log = logging.getLogger("llmops_client")
_time = time.time

#: Users whose last exposed answer is remembered per generation: when the current generation is
#: full it becomes the previous one and the older one is forgotten; an answer found in the previous
#: generation moves to the current one. A working set of up to this many users is always
#: remembered; at most twice this many are held.
REMEMBERED_PER_GENERATION = 100_000


@dataclass(frozen=True, slots=True)
class Assignment:
    experiment: str
    arm: str
    prompt: Mapping[str, str]
    in_experiment: bool
    reason: str
    phase: int
    source: str  # 'local' | 'remote'

    def to_api(self) -> dict[str, Any]:
        """The ``POST /v1/assign`` response this assignment equals."""
        return {
            "experiment": self.experiment,
            "arm": self.arm,
            "prompt": dict(self.prompt),
            "inExperiment": self.in_experiment,
            "reason": self.reason,
            "phase": self.phase,
        }


def _typed(value: Any) -> tuple[str, Any]:
    """Strict equality as in JavaScript: True is not 1, 1 is not "1" (1 and 1.0 are the same number)."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    return ("string", value)


_MISSING = object()


def compile_targeting(rules: list[dict[str, Any]] | None) -> Callable[[Mapping[str, Any] | None], bool]:
    """AND of the rules. A missing attribute never satisfies ``equals``/``in`` and always ``notIn``."""
    if not rules:
        return lambda attributes: True
    checks: list[Callable[[Mapping[str, Any]], bool]] = []
    for rule in rules:
        name, op = rule["attribute"], rule["op"]
        if op == "equals":
            expected = _typed(rule["value"])
            checks.append(lambda a, n=name, e=expected: (v := a.get(n, _MISSING)) is not _MISSING and _typed(v) == e)
        elif op in ("in", "notIn"):
            values = frozenset(_typed(v) for v in rule["values"])
            inside = op == "in"
            checks.append(
                lambda a, n=name, vs=values, inside=inside: (
                    ((v := a.get(n, _MISSING)) is not _MISSING and _typed(v) in vs) == inside
                )
            )
        else:
            raise LlmopsValidationError("targeting.op", f"unknown targeting op {op!r}")

    def predicate(attributes: Mapping[str, Any] | None) -> bool:
        a = attributes or {}
        return all(check(a) for check in checks)

    return predicate


class CompiledExperiment:
    """One experiment snapshot (``ExperimentSnapshot`` of libs/contracts) prepared for assignment:
    the arm picker (ranges precomputed), the forced users, the targeting predicate and one frozen
    Assignment per outcome, so an assignment allocates nothing but the MD5 digest."""

    def __init__(self, snapshot: Mapping[str, Any]) -> None:
        self.key: str = snapshot["key"]
        self.phase: int = snapshot["phase"]
        self.revision: int = snapshot["revision"]
        self.running = snapshot["status"] == "running"
        arms = snapshot["arms"]
        prompts = [MappingProxyType({"name": a["prompt"]["name"], "hash": a["prompt"]["hash"]}) for a in arms]
        names = [a["name"] for a in arms]
        index = {name: i for i, name in enumerate(names)}
        control = index.get(snapshot["control"], 0)

        def outcome(i: int, reason: str, inside: bool) -> Assignment:
            return Assignment(self.key, names[i], prompts[i], inside, reason, self.phase, "local")

        self._by_force = [outcome(i, "forced", True) for i in range(len(arms))]
        self._outside = {r: outcome(control, r, False) for r in ("not-running", "targeting", "layer", "not-in-allocation")}
        # Arm order is the order given at creation (the reference layout), not control first.
        self._pick = compile_arm_picker(
            seed=snapshot["seed"],
            hash_version=snapshot["hashVersion"],
            weights=[a["weight"] for a in arms],
            traffic_allocation=snapshot["trafficAllocation"],
            layer=snapshot.get("layer"),
            arms=[outcome(i, "hash", True) for i in range(len(arms))],
            outside=self._outside,
        )
        self._forced = {user: index[arm] for user, arm in (snapshot.get("forced") or {}).items() if arm in index}
        self._targeting = compile_targeting(snapshot.get("targeting")) if snapshot.get("targeting") else None
        #: ``assign`` without attributes when only bucketing applies (running, no forced users, no
        #: targeting): the picker itself, one call less on the hot path.
        self.bucket_only = self._pick if self.running and not self._forced and self._targeting is None else None

    def assign(self, user_id: str, attributes: Mapping[str, Any] | None = None) -> Assignment:
        """Lifecycle, forced users (QA sees its arm even outside targeting, layer and allocation),
        targeting, then layer, allocation and arm. ``user_id`` must be valid (validate_user_id)."""
        if not self.running:
            return self._outside["not-running"]
        forced = self._forced.get(user_id)
        if forced is not None:
            return self._by_force[forced]
        if self._targeting is not None and not self._targeting(attributes):
            return self._outside["targeting"]
        return self._pick(user_id)


class SnapshotStore:
    """The project's experiments, from ``GET /v1/experiments/snapshots``, kept fresh by a long poll.

    The poller starts on first use. Until the first snapshot arrives (or when the service does not
    serve snapshots) ``get`` answers None and the caller assigns remotely.
    """

    def __init__(self, transport: Transport, url: str, wait_seconds: int = 25) -> None:
        self._transport = transport
        self._url = f"{url}/v1/experiments/snapshots"
        self._wait = wait_seconds
        #: The compiled experiments by key, None until the first snapshot arrived.
        self.experiments: dict[str, CompiledExperiment] | None = None
        self._etag: str | None = None
        self.version: str | None = None
        self.project: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.unsupported = False

    @property
    def ready(self) -> bool:
        return self.experiments is not None

    def refresh(self, wait: int = 0) -> bool:
        """One request (a long poll when ``wait`` > 0); True when a new version was loaded."""
        headers = {"if-none-match": self._etag} if self._etag else None
        try:
            response = self._transport.request(
                "GET",
                self._url,
                params={"wait": wait} if wait else None,
                headers=headers,
                timeout=wait + 10,
                retry=False,
            )
        except LlmopsHttpError as err:
            if err.status == 404 and err.code != "experiment_not_found":
                self.unsupported = True  # a server without the snapshot route: assign remotely
            raise
        if response.status_code == 304:
            return False
        body = body_of(response)
        compiled: dict[str, CompiledExperiment] = {}
        for snapshot in body["experiments"]:
            try:
                compiled[snapshot["key"]] = CompiledExperiment(snapshot)
            except (LlmopsError, KeyError, TypeError) as err:
                # e.g. a hashVersion this SDK does not know: that experiment is assigned remotely.
                log.warning("experiment %r is assigned remotely: %s", snapshot.get("key"), err)
        self.experiments = compiled
        self.version = str(body.get("version"))
        self.project = body.get("project")
        self._etag = response.headers.get("etag") or f'"{self.version}"'
        return True

    def start(self) -> None:
        """Starts the poller (once; assign calls it when it has no snapshot)."""
        if self._thread is not None or self.unsupported or self._stop.is_set():
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="llmops-snapshots", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.refresh(self._wait if self.ready else 0)
                failures = 0
            except LlmopsError as err:
                if self.unsupported:
                    log.info("the assignment service serves no snapshots; assigning remotely")
                    return
                failures += 1
                delay = random.uniform(0, min(30.0, 0.5 * 2**failures))
                if err.retry_after is not None:  # a 429/503 (e.g. too_many_waiters): not sooner
                    delay = max(delay, min(err.retry_after, MAX_RETRY_AFTER))
                log.debug("snapshot refresh failed (%s); retrying in %.1fs", err, delay)
                self._stop.wait(delay)

    def close(self) -> None:
        self._stop.set()


class Experiments:
    """``client.experiments``."""

    def __init__(self, transport: Transport, url: str, snapshots: SnapshotStore, ingestion: Ingestion) -> None:
        self._transport = transport
        self._url = url
        self.snapshots = snapshots
        self._exposures = ingestion.exposures
        self._exposure_items = ingestion.exposures.items
        #: key -> user id -> the Assignment last queued as that user's exposure, in two generations;
        #: ``_remembered`` counts the users of the current one (recounted when it looks full).
        self._exposed: dict[str, dict[str, Assignment]] = {}
        self._exposed_before: dict[str, dict[str, Assignment]] = {}
        self._remembered = 0
        ingestion.exposures.on_lost = self._forget_exposure

    def assign(self, key: str, user_id: str, attributes: Mapping[str, Any] | None = None) -> Assignment:
        """The arm of ``user_id`` in experiment ``key``, in-process when the snapshot is known.

        A local assignment of a user in the experiment buffers its exposure for ``POST /v1/exposures``.
        Without a snapshot yet (or for a key the snapshot does not have) it calls ``POST /v1/assign``.
        """
        # Fast path of validate_user_id: a short ASCII id is valid (no surrogates, <= 512 UTF-16 units).
        if user_id.__class__ is not str or not (0 < len(user_id) <= 512 and user_id.isascii()):
            validate_user_id(user_id)
        if attributes is not None:
            check_attributes(attributes)
        experiments = self.snapshots.experiments
        experiment = experiments.get(key) if experiments is not None else None
        if experiment is None:
            if not isinstance(key, str) or not key:
                raise LlmopsValidationError("key", "must be a non-empty string")
            self.snapshots.start()
            return self.assign_remote(key, user_id, attributes)
        bucket_only = experiment.bucket_only
        assignment = bucket_only(user_id) if bucket_only is not None else experiment.assign(user_id, attributes)
        if assignment.in_experiment:
            users = self._exposed.get(key)
            last = users.get(user_id) if users is not None else None
            if last is not assignment:  # not the very answer last exposed (the common returning user)
                if last is None:
                    before = self._exposed_before.get(key)
                    last = before.get(user_id) if before is not None else None
                    if self._remembered >= REMEMBERED_PER_GENERATION and self._rotate():
                        users = None
                    self._remembered += 1
                    if users is None:
                        users = self._exposed[key] = {}
                users[user_id] = assignment
                if last is None or last.arm != assignment.arm or last.phase != assignment.phase:
                    # BatchQueue.put, inlined: this runs once per new exposure. The attributes are
                    # copied: the caller may change its dict before the exposure is sent.
                    items = self._exposure_items
                    copy = dict(attributes) if attributes else None
                    items.append((key, user_id, assignment.arm, assignment.phase, _time(), copy))
                    if len(items) >= self._exposures.next_check:
                        self._exposures.backlog()
        return assignment

    def _rotate(self) -> bool:
        """The current generation looks full: recounted (forgotten exposures leave room), and when it
        is, it becomes the previous one and the older one is forgotten. True when it rotated."""
        self._remembered = sum(map(len, self._exposed.values()))
        if self._remembered < REMEMBERED_PER_GENERATION:
            return False
        self._exposed_before, self._exposed, self._remembered = self._exposed, {}, 0
        return True

    def _forget_exposure(self, item: tuple[str, str, str, int, float, Any]) -> None:
        """An exposure was dropped or refused: the next assignment of its user queues it again."""
        for generation in (self._exposed, self._exposed_before):
            users = generation.get(item[0])
            last = users.get(item[1]) if users is not None else None
            if last is not None and last.arm == item[2] and last.phase == item[3]:
                users.pop(item[1], None)

    def assign_remote(self, key: str, user_id: str, attributes: Mapping[str, Any] | None = None) -> Assignment:
        body: dict[str, Any] = {"experiment": key, "userId": user_id}
        if attributes:
            body["attributes"] = dict(attributes)
        r = body_of(self._transport.request("POST", f"{self._url}/v1/assign", json=body))
        return Assignment(
            r["experiment"], r["arm"], r["prompt"], r["inExperiment"], r["reason"], r["phase"], "remote"
        )
