"""What one invocation produced, in the terms Lambda reports it, and Lambda's error shape."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass
class Outcome:
    """What one invocation produced, in the terms Lambda reports it."""

    request_id: str
    payload: bytes
    error_type: str | None = None  # None on success
    duration_ms: float = 0.0  # from handing the event over to the answer
    ended_ns: int = 0  # epoch ns the answer came (0 when no handler ran)
    init_ms: float | None = None  # set on a cold start
    max_memory_mb: int = 0
    output: str = ""  # what the runtime and handler wrote during the invocation
    init_output: str = ""  # what the module printed while it was imported (cold starts)

    @property
    def ok(self) -> bool:
        return self.error_type is None


def lambda_error(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def error_type_of(body: bytes) -> str:
    try:
        return str(json.loads(body).get("errorType") or "Unhandled")
    except (ValueError, AttributeError):
        return "Unhandled"
