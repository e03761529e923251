"""The AWS operation a request turned out to be, named by the service that routed it.

The endpoint's span middleware opens a `Call` before the request reaches a service, knowing
only which service it is for. The service names the operation once it has routed the request,
with what it learned on the way (bucket and key, table names), and the middleware names its
spans from that when the call ends: one classification per request, by the code that acts on
it. A context variable rather than the ASGI scope because the services work in worker threads,
which run in a copy of the context — holding the same `Call`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    """One AWS call: `rpc.service` (`S3`, `DynamoDB`), and `rpc.method` once routed."""

    service: str
    operation: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def span_name(self) -> str:
        """`S3.GetObject`; just the service for a request no operation was found for."""
        return f"{self.service}.{self.operation}" if self.operation else self.service

    def span_attributes(self) -> dict[str, Any]:
        attributes = {"rpc.system": "aws-api", "rpc.service": self.service, **self.attributes}
        if self.operation:
            attributes["rpc.method"] = self.operation
        return attributes


CURRENT: ContextVar[Call | None] = ContextVar("ripple_aws_call", default=None)


def name_operation(service: str, operation: str,
                   attributes: Mapping[str, Any] | None = None) -> None:
    """Record the operation the current request was routed to (a no-op outside a traced
    call, such as a service driven directly in a test)."""
    call = CURRENT.get()
    if call is None:
        return
    call.service, call.operation = service, operation
    call.attributes.update(attributes or {})
