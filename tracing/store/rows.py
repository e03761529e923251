"""How a span is laid out in the store's SQLite rows: the schema, the encoding of what is not
a column, and the decoding of rows back into `Span`s.

The columns queries select on are real columns (ids as blobs, times in ns); attribute values,
events and links are one JSON column, and what many spans repeat (a resource, a set of
attribute keys) is stored once in `shared`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from tracing.errors import TracingError
from tracing.spans import Span, SpanEvent, SpanKind, SpanLink, StatusCode

MAX_NS = 2**63 - 1024  # the largest float below SQLite's INTEGER limit

SCHEMA = """
CREATE TABLE IF NOT EXISTS shared (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS spans (
    trace_id BLOB NOT NULL,
    span_id BLOB NOT NULL,
    parent BLOB,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    status INTEGER NOT NULL,
    resource INTEGER NOT NULL,
    attribute_keys INTEGER NOT NULL,
    rest TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS spans_trace ON spans (trace_id, span_id);
CREATE INDEX IF NOT EXISTS spans_start ON spans (start_ns);
"""
COLUMNS = ("trace_id, span_id, parent, name, kind, start_ns, end_ns, status, resource, "
           "attribute_keys, rest")
Row = tuple[bytes, bytes, bytes | None, str, int, int, int, int, int, int, str]
KINDS = tuple(SpanKind)  # by value: a tuple index is cheaper than an enum lookup per row
STATUSES = tuple(StatusCode)


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def encode_rest(span: Span) -> str:
    """Everything not in a column: [attribute values, status message, events, links], with
    empty parts at the end left out (the attribute keys are stored once per key set)."""
    rest: list[Any] = [list(span.attributes.values()), span.status_message,
                       [[event.name, event.time_ns, event.attributes] for event in span.events],
                       [[link.trace_id, link.span_id, link.attributes] for link in span.links]]
    while len(rest) > 1 and not rest[-1]:
        rest.pop()
    return dumps(rest)


def ns(seconds: float) -> int:
    """Epoch seconds as SQLite's 64-bit nanoseconds (clamped, so `end=inf` works)."""
    return int(max(0.0, min(seconds * 1e9, MAX_NS)))


def trace_key(trace_id: str) -> bytes:
    try:
        key = bytes.fromhex(trace_id)
    except ValueError:
        key = b""
    if len(key) != 16:
        raise TracingError(f"expected 32 hex digits, got {trace_id!r}", "trace_id")
    return key


def decode(rows: list[Row], shared: Callable[[int], Any]) -> list[Span]:
    """Spans from their rows; `shared(id)` reads a shared document (a resource, a key set)."""
    # One JSON document for all rows: a per-call overhead dominates small rows.
    extras = orjson.loads("[" + ",".join(row[10] for row in rows) + "]")
    documents = {key: shared(key) for key in {row[8] for row in rows} | {row[9] for row in rows}}
    empty: tuple[()] = ()
    return [Span(trace_id.hex(), span_id.hex(), parent.hex() if parent else None, name,
                 KINDS[kind], start_ns, end_ns, STATUSES[status],
                 extra[1] if len(extra) > 1 else "",
                 dict(zip(documents[keys], extra[0], strict=True)), documents[resource],
                 tuple(SpanEvent(*event) for event in extra[2]) if len(extra) > 2 else empty,
                 tuple(SpanLink(*link) for link in extra[3]) if len(extra) > 3 else empty)
            for (trace_id, span_id, parent, name, kind, start_ns, end_ns, status, resource,
                 keys, _), extra in zip(rows, extras, strict=True)]
