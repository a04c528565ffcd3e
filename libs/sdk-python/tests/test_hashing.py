"""Prompt ids and bucketing equal @llmops/hashing on its fixtures (libs/hashing/fixtures)."""

import json
import re
import time
import uuid

import httpx
import pytest

from llmops_client import LlmopsValidationError, create_bucketer, prompt_hash, uuid7
from llmops_client._http import body_of
from llmops_client.hashing import arm_for_bucket, arm_ranges, digest_below, reference_bucket, user_id_problem


def test_prompt_hash_equals_every_fixture_case(prompt_hash_cases):
    assert len(prompt_hash_cases) >= 20
    for case in prompt_hash_cases:
        spec = json.loads(case["specJson"]) if "specJson" in case else case["spec"]
        h = prompt_hash(spec)
        assert (case["name"], h.canonical, h.hash) == (case["name"], case["canonical"], case["hash"])
        assert h.short_hash == case["hash"][:12]


def test_prompt_hash_ignores_key_order_and_number_spelling():
    a = prompt_hash({"template": "Summarize: {text}", "model": "gpt-4o-mini", "params": {"temperature": 0.7, "max_tokens": 256}})
    b = prompt_hash(json.loads('{"params":{"max_tokens":256.0,"temperature":0.70},"model":"gpt-4o-mini","template":"Summarize: {text}"}'))
    assert a.hash == b.hash == "17768adb4d86bf75c501d675c1ac39ac8053c0f6876da81b1d7fd1ef56924acf"


def test_prompt_hash_refuses_what_the_registry_cannot_hash():
    with pytest.raises(LlmopsValidationError):
        prompt_hash({"template": "x", "model": "m", "params": {"t": float("nan")}})


def test_reference_rows_equal_the_original_formula(assignment_fixture):
    ids = assignment_fixture["userIds"]
    for ref in assignment_fixture["reference"]:
        bucketer = create_bucketer(seed=ref["seed"], hash_version=1, weights=ref["weights"], traffic_allocation=1)
        for user, (arm, bucket) in zip(ids, ref["rows"]):
            result = bucketer(user)
            assert reference_bucket(ref["seed"], user) == bucket
            assert (user, ("A", "B")[result.arm_index], result.bucket) == (user, arm, bucket)


def test_generalised_rows_layers_allocation_weights(assignment_fixture):
    ids = assignment_fixture["userIds"]
    assert len(assignment_fixture["generalised"]) == 4
    for g in assignment_fixture["generalised"]:
        c = g["config"]
        bucketer = create_bucketer(
            seed=c["seed"],
            hash_version=c["hashVersion"],
            weights=c["weights"],
            traffic_allocation=c["trafficAllocation"],
            layer=c.get("layer"),
        )
        for user, (arm_index, reason, bucket, _, _) in zip(ids, g["rows"]):
            assert user_id_problem(user) is None
            r = bucketer(user)
            assert (g["name"], user, r.arm_index, r.reason, r.bucket) == (g["name"], user, arm_index, reason, bucket)


def test_worked_example_of_the_hashing_readme():
    b = create_bucketer(seed="summarizer_prompt", hash_version=1, weights=[0.2, 0.3, 0.5], traffic_allocation=0.3)
    r = b("user_42")
    assert (r.arm_index, r.bucket, r.reason) == (1, 0.5853056047543198, "hash")
    layered = create_bucketer(
        seed="summarizer_prompt", hash_version=1, weights=[0.5, 0.5], traffic_allocation=1,
        layer={"name": "homepage", "range": [0.25, 0.75]},
    )
    assert layered("user_42").reason == "layer"


def test_a_digest_below_a_bound_s_bytes_is_a_bucket_below_the_bound():
    """The picker compares digests with digest_below(bound) instead of dividing: the same answer at
    every 32-bit value next to each bound's edge, whatever the digest's other 12 bytes."""
    import random

    rng = random.Random(20261207)
    bounds = [0.0, 1e-9, 0.1, 0.2, 0.25, 0.3, 1 / 3, 0.5, 2 / 3, 0.7, 0.75, 0.8, 0.9999999, 1.0]
    bounds += [rng.random() for _ in range(200)] + [s for _, s in arm_ranges([0.7, 0.2, 0.1])]
    for bound in bounds:
        below = digest_below(bound)
        edge = int(bound * 0xFFFFFFFF)
        for x in [0, 0xFFFFFFFF, *range(max(0, edge - 3), min(0xFFFFFFFF, edge + 3) + 1)]:
            for rest in (bytes(12), b"\xff" * 12, rng.randbytes(12)):
                digest = x.to_bytes(4, "big") + rest
                assert (x / 0xFFFFFFFF < bound) == (digest < below), (bound, x)


def test_arm_ranges_layout_and_the_closed_top():
    assert arm_ranges([0.2, 0.3, 0.5]) == [(0.8, 1.0), (0.5, 0.8), (0.0, 0.5)]
    assert arm_ranges([0.7, 0.2, 0.1])[2] == (0.0, 0.1)  # sum 0.9999999999999999 is used as is
    assert arm_ranges([0, 1]) == [(1.0, 1.0), (0.0, 1.0)]
    assert arm_for_bucket(arm_ranges([0.5, 0.5]), 1.0) == 0
    assert arm_for_bucket(arm_ranges([0, 1]), 1.0) == 1


@pytest.mark.parametrize(
    "user_id, problem",
    [
        ("", "must not be empty"),
        (42, "expected a string"),
        ("x" * 513, "exceeds 512"),
        ("😀" * 257, "exceeds 512"),
        ("a\ud800b", "lone surrogate at index 1"),
    ],
)
def test_user_ids_the_server_refuses_are_refused(user_id, problem):
    assert problem in user_id_problem(user_id)


def test_user_ids_at_the_limit_are_accepted():
    for ok in ("é" * 512, "😀" * 256, "a" + "😀" * 255 + "b", "e\u0301", "\u0000"):
        assert user_id_problem(ok) is None


def test_bad_configs_are_refused_before_any_user_is_assigned():
    with pytest.raises(LlmopsValidationError, match="unknown hash version 2"):
        create_bucketer(seed="s", hash_version=2, weights=[1, 1], traffic_allocation=1)
    with pytest.raises(LlmopsValidationError, match="weights"):
        create_bucketer(seed="s", hash_version=1, weights=[0, 0], traffic_allocation=1)
    with pytest.raises(LlmopsValidationError, match="trafficAllocation"):
        create_bucketer(seed="s", hash_version=1, weights=[1, 1], traffic_allocation=0)


def test_uuid7_is_a_time_ordered_version_7_uuid():
    ids = [uuid7() for _ in range(100)]
    for s in ids:
        u = uuid.UUID(s)
        assert (u.version, u.variant) == (7, uuid.RFC_4122)
        assert re.fullmatch(r"[0-9a-f-]{36}", s)
    ms = int(ids[0].replace("-", "")[:12], 16)
    assert abs(ms - time.time() * 1000) < 5_000
    assert len(set(ids)) == 100


def test_a_spec_read_back_from_the_server_hashes_to_its_id(prompt_hash_cases):
    """The server writes 2**60 as 1152921504606847000; read as JavaScript reads it (a double), it
    canonicalizes to the same text instead of an rfc8785 integer-domain error."""
    case = next(c for c in prompt_hash_cases if c["name"] == "large-and-small-numbers")
    served = httpx.Response(200, content=json.dumps(case["spec"]).replace("1.152921504606847e+18", "1152921504606847000"))
    assert b"1152921504606847000" in served.content
    assert prompt_hash(body_of(served)).hash == case["hash"]
