"""Argument checks made before anything is buffered or sent: the platform's contract rules
(libs/contracts) that a client can check alone.

An item the feedback service would refuse is refused by ``log()`` with a LlmopsValidationError
naming the argument, instead of being counted in ``rejected`` later by the background sender. Text
and numbers that JSON cannot carry (a lone surrogate has no UTF-8 encoding; NaN and infinities are
not JSON) are refused too: they would make the whole batch they travel in unsendable.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from .errors import LlmopsValidationError

#: Longest ids (characters), as in libs/contracts.
REQUEST_ID_MAX_LENGTH = 256
FEEDBACK_ID_MAX_LENGTH = 256
USER_ID_MAX_LENGTH = 512
#: A prompt version ref: hash, hash prefix, version number or alias.
REF_MAX_LENGTH = 128
COMMENT_MAX_LENGTH = 32_768
CORRECTION_MAX_LENGTH = 100_000
MAX_SCORES = 20
LATENCY_MS_MAX = 86_400_000
COST_USD_MAX = 10_000
TOKEN_COUNT_MAX = 10_000_000
SCORE_ABS_MAX = 1_000_000
RATING_ABS_MAX = 1_000_000
#: Targeting attributes (the assignment service's attributes schema): at most MAX_ATTRIBUTES, names
#: opaque ids of 1..128 characters, string values of at most 1,024 characters. The service counts
#: characters as code points (an emoji counts once), as len() does.
MAX_ATTRIBUTES = 100
ATTRIBUTE_NAME_MAX_LENGTH = 128
ATTRIBUTE_VALUE_MAX_LENGTH = 1024
THUMBS = ("up", "down")
SOURCES = ("user", "judge", "reviewer")
MESSAGE_ROLES = ("system", "user", "assistant", "tool")

EXPERIMENT_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,127}")
PROMPT_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,127}")
ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
SCORE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,255}")
PROMPT_HASH = re.compile(r"[0-9a-f]{64}")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)
# Python strings hold code points: any surrogate code point is one JSON cannot encode as UTF-8.
_NOT_IN_ID = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]").search
_SURROGATE = re.compile("[\ud800-\udfff]").search


def opaque_id(field: str, value: Any, max_length: int) -> str:
    """An id: 1..max_length characters, no control characters (U+0000-U+001F, U+007F-U+009F), no surrogates."""
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        raise LlmopsValidationError(field, f"must be a non-empty string of at most {max_length} characters")
    if _NOT_IN_ID(value):
        raise LlmopsValidationError(
            field, "must not contain control characters (U+0000-U+001F, U+007F-U+009F) or surrogates"
        )
    return value


def patterned(field: str, value: Any, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise LlmopsValidationError(field, f"must match {pattern.pattern}, got {value!r}")
    return value


def text(field: str, value: Any, *, max_length: int | None = None, non_empty: bool = False) -> str:
    """Free text: any string without surrogates (``non_empty``: at least one character)."""
    if not isinstance(value, str):
        raise LlmopsValidationError(field, f"must be a string, got {type(value).__name__}")
    if non_empty and not value:
        raise LlmopsValidationError(field, "must not be empty")
    if max_length is not None and len(value) > max_length:
        raise LlmopsValidationError(field, f"must be at most {max_length} characters")
    if not value.isascii() and _SURROGATE(value):
        raise LlmopsValidationError(field, "must not contain surrogates (they have no UTF-8 encoding)")
    return value


def number(field: str, value: Any, low: float, high: float) -> float:
    """A finite int or float in [low, high] (bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise LlmopsValidationError(field, f"must be a number in {low}..{high}, got {value!r}")
    return value


def integer(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise LlmopsValidationError(field, f"must be an integer in {low}..{high}, got {value!r}")
    return value


def rating_scale(value: Any) -> tuple[int, int] | None:
    """``(min, max)``: integers in ±RATING_ABS_MAX with min < max, or None."""
    if value is None:
        return None
    try:
        low, high = value
    except (TypeError, ValueError):
        raise LlmopsValidationError("rating_scale", f"must be (min, max) or None, got {value!r}") from None
    integer("rating_scale", low, -RATING_ABS_MAX, RATING_ABS_MAX)
    integer("rating_scale", high, low + 1, RATING_ABS_MAX)
    return low, high


def scores(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise LlmopsValidationError("scores", "must be a mapping of score name to number")
    if len(value) > MAX_SCORES:
        raise LlmopsValidationError("scores", f"must hold at most {MAX_SCORES} scores")
    for name, score in value.items():
        patterned("scores", name, SCORE_NAME)
        number(f"scores.{name}", score, -SCORE_ABS_MAX, SCORE_ABS_MAX)
    return dict(value)


def prompt_ref(value: Any) -> dict[str, str]:
    """``{name, hash}`` of a version, as an assignment's ``prompt`` holds it."""
    if not isinstance(value, Mapping) or set(value) != {"name", "hash"}:
        raise LlmopsValidationError("prompt", "must be a mapping with exactly name and hash (an assignment's prompt)")
    patterned("prompt.name", value["name"], PROMPT_NAME)
    patterned("prompt.hash", value["hash"], PROMPT_HASH)
    return {"name": value["name"], "hash": value["hash"]}


def usage(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping) or set(value) != {"promptTokens", "completionTokens"}:
        raise LlmopsValidationError("usage", "must be a mapping with exactly promptTokens and completionTokens")
    for k in ("promptTokens", "completionTokens"):
        integer(f"usage.{k}", value[k], 0, TOKEN_COUNT_MAX)
    return dict(value)


def generation_input(value: Any) -> str | list[dict[str, str]]:
    """A string, or a list of ``{role, content}`` messages."""
    if isinstance(value, str):
        return text("input", value)
    if not isinstance(value, (list, tuple)):
        raise LlmopsValidationError("input", "must be a string or a list of {role, content} messages")
    messages = []
    for i, m in enumerate(value):
        if not isinstance(m, Mapping) or set(m) != {"role", "content"} or m["role"] not in MESSAGE_ROLES:
            raise LlmopsValidationError(
                f"input[{i}]", f"must be {{role, content}} with role one of {', '.join(MESSAGE_ROLES)}"
            )
        messages.append({"role": m["role"], "content": text(f"input[{i}].content", m["content"])})
    return messages


def json_object(field: str, value: Any) -> dict[str, Any]:
    """A mapping that JSON carries: finite numbers, text without surrogates, nothing JSON cannot encode."""
    if not isinstance(value, Mapping):
        raise LlmopsValidationError(field, "must be a mapping")
    value = dict(value)
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as err:  # UnicodeEncodeError is a ValueError
        raise LlmopsValidationError(field, f"must be JSON (finite numbers, no surrogates): {err}") from None
    return value


def timestamp(value: Any) -> str:
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise LlmopsValidationError(
            "timestamp", f"must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00.000Z, got {value!r}"
        )
    return value


def attributes(value: Any) -> None:
    """Targeting attributes, checked by the assignment service's rules (a value it refuses would
    make ``POST /v1/assign`` answer 400, and ``POST /v1/exposures`` refuse the batch it travels in)."""
    if not isinstance(value, Mapping):
        raise LlmopsValidationError("attributes", "expected a mapping of name to str, int, float or bool")
    if len(value) > MAX_ATTRIBUTES:
        raise LlmopsValidationError("attributes", f"expected at most {MAX_ATTRIBUTES} attributes")
    for name, v in value.items():
        field = f"attributes.{name}"
        if not isinstance(name, str) or not name or _NOT_IN_ID(name):
            raise LlmopsValidationError(
                field,
                "names must be non-empty strings without control characters (U+0000-U+001F, U+007F-U+009F) "
                "or surrogates",
            )
        if len(name) > ATTRIBUTE_NAME_MAX_LENGTH:
            raise LlmopsValidationError(field, f"names must be at most {ATTRIBUTE_NAME_MAX_LENGTH} characters")
        if isinstance(v, str):
            if not v.isascii() and _SURROGATE(v):
                raise LlmopsValidationError(field, "must not contain surrogates (they have no UTF-8 encoding)")
            if len(v) > ATTRIBUTE_VALUE_MAX_LENGTH:
                raise LlmopsValidationError(field, f"must be at most {ATTRIBUTE_VALUE_MAX_LENGTH} characters")
        elif not isinstance(v, (int, float, bool)):
            raise LlmopsValidationError(field, "expected a str, int, float or bool value")
        elif (isinstance(v, float) and not math.isfinite(v)) or (isinstance(v, int) and v.bit_length() > 1023):
            raise LlmopsValidationError(field, "expected a finite number")  # JSON has no NaN or infinity
