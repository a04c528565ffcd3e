"""prompts.get: cache within the TTL, stale when the registry is unreachable, else the caller's fallback."""

import httpx
import pytest

from llmops_client import LlmopsError, LlmopsUnavailableError, LlmopsValidationError, RetryPolicy, prompt_hash
from llmops_client._http import Transport
from llmops_client.prompts import Prompts

SPEC = {"template": "Summarize: {text}", "model": "gpt-4o-mini", "params": {"temperature": 0.7, "max_tokens": 256}}
HASH = prompt_hash(SPEC).hash


class FakeRegistry:
    def __init__(self):
        self.up = True
        self.calls = 0
        self.answer_hash = HASH

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "POST":
            h = self.answer_hash
            return httpx.Response(201, json={"name": "s", "hash": h, "shortHash": h[:12], "version": 1, "created": True, "createdAt": "2026-12-06T00:00:00.000Z"})
        return httpx.Response(200, json={"name": "s", "hash": HASH, "shortHash": HASH[:12], "version": 1, "spec": SPEC, "variables": ["text"], "createdAt": "2026-12-06T00:00:00.000Z"})


def prompts_for(fake, now):
    transport = Transport("k", RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.002), 5, httpx.Client(transport=httpx.MockTransport(fake)))
    return Prompts(transport, "http://registry.test", ttl=60, clock=lambda: now[0])


def test_fresh_then_cache_then_stale_during_an_outage():
    fake, now = FakeRegistry(), [0.0]
    prompts = prompts_for(fake, now)
    assert prompts.get("s", "production").served == "fresh"
    assert prompts.get("s", "production").served == "cache" and fake.calls == 1
    now[0] = 61.0
    fake.up = False
    stale = prompts.get("s", "production")
    assert (stale.served, stale.hash, stale.spec) == ("stale", HASH, SPEC)
    fake.up = True
    assert prompts.get("s", "production").served == "fresh"


def test_fallback_when_nothing_is_known_and_an_error_without_one():
    fake, now = FakeRegistry(), [0.0]
    fake.up = False
    prompts = prompts_for(fake, now)
    fb = prompts.get("s", "production", fallback=SPEC)
    assert (fb.served, fb.hash, fb.version) == ("fallback", HASH, None)
    with pytest.raises(LlmopsUnavailableError):
        prompts.get("s", "production")


def test_register_checks_the_registry_hash_against_the_client_side_one():
    fake, now = FakeRegistry(), [0.0]
    prompts = prompts_for(fake, now)
    v = prompts.register("s", template=SPEC["template"], model=SPEC["model"], params=SPEC["params"])
    assert (v.hash, v.short_hash, v.created) == (HASH, HASH[:12], True)
    fake.answer_hash = "0" * 64
    with pytest.raises(LlmopsError) as err:
        prompts.register("s", template=SPEC["template"], model=SPEC["model"], params=SPEC["params"])
    assert err.value.code == "hash_mismatch"


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda p: p.get("Summarizer"), "name"),
        (lambda p: p.get(""), "name"),
        (lambda p: p.get("s", ""), "ref"),
        (lambda p: p.get("s", "x" * 129), "ref"),
        (lambda p: p.get("s", "prod\nuction"), "ref"),
        (lambda p: p.register("has space", template="t", model="m"), "name"),
        (lambda p: p.register("s", template="t", model="gpt 4"), "model"),
        (lambda p: p.register("s", template="t", messages=[], model="m"), "template"),
        (lambda p: p.register("s", template="t", model="m", params={"temperature": float("nan")}), "spec"),
    ],
)
def test_arguments_are_checked_before_any_request(call, field):
    fake, now = FakeRegistry(), [0.0]
    with pytest.raises(LlmopsValidationError) as err:
        call(prompts_for(fake, now))
    assert (err.value.field, err.value.code, fake.calls) == (field, "validation_failed", 0)


def test_a_version_number_is_a_ref():
    fake, now = FakeRegistry(), [0.0]
    prompts = prompts_for(fake, now)
    assert prompts.get("s", 1).served == "fresh"
    assert prompts.get("s", "1").served == "cache"
