"""OTLP/protobuf trace exports decoded into ripple's `Span`s (OTLP/JSON: `otlp_json`)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan

from tracing.errors import TracingError
from tracing.spans import Span, SpanEvent, SpanKind, SpanLink, StatusCode

# Proto3 enums are open: a value from a newer OTLP reads as unspecified, not as an error.
KINDS = {kind.value: kind for kind in SpanKind}
STATUSES = {status.value: status for status in StatusCode}
ID_FIELDS = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")


def decode_protobuf(body: bytes) -> list[Span]:
    """The spans of a binary `ExportTraceServiceRequest`."""
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as error:
        raise TracingError(f"not an OTLP ExportTraceServiceRequest ({error})") from None
    return spans_of(request)


def spans_of(request: ExportTraceServiceRequest) -> list[Span]:
    """Every span of a decoded request, its resource's attributes in `Span.resource`."""
    spans: list[Span] = []
    for r, resource_spans in enumerate(request.resource_spans):
        resource = attributes_of(resource_spans.resource.attributes)
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            for n, span in enumerate(scope_spans.spans):
                where = f"resource_spans[{r}].scope_spans[{s}].spans[{n}]"
                spans.append(_span(span, resource, where))
    return spans


def _span(span: OtlpSpan, resource: dict[str, Any], where: str) -> Span:
    parent = _id(span.parent_span_id, 8, f"{where}.parent_span_id", optional=True)
    return Span(
        trace_id=_id(span.trace_id, 16, f"{where}.trace_id"),
        span_id=_id(span.span_id, 8, f"{where}.span_id"),
        parent_span_id=parent or None,
        name=span.name,
        kind=KINDS.get(span.kind, SpanKind.UNSPECIFIED),
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        status=STATUSES.get(span.status.code, StatusCode.UNSET),
        status_message=span.status.message,
        attributes=attributes_of(span.attributes),
        resource=resource,
        events=tuple(SpanEvent(event.name, event.time_unix_nano, attributes_of(event.attributes))
                     for event in span.events),
        links=tuple(SpanLink(_id(link.trace_id, 16, f"{where}.links[{k}].trace_id"),
                             _id(link.span_id, 8, f"{where}.links[{k}].span_id"),
                             attributes_of(link.attributes))
                    for k, link in enumerate(span.links)),
    )


def _id(raw: bytes, size: int, where: str, optional: bool = False) -> str:
    if optional and not raw:
        return ""
    if len(raw) != size or not any(raw):
        raise TracingError(f"expected a non-zero {size}-byte id, got {raw.hex() or 'nothing'}",
                           where)
    return raw.hex()


def attributes_of(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    """OTLP key-value pairs as a plain dict (bytes as base64, as OTLP/JSON writes them)."""
    return {pair.key: value_of(pair.value) for pair in pairs}


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [value_of(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_of(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)
