"""Local assignment rules over snapshot dicts (the contracts' ExperimentSnapshot), and the snapshot store."""

import hashlib
import json
import pathlib
import re
import threading
import time

import httpx
import pytest

from llmops_client import (
    BufferOptions,
    Client,
    CompiledExperiment,
    LlmopsRejectedError,
    LlmopsValidationError,
    RetryPolicy,
)
from llmops_client import experiments as experiments_module
from llmops_client.experiments import compile_targeting
from llmops_client.validation import ATTRIBUTE_NAME_MAX_LENGTH, ATTRIBUTE_VALUE_MAX_LENGTH, MAX_ATTRIBUTES

ROOT = pathlib.Path(__file__).resolve().parents[3]

H1, H2 = "a" * 64, "b" * 64


def snapshot(**over):
    base = {
        "key": "summarizer",
        "description": "",
        "status": "running",
        "phase": 2,
        "seed": "summarizer_prompt",
        "hashVersion": 1,
        "trafficAllocation": 1,
        "control": "A",
        "arms": [
            {"name": "A", "weight": 0.5, "prompt": {"name": "p", "ref": "1", "hash": H1}},
            {"name": "B", "weight": 0.5, "prompt": {"name": "p", "ref": "2", "hash": H2}},
        ],
        "revision": 3,
        "createdAt": "2026-12-01T00:00:00.000Z",
        "updatedAt": "2026-12-01T00:00:00.000Z",
    }
    base.update(over)
    return base


def test_hash_assignment_equals_the_reference_formula():
    exp = CompiledExperiment(snapshot())
    for i in range(2000):
        user = f"user_{i}"
        h = hashlib.md5(f"summarizer_prompt:{user}".encode()).hexdigest()
        expected = "B" if int(h[:8], 16) / 0xFFFFFFFF < 0.5 else "A"
        a = exp.assign(user)
        assert (a.arm, a.reason, a.in_experiment, a.phase) == (expected, "hash", True, 2)
        assert a.prompt == {"name": "p", "hash": H1 if expected == "A" else H2}


def test_rule_order_lifecycle_forced_targeting_then_bucketing():
    rules = [{"attribute": "country", "op": "in", "values": ["DE"]}]
    paused = CompiledExperiment(snapshot(status="paused", forced={"qa": "B"}))
    assert paused.assign("qa").to_api()["reason"] == "not-running"
    exp = CompiledExperiment(
        snapshot(
            forced={"qa": "B", "ghost": "Z"},
            targeting=rules,
            layer={"name": "home", "range": [0, 0.5]},
            trafficAllocation=0.5,
        )
    )
    forced = exp.assign("qa")  # forced wins over targeting, layer and allocation
    assert (forced.arm, forced.reason, forced.in_experiment) == ("B", "forced", True)
    outside = exp.assign("user_1", {"country": "US"})
    assert (outside.arm, outside.reason, outside.in_experiment) == ("A", "targeting", False)
    reasons = {exp.assign(f"u{i}", {"country": "DE"}).reason for i in range(500)}
    assert reasons == {"layer", "not-in-allocation", "hash"}
    assert exp.assign("ghost", {"country": "DE"}).reason != "forced"  # a forced arm that does not exist


def test_control_arm_is_served_outside_the_experiment_even_when_not_first():
    exp = CompiledExperiment(snapshot(control="B", status="draft"))
    a = exp.assign("u")
    assert (a.arm, a.prompt["hash"], a.in_experiment) == ("B", H2, False)


def test_targeting_is_strict_like_javascript():
    assert compile_targeting(None)(None)
    eq = compile_targeting([{"attribute": "plan", "op": "equals", "value": 1}])
    assert eq({"plan": 1}) and eq({"plan": 1.0})
    assert not eq({"plan": "1"}) and not eq({"plan": True}) and not eq({}) and not eq(None)
    flag = compile_targeting([{"attribute": "beta", "op": "equals", "value": True}])
    assert flag({"beta": True}) and not flag({"beta": 1})
    inside = compile_targeting([{"attribute": "c", "op": "in", "values": ["DE", 1]}])
    not_in = compile_targeting([{"attribute": "c", "op": "notIn", "values": ["DE", False]}])
    assert inside({"c": "DE"}) and inside({"c": 1}) and not inside({"c": True}) and not inside({})
    assert not not_in({"c": "DE"}) and not_in({"c": 0}) and not_in({}) and not not_in({"c": False})


