"""Typed errors. Each carries the platform's error code (``{"error": {"code", "message", "details"}}``)."""

from __future__ import annotations

from typing import Any


class LlmopsError(Exception):
    """Base class: ``status`` (HTTP status or None), ``code`` (the platform's code), ``details``."""

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


class LlmopsValidationError(LlmopsError):
    """An argument the SDK checks before sending was refused; nothing was sent. ``code`` and
    ``details`` have the platform's shape for a refused field (``{"issues": [{"path", "message"}]}``),
    the path naming the argument."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            f"{field}: {message}", code="validation_failed", details={"issues": [{"path": field, "message": message}]}
        )
        self.field = field
