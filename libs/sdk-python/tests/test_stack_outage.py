"""Outages of real service processes, when LLMOPS_SDK_STACK=1 and LLMOPS_SDK_CONTROL_URL are set.

test/e2e/sdk-python.e2e-spec.ts runs this module in a step of its own and serves
LLMOPS_SDK_CONTROL_URL: ``POST /services/<feedback|registry>/stop`` answers once the process has
exited (SIGTERM), ``POST /services/<name>/start`` once a new process is ready on the same port and
knows the key. The spec then finds every id written to LLMOPS_SDK_REPORT on Kafka exactly once.
"""

import contextlib
import json
import os
import time
import uuid

import httpx
import pytest

from llmops_client import BufferOptions, Client, LlmopsUnavailableError, RetryPolicy, prompt_hash

CONTROL = os.environ.get("LLMOPS_SDK_CONTROL_URL")
pytestmark = pytest.mark.skipif(
    os.environ.get("LLMOPS_SDK_STACK") != "1" or not CONTROL,
    reason="needs the services and their control URL (LLMOPS_SDK_STACK=1, LLMOPS_SDK_CONTROL_URL)",
)

RUN = uuid.uuid4().hex[:8]
#: Short backoff: an outage's attempts fail within seconds, not the default policy's tens of seconds.
RETRY = RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=1.0)


def control(name: str, action: str) -> None:
    r = httpx.post(f"{CONTROL}/services/{name}/{action}", timeout=180)
    assert r.status_code == 204, f"{action} {name}: {r.status_code} {r.text}"


@contextlib.contextmanager
def stopped(name: str):
    """The service's process is down inside the block and up again (same URL) after it."""
    control(name, "stop")
    try:
        yield
    finally:
        control(name, "start")


def eventually(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not true within {timeout} s: {check.__doc__ or check}"
        time.sleep(0.02)


def flush_until_acknowledged(client: Client, timeout: float = 120.0) -> None:
    """flush() until it returns: a service that has just started (or a shared database under load)
    may answer 503 for longer than one flush's retry budget; the items stay buffered meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.flush()
            return
        except LlmopsUnavailableError:
            assert time.monotonic() < deadline, f"still unavailable after {timeout} s: {client.metrics()}"


def log_pairs(client: Client, n: int, tag: str) -> tuple[list[str], list[str]]:
    """n generations, each with one feedback; their client-side ids."""
    requests, feedback = [], []
    for i in range(n):
        rid = client.generations.log(
            model="gpt-4o-mini", input=f"question {tag} {i}", output=f"answer {i}", latency_ms=100 + i % 50,
            user_id=f"user-{i}",
        )
        requests.append(rid)
        feedback.append(client.feedback.log(rid, rating=1 + i % 5, thumbs=("up", "down")[i % 2]))
    return requests, feedback


def test_items_buffered_across_a_feedback_outage_are_delivered_once_each():
    # Batches go out when full (200) or on flush(), never on a timer: after a flush nothing is in
    # flight, so the stop finds the items logged since in the buffer, not half-sent.
    buffer = BufferOptions(max_items=50_000, max_batch=200, flush_interval=3600)
    with Client(buffer=buffer, retry=RETRY, timeout=5) as client:
        sent = log_pairs(client, 300, "before")
        flush_until_acknowledged(client)
        sent_before = client.metrics()["sent"]
        assert sent_before == 600

        buffered = log_pairs(client, 150, "buffered")  # under a batch per queue: stays buffered
        assert client.metrics()["pending"] == 300
        with stopped("feedback"):
            retried = client.metrics()["retried"]
            during = log_pairs(client, 650, "during")  # full batches wake the sender, which fails and keeps them
            eventually(lambda: client.metrics()["retried"] > retried)
            with pytest.raises(LlmopsUnavailableError) as err:
                client.flush()
            assert (err.value.code, err.value.status) == ("unavailable", None)
            # Every item is still buffered once the sender is idle again; none was dropped.
            eventually(lambda: client.metrics()["pending"] == 1600)
            assert client.metrics()["dropped"] == 0

        flush_until_acknowledged(client)  # the feedback service is back on the same URL
        m = client.metrics()
        assert (m["pending"], m["dropped"], m["rejected"], m["sent"]) == (0, 0, 0, sent_before + 1600)

    ids = {"generations": sent[0] + buffered[0] + during[0], "feedback": sent[1] + buffered[1] + during[1]}
    assert len(set(ids["generations"])) == len(set(ids["feedback"])) == 1100
    with open(os.environ["LLMOPS_SDK_REPORT"], "w", encoding="utf-8") as f:
        json.dump(ids, f)


def test_a_registry_outage_serves_cached_prompts_else_the_fallback():
    name = f"outage-{RUN}"
    spec = {"template": "Summarize: {text}", "model": "gpt-4o-mini", "params": {"temperature": 0.3}}
    fallback = {"template": "Summarize briefly: {text}", "model": "gpt-4o-mini"}
    with Client(timeout=5) as cached, Client(timeout=5, prompt_ttl=0) as revalidating:
        v = cached.prompts.register(name, **spec)
        assert cached.prompts.get(name, "latest").served == "fresh"
        assert revalidating.prompts.get(name, v.short_hash).served == "fresh"

        with stopped("registry"):
            # Within the TTL: the cached version, without asking the registry.
            got = cached.prompts.get(name, "latest")
            assert (got.served, got.hash, got.version, dict(got.spec)) == ("cache", v.hash, v.version, spec)
            # Past the TTL (0 s): the registry is unreachable, so the last known version.
            stale = revalidating.prompts.get(name, v.short_hash)
            assert (stale.served, stale.hash, stale.version, dict(stale.spec)) == ("stale", v.hash, v.version, spec)
            assert stale.variables == ["text"]
            # Never fetched: the caller's fallback spec, hashed client-side; without one, the error.
            fb = cached.prompts.get(f"never-{RUN}", "production", fallback=fallback)
            assert (fb.served, fb.hash, fb.version, dict(fb.spec)) == (
                "fallback", prompt_hash(fallback).hash, None, fallback,
            )
            with pytest.raises(LlmopsUnavailableError) as err:
                cached.prompts.get(f"never-{RUN}", "production")
            assert err.value.code == "unavailable"

        # Back: the registry answers again (stale while it still reports itself unavailable).
        eventually(lambda: revalidating.prompts.get(name, v.short_hash).served == "fresh", timeout=60)
        assert revalidating.prompts.get(name, v.short_hash).hash == v.hash