class FakeAssignment:
    """An assignment service: the snapshot route (ETag, 304, long poll), /v1/assign and /v1/exposures."""

    def __init__(self, experiments, serves_snapshots=True):
        self.experiments = experiments
        self.version = 1
        self.serves_snapshots = serves_snapshots
        self.exposures = []
        self.assign_calls = 0
        self.changed = threading.Event()
        self.released = threading.Event()  # the snapshot route answers once released
        self.released.set()
        self.refuse = set()  # user ids whose exposures are refused (e.g. by a lagging replica)
        self.exposures_open = threading.Event()  # the exposures route answers once open
        self.exposures_open.set()
        self.snapshot_script = []  # (status, retry-after) answers of the next snapshot requests
        self.snapshot_requests = []  # time.monotonic() of each

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/experiments/snapshots":
            self.snapshot_requests.append(time.monotonic())
            if self.snapshot_script:
                status, retry_after = self.snapshot_script.pop(0)
                error = {"error": {"code": "too_many_waiters", "message": "busy"}}
                return httpx.Response(status, json=error, headers={"retry-after": retry_after})
            if not self.serves_snapshots:
                return httpx.Response(404, json={"error": {"code": "not_found", "message": "Route not found"}})
            self.released.wait(5)
            wait = float(request.url.params.get("wait", 0))
            if request.headers.get("if-none-match") == f'"{self.version}"':
                self.changed.wait(wait)
                self.changed.clear()
                if request.headers.get("if-none-match") == f'"{self.version}"':
                    return httpx.Response(304)
            body = {"project": "default", "version": str(self.version), "experiments": self.experiments}
            return httpx.Response(200, json=body, headers={"etag": f'"{self.version}"'})
        if request.url.path == "/v1/assign":
            self.assign_calls += 1
            body = json.loads(request.content)
            a = CompiledExperiment(self.experiments[0]).assign(body["userId"], body.get("attributes")).to_api()
            return httpx.Response(200, json=a)
        if request.url.path == "/v1/exposures":
            self.exposures_open.wait(5)
            items = json.loads(request.content)["items"]
            refused = {"status": "rejected", "error": {"code": "experiment_not_found", "message": "unknown"}}
            answers = [refused if i["userId"] in self.refuse else {"status": "accepted"} for i in items]
            self.exposures += [i for i in items if i["userId"] not in self.refuse]
            return httpx.Response(202, json={"items": answers})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})

    def change(self, experiments):
        self.experiments = experiments
        self.version += 1
        self.changed.set()


def client_for(fake, **kw):
    return Client(
        api_key="llmk_x_y",
        urls={"assignment": "http://assignment.test"},
        http=httpx.Client(transport=httpx.MockTransport(fake)),
        snapshot_wait=2,
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
        **kw,
    )


def until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_remote_until_the_first_snapshot_then_local_with_buffered_exposures():
    fake = FakeAssignment([snapshot()])
    fake.released.clear()
    with client_for(fake) as client:
        first = client.experiments.assign("summarizer", "user_1")
        fake.released.set()
        until(lambda: client.experiments.snapshots.ready)
        second = client.experiments.assign("summarizer", "user_1")
        assert (first.source, second.source) == ("remote", "local")
        assert first.to_api() == second.to_api()
        client.flush()
        assert [(e["experiment"], e["userId"], e["arm"], e["phase"]) for e in fake.exposures] == [
            ("summarizer", "user_1", second.arm, 2)
        ]
        assert fake.exposures[0]["assignedAt"].endswith("Z")


def test_a_change_reaches_the_client_through_the_long_poll():
    fake = FakeAssignment([snapshot()])
    with client_for(fake) as client:
        client.experiments.assign("summarizer", "u")
        until(lambda: client.experiments.snapshots.ready)
        assert client.experiments.assign("summarizer", "u").reason == "hash"
        fake.change([snapshot(status="stopped", revision=4)])
        until(lambda: client.experiments.assign("summarizer", "u").reason == "not-running", timeout=2)
        assert client.experiments.snapshots.version == "2"


