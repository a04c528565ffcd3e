"""Buffered generations and feedback against a fake feedback service (httpx.MockTransport)."""

import json
import threading
import time
import uuid

import httpx
import pytest

from llmops_client import (
    BufferOptions,
    Client,
    LlmopsError,
    LlmopsRejectedError,
    LlmopsUnavailableError,
    LlmopsValidationError,
    RejectedItem,
    RetryPolicy,
)
from llmops_client._http import RetryPolicy as Policy


class FakeFeedback:
    """The batch routes; ``script`` gives the status of the next requests (then 202)."""

    def __init__(self, script=(), retry_after=None):
        self.script = list(script)
        self.retry_after = retry_after
        self.requests = []
        self.stored = {}  # id -> item: what reached the "broker", by client-side id
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.gate.wait(30)
        items = json.loads(request.content)["items"]
        self.requests.append((request.url.path, len(items)))
        step = self.script.pop(0) if self.script else 202
        if step == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if step != 202:
            headers = {"retry-after": self.retry_after} if self.retry_after is not None else {}
            return httpx.Response(step, headers=headers, json={"error": {"code": "broker_unavailable", "message": "no ack"}})
        id_field = "feedbackId" if request.url.path.startswith("/v1/feedback") else "requestId"
        accepted, rejected = [], []
        for index, item in enumerate(items):
            if item.get("rating") == 9:
                rejected.append({"index": index, "code": "validation_failed", "message": "rating: expected 1..5"})
            else:
                self.stored.setdefault(item[id_field], item)
                accepted.append(item[id_field])
        return httpx.Response(202, json={"accepted": accepted, "rejected": rejected})


def client_for(fake, buffer=None, attempts=3, **options):
    return Client(
        api_key="llmk_x_y",
        urls={"feedback": "http://feedback.test"},
        http=httpx.Client(transport=httpx.MockTransport(fake)),
        buffer=buffer or BufferOptions(max_items=10_000, max_batch=1000, flush_interval=60),
        retry=RetryPolicy(max_attempts=attempts, base_delay=0.001, max_delay=0.01),
        **options,
    )


def test_items_are_sent_in_batches_with_client_side_ids():
    fake = FakeFeedback()
    with client_for(fake) as client:
        ids = [client.generations.log(model="gpt-4o-mini", output=f"o{i}", latency_ms=12) for i in range(2500)]
        fids = [client.feedback.log(rid, rating=4, thumbs="up", comment="ok") for rid in ids[:10]]
        client.flush()
        assert client.metrics() == {"sent": 2510, "rejected": 0, "dropped": 0, "retried": 0, "pending": 0}
    assert sorted(n for path, n in fake.requests if path == "/v1/generations/batch") == [500, 1000, 1000]
    assert all(uuid.UUID(i).version == 7 for i in ids + fids)
    assert set(fake.stored) == set(ids) | set(fids)
    item = fake.stored[fids[0]]
    assert (item["requestId"], item["rating"], item["thumbs"], item["source"]) == (ids[0], 4, "up", "user")
    assert item["timestamp"].endswith("Z")


def test_a_full_batch_is_sent_without_waiting_for_the_interval():
    fake = FakeFeedback()
    with client_for(fake, BufferOptions(max_items=100, max_batch=10, flush_interval=600)) as client:
        for i in range(10):
            client.feedback.log(f"r{i}", thumbs="down")
        deadline = time.monotonic() + 5
        while client.metrics()["sent"] < 10:
            assert time.monotonic() < deadline
            time.sleep(0.01)


def test_429_and_503_are_retried_with_the_same_ids_honouring_retry_after():
    fake = FakeFeedback(script=[503, 429], retry_after="0")
    with client_for(fake) as client:
        fid = client.feedback.log("r1", rating=5, feedback_id="fb-1")
        client.flush()
        assert client.metrics()["retried"] == 2
    assert fid == "fb-1" and list(fake.stored) == ["fb-1"]
    assert [n for _, n in fake.requests] == [1, 1, 1]


def test_retry_delay_is_retry_after_else_full_jitter_backoff():
    policy = Policy(max_attempts=5, base_delay=0.1, max_delay=1.0)
    assert policy.delay(0, 3.0) == 3.0
    for attempt in range(6):
        delays = [policy.delay(attempt, None) for _ in range(200)]
        assert 0 <= min(delays) and max(delays) <= min(1.0, 0.1 * 2**attempt)


