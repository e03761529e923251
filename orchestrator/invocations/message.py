"""The message that carries one invocation from its source to a worker, and the reply.

The event and the response are carried as bytes, as they arrived: the request's payload is
UTF-8 JSON text inside the task message (JSON has no bytes), and the reply goes back as its
small JSON header, a newline and the response's bytes, never decoded or re-encoded.
"""

from __future__ import annotations

import time
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.functions.config import FunctionConfig


class InvocationType(StrEnum):
    SYNC = "RequestResponse"
    ASYNC = "Event"
    DRY_RUN = "DryRun"


class InvocationRequest(BaseModel):
    """One event for one function; retried attempts carry the same request id."""

    model_config = ConfigDict(ser_json_bytes="utf8", val_json_bytes="utf8")

    request_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    function: FunctionConfig
    payload: bytes = b"{}"  # UTF-8 JSON
    invocation_type: InvocationType = InvocationType.ASYNC
    trigger: str = "invoke"  # invoke | s3 | dynamodb | http | replay
    attempt: int = 1
    throttles: int = 0  # times this event was throttled; throttles are not attempts
    first_enqueued: float = Field(default_factory=time.time)
    enqueued: float = Field(default_factory=time.time)
    trace_header: str = ""
    links: list[str] = Field(default_factory=list)  # X-Ray headers of a batch's records
    client_context: str = ""
    lease_held: bool = False  # the sync caller already took the concurrency slot
    tail_log: bool = False

    @property
    def is_sync(self) -> bool:
        return self.invocation_type is InvocationType.SYNC

    @property
    def attempt_id(self) -> str:
        """This attempt's id: its Celery task id and its concurrency lease."""
        return f"{self.request_id}:{self.attempt}"


class InvocationReply(BaseModel):
    """What a worker hands back to a synchronous caller."""

    request_id: str
    payload: bytes = b""
    function_error: str | None = None  # "Unhandled" when the handler or runtime failed
    error_type: str | None = None
    log_tail: str = ""
    # ripple itself failed before the handler could run: the caller gets a 500 ServiceException
    fault: str | None = None

    def to_wire(self) -> bytes:
        """The reply as it travels: its JSON header, a newline, the payload's own bytes."""
        return self.model_dump_json(exclude={"payload"}).encode() + b"\n" + self.payload

    @classmethod
    def from_wire(cls, wire: bytes) -> InvocationReply:
        header, _, payload = wire.partition(b"\n")  # JSON escapes newlines: the first is ours
        return cls.model_validate_json(header).model_copy(update={"payload": payload})
