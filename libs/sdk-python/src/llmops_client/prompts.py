"""``client.prompts``: register (the version id computed client-side too) and get with a cache."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import quote

from ._http import Transport, body_of
from .errors import LlmopsError, LlmopsUnavailableError, LlmopsValidationError
from .hashing import prompt_hash
from .validation import MODEL_NAME, PROMPT_NAME, REF_MAX_LENGTH, opaque_id, patterned


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    hash: str
    short_hash: str
    version: int
    created: bool
    created_at: str


@dataclass(frozen=True)
class PromptVersion:
    name: str
    hash: str
    short_hash: str
    version: int | None
    spec: Mapping[str, Any]
    variables: list[str] = field(default_factory=list)
    served: str = "fresh"  # 'fresh' | 'cache' | 'stale' | 'fallback'


def build_spec(
    *,
    template: str | None = None,
    messages: list[Mapping[str, str]] | None = None,
    model: str,
    params: Mapping[str, Any] | None = None,
    system: str | None = None,
    few_shot: list[Mapping[str, str]] | None = None,
    response_format: Mapping[str, Any] | None = None,
    tools: list[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The registry's spec, with only the fields given: what is sent is exactly what is hashed."""
    if (template is None) == (messages is None):
        raise LlmopsValidationError("template", "give either template or messages, not both")
    patterned("model", model, MODEL_NAME)
    fields = {
        "template": template,
        "messages": messages,
        "model": model,
        "params": params,
        "system": system,
        "fewShot": few_shot,
        "responseFormat": response_format,
        "tools": tools,
    }
    return {k: v for k, v in fields.items() if v is not None}


class Prompts:
    def __init__(self, transport: Transport, url: str, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._transport = transport
        self._url = url
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, PromptVersion]] = {}
        self._lock = threading.Lock()

    def _path(self, name: str) -> str:
        patterned("name", name, PROMPT_NAME)
        return f"{self._url}/v1/prompts/{quote(name, safe='')}"

    def register(
        self, name: str, *, metadata: Mapping[str, Any] | None = None, **spec_fields: Any
    ) -> RegisteredVersion:
        """Registers a version (idempotent); its hash is computed here first and must equal the registry's."""
        spec = build_spec(**spec_fields)
        local = prompt_hash(spec)
        body: dict[str, Any] = {"spec": spec}
        if metadata:
            body["metadata"] = dict(metadata)
        r = body_of(self._transport.request("POST", f"{self._path(name)}/versions", json=body))
        if r["hash"] != local.hash:
            raise LlmopsError(
                f"the registry's hash {r['hash']} differs from the client-side hash {local.hash}",
                code="hash_mismatch",
                details={"canonical": local.canonical},
            )
        return RegisteredVersion(r["name"], r["hash"], r["shortHash"], r["version"], r["created"], r["createdAt"])

    def get(self, name: str, ref: str = "latest", *, fallback: Mapping[str, Any] | None = None) -> PromptVersion:
        """The version ``ref`` (alias, number, hash or prefix) names. Served from the cache within the
        TTL; when the registry is unreachable, the last known version (``served='stale'``), else
        ``fallback`` (a spec, ``served='fallback'``), else LlmopsUnavailableError."""
        ref = opaque_id("ref", str(ref) if isinstance(ref, int) and not isinstance(ref, bool) else ref, REF_MAX_LENGTH)
        path = f"{self._path(name)}/versions/{quote(ref, safe='')}"
        key = (name, ref)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached and now - cached[0] < self._ttl:
            return _served(cached[1], "cache")
        try:
            r = body_of(self._transport.request("GET", path))
        except LlmopsUnavailableError:
            if cached:
                return _served(cached[1], "stale")
            if fallback is not None:
                h = prompt_hash(dict(fallback))
                return PromptVersion(name, h.hash, h.short_hash, None, dict(fallback), [], "fallback")
            raise
        version = PromptVersion(
            r["name"], r["hash"], r["shortHash"], r["version"], r["spec"], r.get("variables", []), "fresh"
        )
        with self._lock:
            self._cache[key] = (now, version)
        return version


def _served(v: PromptVersion, served: str) -> PromptVersion:
    return PromptVersion(v.name, v.hash, v.short_hash, v.version, v.spec, v.variables, served)