def test_an_outage_keeps_the_items_until_the_service_is_back_then_sends_each_once():
    fake = FakeFeedback(script=["down"] * 3 + [503] * 2)
    with client_for(fake, attempts=3) as client:
        ids = [client.feedback.log(f"r{i}", rating=3) for i in range(900)]  # under a full batch
        with pytest.raises(LlmopsUnavailableError):
            client.flush()  # 3 attempts, all refused: nothing acknowledged, nothing lost
        assert client.metrics()["pending"] == 900
        client.flush()  # 503, 503, then 202
        assert client.metrics()["pending"] == 0 and client.metrics()["sent"] == 900
    assert sorted(fake.stored) == sorted(ids)


def test_items_refused_one_by_one_are_counted_not_retried():
    fake = FakeFeedback()  # its rating scale is 1..5; the client is told 1..10, so 9 reaches it
    with client_for(fake, rating_scale=(1, 10)) as client:
        fid = client.feedback.log("r1", rating=9)
        client.feedback.log("r2", rating=2)
        with pytest.raises(LlmopsRejectedError) as refused:
            client.flush()  # nothing refused goes unreported
        assert refused.value.rejected == [RejectedItem("feedback", fid, "validation_failed", "rating: expected 1..5")]
        assert client.metrics()["rejected"] == 1 and client.metrics()["sent"] == 1
        client.flush()  # reported once
    assert len(fake.requests) == 1


def test_an_item_json_cannot_encode_is_refused_alone_not_its_batch():
    fake = FakeFeedback()
    with client_for(fake) as client:
        meta = {"scores": [1.0]}
        ids = [
            client.generations.log(model="m", output=f"o{i}", latency_ms=1, metadata=meta if i == 3 else None)
            for i in range(10)
        ]
        meta["scores"][0] = float("nan")  # changed by the caller after log() checked it
        with pytest.raises(LlmopsRejectedError) as refused:
            client.flush()
        assert [(r.kind, r.id, r.code) for r in refused.value.rejected] == [("generations", ids[3], "encoding_failed")]
        m = client.metrics()
        assert (m["sent"], m["rejected"], m["pending"]) == (9, 1, 0)
    assert sorted(fake.stored) == sorted(ids[:3] + ids[4:])


def test_drop_oldest_keeps_the_newest_and_counts_the_dropped():
    fake = FakeFeedback()
    fake.gate.clear()  # the service does not answer yet
    client = client_for(fake, BufferOptions(max_items=20, max_batch=10, flush_interval=600))
    ids = [client.feedback.log(f"r{i}", thumbs="up") for i in range(60)]
    fake.gate.set()
    client.close()
    # At most one batch in flight (10) and the buffer (20) survive; the buffer keeps the newest.
    assert client.metrics()["dropped"] >= 30
    assert client.metrics()["sent"] + client.metrics()["dropped"] == 60
    assert set(ids[-20:]) <= set(fake.stored)


def test_block_waits_for_room_and_loses_nothing():
    fake = FakeFeedback()
    fake.gate.clear()
    client = client_for(fake, BufferOptions(max_items=20, max_batch=10, flush_interval=600, overflow="block"))
    done = threading.Event()

    def producer():
        for i in range(100):
            client.feedback.log(f"r{i}", thumbs="up", feedback_id=f"fb-{i}")
        done.set()

    threading.Thread(target=producer).start()
    assert not done.wait(0.3)  # blocked: the buffer is full and nothing is acknowledged
    fake.gate.set()
    assert done.wait(10)
    client.close()
    assert client.metrics()["dropped"] == 0 and sorted(fake.stored) == sorted(f"fb-{i}" for i in range(100))


PROMPT = {"name": "summarizer", "hash": "a" * 64}


def gen(**overrides):
    return lambda c: c.generations.log(**{"model": "gpt-4o-mini", "output": "o", "latency_ms": 1, **overrides})