def test_without_the_snapshot_route_every_assignment_is_remote():
    fake = FakeAssignment([snapshot()], serves_snapshots=False)
    with client_for(fake) as client:
        client.experiments.assign("summarizer", "u")
        until(lambda: client.experiments.snapshots.unsupported)
        assert client.experiments.assign("summarizer", "u").source == "remote"
        assert fake.assign_calls == 2


def test_arguments_are_checked_before_anything_is_sent():
    fake = FakeAssignment([snapshot()])
    with client_for(fake) as client:
        with pytest.raises(LlmopsValidationError, match="user_id"):
            client.experiments.assign("summarizer", "")
        with pytest.raises(LlmopsValidationError, match="attributes.country"):
            client.experiments.assign("summarizer", "u", {"country": ["DE"]})
        with pytest.raises(LlmopsValidationError, match="attributes.score"):
            client.experiments.assign("summarizer", "u", {"score": float("nan")})
        with pytest.raises(LlmopsValidationError, match="key"):
            client.experiments.assign("", "u")
    assert fake.assign_calls == 0


def test_local_assign_makes_no_call_per_assignment():
    """Through the client (user id checked, exposure buffered), over distinct users: no request per
    assignment, and one exposure each, sent in batches. Its speed is measured by the benchmark
    test/bench/sdk-assign-python.bench.ts, not here."""
    fake = FakeAssignment([snapshot()])
    client = client_for(fake, buffer=BufferOptions(max_items=400_000, max_batch=1000, flush_interval=600))
    client.experiments.assign("summarizer", "warm-up")
    until(lambda: client.experiments.snapshots.ready)
    calls = fake.assign_calls
    for i in range(20_000):
        client.experiments.assign("summarizer", f"user_{i}")
    assert fake.assign_calls == calls
    client.flush()
    client.close()
    # Everyone is in this experiment: one exposure per local assignment (the warm-up may have been remote).
    assert client.metrics()["sent"] == len(fake.exposures) in (20_000, 20_001)
    assert client.metrics()["pending"] == 0


def ready_client(fake, **kw):
    client = client_for(fake, **kw)
    client.experiments.snapshots.start()
    until(lambda: client.experiments.snapshots.ready)
    return client


def test_attributes_are_checked_by_the_assignment_services_rules():
    fake = FakeAssignment([snapshot()])
    with ready_client(fake) as client:
        assign = client.experiments.assign
        too_many = {f"a{i}": i for i in range(MAX_ATTRIBUTES + 1)}
        for attributes, field in [
            (too_many, "attributes"),
            ({"n" * 129: 1}, "attributes.n"),
            ({"": 1}, "attributes."),
            ({"a\x07": 1}, "attributes.a"),
            ({"c": "x" * 1025}, "attributes.c"),
            ({"c": "\U0001f600" * 1025}, "attributes.c"),
            ({"c": 10**400}, "attributes.c"),
        ]:
            with pytest.raises(LlmopsValidationError, match=re.escape(field)):
                assign("summarizer", "u", attributes)
        # The largest the service accepts are answered locally; it counts an emoji as one character.
        most = {f"a{i}": "x" * 1024 for i in range(MAX_ATTRIBUTES - 2)}
        most |= {"n" * 128: "\U0001f600" * 1024, "\U0001f600" * 128: True}
        assert assign("summarizer", "u", most).source == "local"
        client.flush()
    assert fake.assign_calls == 0 and len(fake.exposures) == 1


