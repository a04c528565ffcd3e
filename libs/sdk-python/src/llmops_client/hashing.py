"""What must equal @llmops/hashing bit for bit: prompt version ids and bucketing (hashVersion 1).

See libs/hashing/README.md for the definitions; the tests check every row of its fixtures.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import rfc8785

from .errors import LlmopsValidationError

SHORT_HASH_LENGTH = 12
MAX_USER_ID_LENGTH = 512
WEIGHT_SUM_TOLERANCE = 1e-9
SUPPORTED_HASH_VERSIONS = (1,)
_MAX_UINT32 = 0xFFFFFFFF
_md5 = hashlib.md5
_from_bytes = int.from_bytes
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class PromptHash:
    hash: str
    short_hash: str
    canonical: str


def prompt_hash(spec: Any) -> PromptHash:
    """SHA-256 of the RFC 8785 canonical JSON of ``spec``: the registry's version id for that spec."""
    try:
        canonical = rfc8785.dumps(spec)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as err:
        raise LlmopsValidationError("spec", f"not canonicalizable JSON: {err}") from err
    digest = hashlib.sha256(canonical).hexdigest()
    return PromptHash(digest, digest[:SHORT_HASH_LENGTH], canonical.decode("utf-8"))


def _md5_unit(text: str) -> float:
    return _from_bytes(_md5(text.encode()).digest()[:4], "big") / _MAX_UINT32


def reference_bucket(seed: str, user_id: str) -> float:
    """``int(md5(f"{seed}:{user_id}")[:8], 16) / 0xFFFFFFFF``: the arm hash."""
    return _md5_unit(f"{seed}:{user_id}")


def allocation_bucket(seed: str, user_id: str) -> float:
    return _md5_unit(f"{seed}:allocation:{user_id}")


def layer_bucket(layer_name: str, user_id: str) -> float:
    return _md5_unit(f"{layer_name}:layer:{user_id}")


def user_id_problem(user_id: Any) -> str | None:
    """Why ``user_id`` cannot be bucketed, or None. Length counts UTF-16 code units, as the server does."""
    if not isinstance(user_id, str):
        return f"expected a string, got {type(user_id).__name__}"
    if not user_id:
        return "must not be empty"
    # A code point above U+FFFF is two UTF-16 units, so only ids over half the limit need counting.
    if len(user_id) > MAX_USER_ID_LENGTH or (
        len(user_id) > MAX_USER_ID_LENGTH // 2
        and len(user_id.encode("utf-16-le", "surrogatepass")) > 2 * MAX_USER_ID_LENGTH
    ):
        return f"exceeds {MAX_USER_ID_LENGTH} UTF-16 code units"
    surrogate = _SURROGATE.search(user_id)
    if surrogate:
        return f"lone surrogate at index {surrogate.start()} (not encodable as UTF-8)"
    return None


def validate_user_id(user_id: Any) -> str:
    problem = user_id_problem(user_id)
    if problem:
        raise LlmopsValidationError("user_id", problem)
    return user_id


def arm_ranges(weights: Sequence[float]) -> list[tuple[float, float]]:
    """Ranges laid out from the last arm backward from 0; the first positive arm's range is closed at 1."""
    if not weights:
        raise LlmopsValidationError("weights", "must be a non-empty list")
    total = 0.0
    for i, w in enumerate(weights):
        if isinstance(w, bool) or not isinstance(w, (int, float)) or w != w or w < 0 or w == float("inf"):
            raise LlmopsValidationError(f"weights[{i}]", f"must be a finite number >= 0, got {w!r}")
        total += w  # left to right, like the TypeScript loop (not math.fsum)
    if not total > 0 or total == float("inf"):
        raise LlmopsValidationError("weights", "must have a positive, finite sum")
    scale = 1 if abs(total - 1) <= WEIGHT_SUM_TOLERANCE else total
    ranges: list[tuple[float, float]] = [(0.0, 0.0)] * len(weights)
    cumulative = 0.0
    for i in range(len(weights) - 1, -1, -1):
        start = cumulative
        if weights[i] > 0:
            cumulative = cumulative + weights[i] / scale
        ranges[i] = (start, cumulative)
    top = next(i for i, w in enumerate(weights) if w > 0)
    ranges[top] = (ranges[top][0], 1.0)
    for i in range(top):
        ranges[i] = (1.0, 1.0)
    for i, (start, end) in enumerate(ranges):
        if weights[i] > 0 and not start < end:
            raise LlmopsValidationError(f"weights[{i}]", f"weight {weights[i]} is too small to get a non-empty range")
    return ranges


def arm_for_bucket(ranges: Sequence[tuple[float, float]], bucket: float) -> int:
    for i in range(len(ranges) - 1, -1, -1):
        if bucket < ranges[i][1]:
            return i
    return next(i for i, (start, end) in enumerate(ranges) if start < end)


@dataclass(frozen=True)
class BucketResult:
    """``arm_index`` is None when the user is outside the experiment (``reason`` layer or not-in-allocation)."""

    arm_index: int | None
    reason: str
    bucket: float | None = None