def fb(request_id="r1", **overrides):
    return lambda c: c.feedback.log(request_id, **{"rating": 3, **overrides})


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda c: c.feedback.log("r1"), "rating"),
        (lambda c: c.feedback.log("r1", scores={}), "rating"),
        (fb(rating=True), "rating"),
        (fb(rating=4.5), "rating"),
        (fb(rating=0), "rating"),  # the default scale is 1..5
        (fb(rating=6), "rating"),
        (fb(rating="5"), "rating"),
        (fb(rating=None, thumbs="sideways"), "thumbs"),
        (fb(rating=None, thumbs=True), "thumbs"),
        (fb(rating=None, thumbs=["up"]), "thumbs"),
        (fb(request_id=""), "request_id"),
        (fb(request_id=None), "request_id"),
        (fb(request_id="r" * 257), "request_id"),
        (fb(request_id="line\nbreak"), "request_id"),
        (fb(request_id="\ud800"), "request_id"),
        (fb(feedback_id=""), "feedback_id"),
        (fb(feedback_id="tab\t"), "feedback_id"),
        (fb(source="bot"), "source"),
        (fb(comment=""), "comment"),
        (fb(comment="x" * 32_769), "comment"),
        (fb(comment="lone \udc00 surrogate"), "comment"),
        (fb(correction=""), "correction"),
        (fb(scores={"helpfulness": float("nan")}), "scores.helpfulness"),
        (fb(scores={"helpfulness": 2e6}), "scores.helpfulness"),
        (fb(scores={"has space": 1}), "scores"),
        (fb(scores={f"s{i}": 1 for i in range(21)}), "scores"),
        (fb(scores=[1]), "scores"),
        (fb(experiment="Summarizer Prompt"), "experiment"),
        (fb(arm=""), "arm"),
        (fb(user_id=""), "user_id"),
        (fb(user_id="u" * 513), "user_id"),
        (fb(latency_ms=float("inf")), "latency_ms"),
        (fb(timestamp="yesterday"), "timestamp"),
        (gen(model=""), "model"),
        (gen(model="gpt 4"), "model"),
        (gen(output=None), "output"),
        (gen(output="\udfff"), "output"),
        (gen(latency_ms=-1), "latency_ms"),
        (gen(latency_ms=float("nan")), "latency_ms"),
        (gen(latency_ms=86_400_001), "latency_ms"),
        (gen(latency_ms=True), "latency_ms"),
        (gen(request_id=""), "request_id"),
        (gen(request_id="\x7f"), "request_id"),
        (gen(experiment="-starts-with-dash"), "experiment"),
        (gen(arm="A B"), "arm"),
        (gen(user_id="\x00"), "user_id"),
        (gen(prompt={"name": "summarizer"}), "prompt"),
        (gen(prompt={**PROMPT, "hash": "abc"}), "prompt.hash"),
        (gen(prompt={**PROMPT, "name": "Summarizer"}), "prompt.name"),
        (gen(input=5), "input"),
        (gen(input=[{"role": "robot", "content": "hi"}]), "input[0]"),
        (gen(input=[{"role": "user", "content": "\ud800"}]), "input[0].content"),
        (gen(usage={"promptTokens": 1}), "usage"),
        (gen(usage={"promptTokens": -1, "completionTokens": 1}), "usage.promptTokens"),
        (gen(cost_usd=-0.01), "cost_usd"),
        (gen(cost_usd=10_001), "cost_usd"),
        (gen(metadata={"score": float("nan")}), "metadata"),
        (gen(metadata={"when": object()}), "metadata"),
        (gen(metadata={"text": "\ud800"}), "metadata"),
        (gen(metadata=["not", "a", "mapping"]), "metadata"),
        (gen(timestamp="2026-12-06 10:00:00"), "timestamp"),
    ],
)
def test_arguments_are_checked_before_buffering(call, field):
    fake = FakeFeedback()
    with client_for(fake) as client:
        with pytest.raises(LlmopsValidationError) as err:
            call(client)
        assert err.value.field == field and client.metrics()["pending"] == 0
        # The platform's code for a refused field, and its details shape.
        assert (err.value.code, err.value.status) == ("validation_failed", None)
        assert err.value.details == {"issues": [{"path": field, "message": str(err.value).split(": ", 1)[1]}]}
        assert isinstance(err.value, LlmopsError)
    assert fake.requests == []


