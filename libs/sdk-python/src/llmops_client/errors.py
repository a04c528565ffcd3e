"""Typed errors. Each carries the platform's error code (``{"error": {"code", "message", "details"}}``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class LlmopsError(Exception):
    """Base class: ``status`` (HTTP status or None), ``code`` (the platform's code), ``details``;
    ``retry_after``: the seconds of a 429/503's Retry-After, else None."""

    retry_after: float | None = None

    def __init__(
        self, message: str, *, code: str, status: int | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class LlmopsHttpError(LlmopsError):
    """The platform answered with an error status that retrying does not fix (4xx, or a 5xx after retries)."""


class LlmopsUnavailableError(LlmopsError):
    """The service could not be reached, or kept answering 429/503, within the retry budget."""


@dataclass(frozen=True)
class RejectedItem:
    """An item the platform refused for good: ``kind`` (generations, feedback, exposures), ``id``
    (requestId, feedbackId, or ``experiment:userId`` of an exposure), the platform's ``code`` and
    ``message``."""

    kind: str
    id: str
    code: str
    message: str


class LlmopsRejectedError(LlmopsError):
    """``flush()``/``close()``: the platform refused these items for good (``rejected``, at most the
    last 10,000; the ``rejected`` metric counts them all); every other item was acknowledged."""

    def __init__(self, rejected: list[RejectedItem]) -> None:
        first = rejected[0]
        super().__init__(
            f"{len(rejected)} items refused, e.g. {first.kind} {first.id}: {first.code} {first.message}",
            code="items_rejected",
            details={"rejected": [asdict(r) for r in rejected]},
        )
        self.rejected = rejected


class LlmopsValidationError(LlmopsError):
    """An argument the SDK checks before sending was refused; nothing was sent. ``code`` and
    ``details`` have the platform's shape for a refused field (``{"issues": [{"path", "message"}]}``),
    the path naming the argument."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            f"{field}: {message}", code="validation_failed", details={"issues": [{"path": field, "message": message}]}
        )
        self.field = field
