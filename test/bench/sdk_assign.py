"""Local ``client.experiments.assign`` of the Python SDK (llmops-client) against a bare
``hashlib.md5(id.encode()).digest()`` loop over the same ids, in this process.

Run by test/bench/sdk-assign-python.bench.ts, which starts the assignment service and passes
LLMOPS_ASSIGNMENT_URL, LLMOPS_API_KEY and BENCH_EXPERIMENT (plus BENCH_USERS, BENCH_ROUNDS). The
client takes its snapshot from the service's long poll, as an application does. Every local
assignment of a user in the experiment queues an exposure, which the client's sending thread sends
to ``POST /v1/exposures`` in batches of 1,000 (the buffer holds a whole round: nothing is dropped;
the service checks each one and the run fails if it refuses one).

Each round takes ids never assigned before: the md5 loop over them; then the assign loop over them
followed by ``flush()`` (fresh users: each queues its exposure, the goal's measure); then the
assign loop over the same ids again followed by ``flush()`` (returning users: the client remembers
their exposure and queues none). Rates are in CPU time of this process (``time.process_time``:
every thread, so the sending thread's work for the round's exposures counts against ours; the
flush's wait for the service costs no CPU), and the fresh assign loop alone also in CPU time of the
calling thread. Every request goes through the client's ``httpx.Client``, whose request hook
counts them by route.

Prints one line a round, then ``RESULT {json}`` with the medians for the wrapper.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import time
from collections import Counter

import httpx

from llmops_client import Client
from llmops_client.ingestion import BufferOptions

URL = os.environ["LLMOPS_ASSIGNMENT_URL"]
KEY = os.environ["LLMOPS_API_KEY"]
EXPERIMENT = os.environ["BENCH_EXPERIMENT"]
USERS = int(os.environ.get("BENCH_USERS") or 50_000)
ROUNDS = int(os.environ.get("BENCH_ROUNDS") or 5)
BATCH = 1_000
SNAPSHOTS = "GET /v1/experiments/snapshots"
EXPOSURES = "POST /v1/exposures"


def main() -> None:
    requests: Counter[str] = Counter()

    def count(request: httpx.Request) -> None:
        requests[f"{request.method} {request.url.path}"] += 1

    client = Client(
        api_key=KEY,
        urls={"assignment": URL},
        buffer=BufferOptions(max_items=USERS + BATCH, max_batch=BATCH),
        http=httpx.Client(timeout=10.0, event_hooks={"request": [count]}),
    )
    try:
        run(client, requests)
    finally:
        client.close()


def run(client: Client, requests: Counter[str]) -> None:
    client.experiments.snapshots.start()
    deadline = time.monotonic() + 30
    while not client.experiments.snapshots.ready:
        if time.monotonic() > deadline:
            raise SystemExit("no snapshot from the assignment service")
        time.sleep(0.05)

    md5 = hashlib.md5
    assign = client.experiments.assign

    def baseline(ids: list[str]) -> float:
        t = time.process_time()
        for i in ids:
            md5(i.encode()).digest()
        return USERS / (time.process_time() - t)

    def ours(ids: list[str]) -> tuple[float, float]:
        t = time.process_time()
        thread = time.thread_time()
        for i in ids:
            if assign(EXPERIMENT, i).source != "local":
                raise SystemExit(f"user {i} was assigned remotely")
        loop = time.thread_time() - thread
        client.flush()
        return USERS / (time.process_time() - t), USERS / loop

    def users(r: int) -> list[str]:
        return [f"python-user-{r}-{i}" for i in range(USERS)]

    warm = users(-1)
    baseline(warm)
    ours(warm)  # warm-up, not counted
    ours(warm)
    sent_before, requests_before = client.metrics()["sent"], Counter(requests)
    ratios, thread_ratios, returning_ratios = [], [], []
    returning_exposures = 0
    for r in range(ROUNDS):
        ids = users(r)
        b = baseline(ids)
        process_rate, thread_rate = ours(ids)
        sent = client.metrics()["sent"]
        returning_rate, _ = ours(ids)
        returning_exposures += client.metrics()["sent"] - sent
        ratios.append(process_rate / b)
        thread_ratios.append(thread_rate / b)
        returning_ratios.append(returning_rate / b)
        print(
            f"round {r + 1} of {ROUNDS}: md5 {b / 1e6:.2f} M/s; fresh users: assign {process_rate / 1e6:.3f} M/s "
            f"({process_rate / b:.2f}x; the calling thread alone {thread_rate / 1e6:.3f} M/s, {thread_rate / b:.2f}x); "
            f"returning users: {returning_rate / 1e6:.3f} M/s ({returning_rate / b:.2f}x)",
            flush=True,
        )
    made = requests - requests_before
    metrics = client.metrics()
    print(f"requests by route during the rounds: {dict(made)}; client metrics {metrics}", flush=True)
    if metrics["rejected"] or metrics["dropped"]:
        raise SystemExit(f"exposures rejected or dropped: {metrics}")
    if returning_exposures or metrics["sent"] - sent_before != USERS * ROUNDS:
        raise SystemExit(f"expected one exposure per fresh user, none for returning ones: {metrics}")
    assignments = 2 * USERS * ROUNDS
    result = {
        "users": USERS,
        "rounds": ROUNDS,
        "ratio": statistics.median(ratios),
        "threadRatio": statistics.median(thread_ratios),
        "returningRatio": statistics.median(returning_ratios),
        "otherRequestsPerAssignment": sum(n for route, n in made.items() if route not in (SNAPSHOTS, EXPOSURES))
        / assignments,
        "exposureBatchesPer1000": 1000 * made[EXPOSURES] / (USERS * ROUNDS),
        "exposuresSent": metrics["sent"] - sent_before,
        "python": sys.version.split()[0],
    }
    print(f"RESULT {json.dumps(result)}", flush=True)


if __name__ == "__main__":
    main()