def test_what_the_contract_accepts_passes_the_checks():
    fake = FakeFeedback()
    with client_for(fake) as client:
        rid = client.generations.log(
            model="anthropic.claude-3-sonnet-20240229-v1:0", output="😀 ünïcode", latency_ms=86_400_000,
            request_id="req 1 😀", input=[{"role": "system", "content": ""}, {"role": "user", "content": "hi"}],
            experiment="summarizer.v2", arm="B:1", user_id="usér-😀", prompt=PROMPT,
            usage={"promptTokens": 0, "completionTokens": 10_000_000}, cost_usd=0, metadata={"k": [1, None, "ü"]},
            timestamp="2026-12-06T10:00:00+01:00",
        )
        client.feedback.log(
            rid, rating=1, comment="ok", correction="better", scores={"helpfulness": -1e6, "a.b:c": 0.5}, latency_ms=0,
            timestamp="2026-12-06T10:00:00Z",
        )
        client.feedback.log(rid, scores={"judge_score": 1.0}, source="judge")
        client.flush()
        assert client.metrics()["sent"] == 3
    assert fake.stored[rid]["input"][0] == {"role": "system", "content": ""}


def test_the_rating_scale_is_the_clients_option():
    fake = FakeFeedback()
    with client_for(fake, rating_scale=(0, 10)) as client:
        client.feedback.log("r1", rating=0)
        client.feedback.log("r2", rating=10)
        with pytest.raises(LlmopsValidationError, match=r"rating: must be an integer in 0\.\.10"):
            client.feedback.log("r3", rating=11)
    with client_for(fake, rating_scale=None) as client:
        client.feedback.log("r4", rating=-1_000_000)  # only the contract's bounds
        with pytest.raises(LlmopsValidationError):
            client.feedback.log("r5", rating=1_000_001)


@pytest.mark.parametrize(
    "options, field",
    [
        ({"rating_scale": (5, 1)}, "rating_scale"),
        ({"rating_scale": (1, 2, 3)}, "rating_scale"),
        ({"rating_scale": (1.5, 5)}, "rating_scale"),
        ({"api_key": "llmk_a_b\n"}, "api_key"),
        ({"api_key": "llmk_a b"}, "api_key"),
        ({"urls": {"feedbackk": "http://x"}}, "urls"),
    ],
)
def test_client_options_are_checked(options, field):
    with pytest.raises(LlmopsValidationError) as err:
        Client(**options)
    assert err.value.field == field


def test_one_service_down_does_not_hold_back_the_other_queues():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/generations/batch":
            raise httpx.ConnectError("connection refused", request=request)
        items = json.loads(request.content)["items"]
        return httpx.Response(202, json={"accepted": [i["feedbackId"] for i in items], "rejected": []})

    client = client_for(handler, BufferOptions(max_items=1000, max_batch=100, flush_interval=0.02), attempts=2)
    client.generations.log(model="m", output="o", latency_ms=1)
    for i in range(50):
        client.feedback.log(f"r{i}", thumbs="up")
    deadline = time.monotonic() + 5
    while client.metrics()["sent"] < 50:  # sent by the background thread, generations failing first
        assert time.monotonic() < deadline, client.metrics()
        time.sleep(0.01)
    with pytest.raises(LlmopsUnavailableError):
        client.close()
    assert client.metrics()["pending"] == 1


class TooLarge:
    """Answers 413 to a batch of more than ``limit`` items, and to an item whose output is ``huge``."""

    def __init__(self, limit):
        self.limit = limit
        self.sizes = []
        self.stored = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["items"]
        self.sizes.append(len(items))
        if len(items) > self.limit or any(i["output"] == "huge" for i in items):
            return httpx.Response(413, json={"error": {"code": "payload_too_large", "message": "body too large"}})
        self.stored.update(i["requestId"] for i in items)
        return httpx.Response(202, json={"accepted": [i["requestId"] for i in items], "rejected": []})


def test_a_413_halves_the_batch_down_to_one_item_and_flush_reports_the_item_refused_alone():
    fake = TooLarge(limit=100)
    with client_for(fake) as client:
        ids = [client.generations.log(model="m", output="huge" if i == 7 else "o", latency_ms=1) for i in range(300)]
        with pytest.raises(LlmopsRejectedError) as refused:
            client.flush()
        assert refused.value.rejected == [RejectedItem("generations", ids[7], "payload_too_large", "body too large")]
        assert client.metrics()["sent"] == 299 and client.metrics()["pending"] == 0
    assert fake.stored == set(ids) - {ids[7]}
    assert fake.sizes[:2] == [300, 150] and max(fake.sizes[2:]) <= 75