def compile_arm_picker(
    *,
    seed: str,
    hash_version: int,
    weights: Sequence[float],
    traffic_allocation: float,
    layer: Mapping[str, Any] | None = None,
    arms: Sequence[Any] | None = None,
    outside: Mapping[str, Any] | None = None,
) -> Callable[[str], Any]:
    """Validates the config once; the returned function maps an already validated user id to its
    arm (``arms[i]``, by default the index i), or to what ``outside`` gives for the reason it is
    not in the experiment (``layer``, ``not-in-allocation``; by default the reason itself).

    Order: layer (its own hash), allocation (its own hash), arm (the reference hash). The hot path of
    local assignment: one to three MD5 digests, each compared as bytes, no float arithmetic.
    """
    if hash_version not in SUPPORTED_HASH_VERSIONS:
        raise LlmopsValidationError(
            "hashVersion", f"unknown hash version {hash_version!r}; this SDK supports {list(SUPPORTED_HASH_VERSIONS)}"
        )
    if not isinstance(seed, str) or not seed:
        raise LlmopsValidationError("seed", "must be a non-empty string")
    if isinstance(traffic_allocation, bool) or not isinstance(traffic_allocation, (int, float)) or not 0 < traffic_allocation <= 1:
        raise LlmopsValidationError("trafficAllocation", f"must be in (0, 1], got {traffic_allocation!r}")
    ranges = arm_ranges(weights)
    layer_start, layer_end = (layer["range"][0], layer["range"][1]) if layer is not None else (0.0, 1.0)
    if not 0 <= layer_start < layer_end <= 1:
        raise LlmopsValidationError("layer.range", f"must satisfy 0 <= start < end <= 1, got {layer_start}, {layer_end}")
    results = list(arms) if arms is not None else list(range(len(ranges)))
    if len(results) != len(ranges):
        raise LlmopsValidationError("arms", "expected one per weight")
    outside = outside or {}
    in_other_layer = outside.get("layer", "layer")
    not_in_allocation = outside.get("not-in-allocation", "not-in-allocation")
    # Each "bucket < bound" test, bucket = the digest's first 4 bytes / 0xFFFFFFFF, is a comparison
    # of the whole digest with the bound's threshold bytes (see digest_below), and every MD5 starts
    # from a copy of one fed with its prefix.
    arm_md5 = _md5(f"{seed}:".encode())
    alloc_md5 = _md5(f"{seed}:allocation:".encode())
    layer_md5 = _md5(f"{layer['name']}:layer:".encode()) if layer is not None else None
    allocation_below = digest_below(traffic_allocation)
    layer_below_start, layer_below_end = digest_below(layer_start), digest_below(layer_end)
    full_allocation = traffic_allocation == 1
    # The arm is the first, scanning from the last arm (whose range starts at 0), whose range end the
    # bucket is below; a bucket below none is exactly 1.0. Running maxima make that scan a bisection.
    ends = [digest_below(end) for _, end in reversed(ranges)]
    ends = [max(ends[: i + 1]) for i in range(len(ends))]
    table = (*reversed(results), results[arm_for_bucket(ranges, 1.0)])
    arm_copy = arm_md5.copy

    def arm_of(u: bytes) -> Any:
        h = arm_copy()
        h.update(u)
        return table[bisect_right(ends, h.digest())]

    if layer_md5 is None and full_allocation:

        def pick_arm(user_id: str) -> Any:
            h = arm_copy()
            h.update(user_id.encode())
            return table[bisect_right(ends, h.digest())]

        return pick_arm

    def pick(user_id: str) -> Any:
        u = user_id.encode()
        if layer_md5 is not None:
            h = layer_md5.copy()
            h.update(u)
            d = h.digest()
            if d < layer_below_start or (layer_end != 1 and not d < layer_below_end):
                return in_other_layer
        if not full_allocation:
            h = alloc_md5.copy()
            h.update(u)
            if not h.digest() < allocation_below:
                return not_in_allocation
        return arm_of(u)

    return pick


#: Greater than every 16-byte digest.
_ABOVE_ALL = b"\xff" * 17


def digest_below(bound: float) -> bytes:
    """The bytes ``t`` such that, for any MD5 digest ``d``,
    ``int.from_bytes(d[:4], "big") / 0xFFFFFFFF < bound`` exactly when ``d < t``: the smallest
    4-byte value whose quotient (correctly rounded, so monotonic) is not below ``bound``, found by
    bisection; a 16-byte digest whose first 4 bytes equal it compares greater, as it should."""
    low, high = 0, _MAX_UINT32 + 1  # the answer lies in [low, high]; high means "no such value"
    while low < high:
        mid = (low + high) // 2
        if mid / _MAX_UINT32 < bound:
            low = mid + 1
        else:
            high = mid
    return _ABOVE_ALL if low > _MAX_UINT32 else low.to_bytes(4, "big")


def create_bucketer(
    *,
    seed: str,
    hash_version: int,
    weights: Sequence[float],
    traffic_allocation: float,
    layer: Mapping[str, Any] | None = None,
) -> Callable[[str], BucketResult]:
    """Like ``bucketUser`` of @llmops/hashing: validates the config once and the user id per call;
    the result carries the arm bucket when the user is in the experiment."""
    pick = compile_arm_picker(
        seed=seed, hash_version=hash_version, weights=weights, traffic_allocation=traffic_allocation, layer=layer
    )

    def bucketer(user_id: str) -> BucketResult:
        validate_user_id(user_id)
        r = pick(user_id)
        if isinstance(r, str):
            return BucketResult(None, r)
        return BucketResult(r, "hash", reference_bucket(seed, user_id))

    return bucketer


def uuid7() -> str:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; sorts by creation time."""
    value = (int(time.time() * 1000) & ((1 << 48) - 1)) << 80 | _from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant 10
    return str(uuid.UUID(int=value))
