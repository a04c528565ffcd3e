"""Python client of the LLMOps platform: prompts, local assignment, buffered ingestion."""

from ._http import RetryPolicy
from .client import Client
from .errors import (
    LlmopsError,
    LlmopsHttpError,
    LlmopsRejectedError,
    LlmopsUnavailableError,
    LlmopsValidationError,
    RejectedItem,
)
from .experiments import Assignment, CompiledExperiment
from .hashing import BucketResult, create_bucketer, prompt_hash, uuid7
from .ingestion import BufferOptions
from .prompts import PromptVersion, RegisteredVersion

__version__ = "0.3.0"

__all__ = [
    "Assignment",
    "BucketResult",
    "BufferOptions",
    "Client",
    "CompiledExperiment",
    "LlmopsError",
    "LlmopsHttpError",
    "LlmopsRejectedError",
    "LlmopsUnavailableError",
    "LlmopsValidationError",
    "PromptVersion",
    "RegisteredVersion",
    "RejectedItem",
    "RetryPolicy",
    "create_bucketer",
    "prompt_hash",
    "uuid7",
]