@pytest.mark.parametrize("status", [401, 403, 500])
def test_a_batch_refused_as_a_whole_is_reported_by_flush(status):
    fake = FakeFeedback(script=[status])
    with client_for(fake) as client:
        fids = [client.feedback.log(f"r{i}", thumbs="up") for i in range(3)]
        with pytest.raises(LlmopsRejectedError) as refused:
            client.flush()
        assert [r.id for r in refused.value.rejected] == fids
        assert {r.code for r in refused.value.rejected} == {"broker_unavailable"}
        assert refused.value.code == "items_rejected" and client.metrics()["rejected"] == 3
        client.feedback.log("r9", thumbs="down")
        client.flush()  # the next batch goes through; the refused ones are not resent
    assert len(fake.stored) == 1


def test_the_exposures_body_equals_the_json_of_encode_exposure_on_random_items():
    import random

    from llmops_client.ingestion import encode_exposure, exposures_json

    rng = random.Random(20261206)
    # Code points from every class JSON treats differently: controls, quotes and backslashes, ASCII,
    # Latin-1, line separators, BMP and astral characters (lone surrogates are refused before queueing).
    alphabet = [0, 0x1F, 0x22, 0x5C, 0x41, 0x7F, 0xE9, 0x2028, 0x4E2D, 0x1F600]

    def text(most: int) -> str:
        return "".join(chr(rng.choice(alphabet) + rng.randrange(3)) for _ in range(1 + rng.randrange(most)))

    def attributes():
        if rng.random() < 0.5:
            return None
        values = lambda: rng.choice([text(8), rng.uniform(-5e5, 5e5), rng.random() < 0.5, rng.randrange(100)])
        return {text(6): values() for _ in range(rng.randrange(4))}

    batch = [(text(8), text(12), text(6), rng.randrange(1, 5), rng.uniform(0, 2e9), attributes()) for _ in range(500)]
    # Many items share a millisecond, where the formatted time is reused.
    batch += [(e[0], e[1], e[2], e[3], 1796594400.25 + i * 1e-4, e[5]) for i, e in enumerate(batch[:50])]
    assert json.loads(exposures_json(batch)) == {"items": [encode_exposure(e) for e in batch]}


def test_the_exposures_body_writes_each_time_with_its_own_millisecond_at_the_boundaries():
    import math
    import random

    from llmops_client.ingestion import encode_exposure, exposures_json

    rng = random.Random(20261207)
    times = []
    for ms in range(0, 4000, 7):
        edge = 1796594400 + ms / 1000
        times += [math.nextafter(edge, -math.inf), edge, math.nextafter(edge, math.inf), edge + 1e-7, edge - 1e-7]
    times += [rng.uniform(0, 3) for _ in range(200)]
    for order in (sorted(times), sorted(times, reverse=True), rng.sample(times, len(times))):
        batch = [("exp", f"u{i}", "A", 1, t, None) for i, t in enumerate(order)]
        assert json.loads(exposures_json(batch)) == {"items": [encode_exposure(e) for e in batch]}


def test_the_exposures_body_is_the_json_of_its_items_written_directly():
    from llmops_client.ingestion import all_accepted, encode_exposure, exposures_json

    t = 1796594400.1239
    batch = [
        ("exp", "plain", "A", 1, t, None),
        ("exp", 'quote"back\\slash', "B", 1, t, None),
        ("exp", "ünï:cödé 用户 😀", "A", 2, t + 0.0005, None),
        ("exp", "tab\tnewline\n", "B", 2, t + 0.002, {"country": "DE", 'odd "name"': "ü\u2028", "n": 1.5, "b": True}),
        ("other", "u", "control", 3, t + 1.5, None),
    ]
    assert json.loads(exposures_json(batch)) == {"items": [encode_exposure(e) for e in batch]}
    assert json.loads(exposures_json([])) == {"items": []}
    assert all_accepted(3) == json.dumps({"items": [{"status": "accepted"}] * 3}, separators=(",", ":")).encode()
    with pytest.raises(ValueError):
        exposures_json([("exp", "u", "A", 1, t, {"score": float("nan")})])
