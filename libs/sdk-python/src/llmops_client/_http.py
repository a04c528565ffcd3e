"""HTTP with the platform's retry rules: exponential backoff with full jitter, honouring Retry-After on 429/503."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from .errors import LlmopsHttpError, LlmopsUnavailableError

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
#: Longest Retry-After the snapshot poller waits (seconds).
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.1
    max_delay: float = 5.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 0)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay * 12)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


_MAX_SAFE_INTEGER = 2**53 - 1


def _js_int(text: str) -> int | float:
    """JSON numbers are doubles on the server: an integer beyond 2^53 - 1 is that double (as JSON.parse
    reads it), so hashing it again gives the server's canonical form instead of an rfc8785 error."""
    value = int(text)
    return value if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER else float(value)


def body_of(response: httpx.Response) -> Any:
    """The response's JSON, numbers read as JavaScript reads them."""
    return json.loads(response.content, parse_int=_js_int)


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to the backoff


def error_from(response: httpx.Response) -> LlmopsHttpError | LlmopsUnavailableError:
    try:
        body = response.json().get("error") or {}
    except (ValueError, AttributeError):
        body = {}
    code = body.get("code") or f"http_{response.status_code}"
    message = body.get("message") or response.reason_phrase or "request failed"
    if response.status_code in RETRYABLE_STATUSES:
        err = LlmopsUnavailableError(message, code=code, status=response.status_code, details=body.get("details"))
        err.retry_after = retry_after_seconds(response)
        return err
    return LlmopsHttpError(message, code=code, status=response.status_code, details=body.get("details"))


class Transport:
    """One ``httpx.Client`` (connection pool) shared by every part of the SDK."""

    def __init__(
        self,
        api_key: str | None,
        retry: RetryPolicy,
        timeout: float,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"user-agent": "llmops-client-python"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self.http = http or httpx.Client(timeout=timeout)
        self.http.headers.update(headers)
        self.retry = retry
        self.sleep = sleep
        self.retried = 0

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        """The response (2xx or 304), after retrying network errors and 429/502/503/504. The body
        is ``json`` encoded, or ``content``: JSON the caller already encoded.

        Raises LlmopsUnavailableError once the attempts are used up, LlmopsHttpError for other errors.
        """
        attempts = self.retry.max_attempts if retry else 1
        last: LlmopsUnavailableError | LlmopsHttpError | None = None
        for attempt in range(attempts):
            retry_after = None
            try:
                kwargs: dict[str, Any] = {"json": json, "params": params, "headers": headers}
                if content is not None:  # a JSON body the caller wrote itself
                    kwargs["content"] = content
                    kwargs["headers"] = {**(headers or {}), "content-type": "application/json"}
                if timeout is not None:
                    kwargs["timeout"] = timeout
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as err:
                last = LlmopsUnavailableError(f"{method} {url}: {err}", code="unavailable")
            else:
                if response.status_code < 400:
                    return response
                last = error_from(response)
                if response.status_code not in RETRYABLE_STATUSES:
                    raise last
                retry_after = retry_after_seconds(response)
            if attempt + 1 < attempts:
                self.retried += 1
                self.sleep(self.retry.delay(attempt, retry_after))
        assert last is not None
        raise last

    def close(self) -> None:
        self.http.close()
