"""The span model every tracing module shares: what the OTLP receiver stores and the graph
builder reads. Plain data, close to OTLP's own (ids as lowercase hex, times in ns)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


def plain(attributes: Any) -> dict[str, Any]:
    """SDK attributes as the receiver decodes them (sequences as lists)."""
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in (attributes or {}).items()}


class SpanKind(IntEnum):
    """OTLP's span kinds (values as in the protobuf)."""

    UNSPECIFIED = 0
    INTERNAL = 1
    SERVER = 2
    CLIENT = 3
    PRODUCER = 4
    CONSUMER = 5


class StatusCode(IntEnum):
    UNSET = 0
    OK = 1
    ERROR = 2


@dataclass(frozen=True)
class SpanLink:
    trace_id: str
    span_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)  # not frozen: a frozen dataclass takes 8x longer to build
class Span:
    """One span; treat it as read-only (stores and graphs share them)."""

    trace_id: str  # 32 hex; the first 8 are epoch seconds for X-Ray-compatible ids
    span_id: str  # 16 hex
    parent_span_id: str | None
    name: str
    kind: SpanKind
    start_ns: int
    end_ns: int
    status: StatusCode = StatusCode.UNSET
    status_message: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)  # e.g. service.name
    events: tuple[SpanEvent, ...] = ()
    links: tuple[SpanLink, ...] = ()

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6