def test_the_attribute_limits_are_the_assignment_services():
    spec = json.loads((ROOT / "services" / "assignment" / "openapi.json").read_text(encoding="utf-8"))
    schema = spec["paths"]["/v1/assign"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    attributes = schema["properties"]["attributes"]
    assert attributes["propertyNames"]["maxLength"] == ATTRIBUTE_NAME_MAX_LENGTH
    assert {"type": "string", "maxLength": ATTRIBUTE_VALUE_MAX_LENGTH} in attributes["additionalProperties"]["anyOf"]
    # The attribute count is a refinement, which the OpenAPI document does not carry.
    dto = (ROOT / "services" / "assignment" / "src" / "assignment" / "dto" / "assign.request.ts").read_text()
    assert f"Object.keys(a).length <= {MAX_ATTRIBUTES}" in dto


def test_the_queued_exposure_has_the_attributes_assigned_with_not_later_changes():
    fake = FakeAssignment([snapshot()])
    with ready_client(fake) as client:
        attributes = {"country": "DE"}
        client.experiments.assign("summarizer", "u", attributes)
        attributes["country"] = "FR"
        client.flush()
    assert fake.exposures[0]["attributes"] == {"country": "DE"}


def test_one_exposure_per_user_phase_and_arm():
    fake = FakeAssignment([snapshot()])
    with ready_client(fake) as client:
        for _ in range(3):
            for user in ("u1", "u2"):
                client.experiments.assign("summarizer", user)
        client.flush()
        assert [e["userId"] for e in fake.exposures] == ["u1", "u2"]
        fake.change([snapshot(phase=3, revision=4)])  # a new phase: exposed again, once
        until(lambda: client.experiments.assign("summarizer", "u1").phase == 3, timeout=3)
        client.experiments.assign("summarizer", "u1")
        client.flush()
    assert [(e["userId"], e["phase"]) for e in fake.exposures] == [("u1", 2), ("u2", 2), ("u1", 3)]


def test_remembered_exposures_keep_a_hot_user_past_the_generation_size(monkeypatch):
    monkeypatch.setattr(experiments_module, "REMEMBERED_PER_GENERATION", 10)
    fake = FakeAssignment([snapshot()])
    with ready_client(fake) as client:
        for i in range(45):  # 4.5 generations of new users, the hot one among them
            client.experiments.assign("summarizer", "hot")
            client.experiments.assign("summarizer", f"cold-{i}")
        client.flush()
        generations = (client.experiments._exposed, client.experiments._exposed_before)
        held = sum(len(users) for generation in generations for users in generation.values())
    users = [e["userId"] for e in fake.exposures]
    assert users.count("hot") == 1 and len(users) == 46
    assert held <= 20


def test_a_refused_exposure_is_sent_again_on_the_next_assignment():
    fake = FakeAssignment([snapshot()])
    fake.refuse = {"u1"}
    with ready_client(fake) as client:
        client.experiments.assign("summarizer", "u1")
        client.experiments.assign("summarizer", "u2")
        with pytest.raises(LlmopsRejectedError) as refused:
            client.flush()
        assert [(r.kind, r.id, r.code) for r in refused.value.rejected] == [
            ("exposures", "summarizer:u1", "experiment_not_found")
        ]
        fake.refuse = set()  # the replica caught up
        client.experiments.assign("summarizer", "u1")
        client.experiments.assign("summarizer", "u2")
        client.flush()
    assert [e["userId"] for e in fake.exposures] == ["u2", "u1"]


def test_an_exposure_dropped_by_the_overflow_policy_is_sent_again_on_the_next_assignment():
    fake = FakeAssignment([snapshot()])
    client = ready_client(fake, buffer=BufferOptions(max_items=5, max_batch=5, flush_interval=600))
    fake.exposures_open.clear()  # the service does not answer yet: the buffer overflows
    users = [f"u{i}" for i in range(20)]
    for user in users:
        client.experiments.assign("summarizer", user)
    assert client.metrics()["dropped"] > 0
    fake.exposures_open.set()
    client.flush()
    for i, user in enumerate(users):  # now with room: flushed every max_items assignments
        client.experiments.assign("summarizer", user)
        if i % 5 == 4:
            client.flush()
    client.close()
    assert client.metrics()["sent"] == 20
    assert sorted(e["userId"] for e in fake.exposures) == sorted(users)  # each exactly once


def test_the_snapshot_poller_waits_out_a_503s_retry_after():
    fake = FakeAssignment([snapshot()])
    fake.snapshot_script = [(503, "1.5")]
    with client_for(fake) as client:
        client.experiments.snapshots.start()
        until(lambda: client.experiments.snapshots.ready, timeout=10)
        first, second = fake.snapshot_requests[:2]
        assert second - first >= 1.4  # the backoff alone would have retried within 1 s
