"""`StoreExporter`: the endpoint's own spans, straight to its span store or the store's writer
(and to the forwarder, when there is one), without encoding, HTTP or decoding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status

from tracing.export.forward import Export, Forwarder
from tracing.otlp import json_format as otlp_json
from tracing.spans import Span, SpanEvent, SpanKind, SpanLink, StatusCode, plain
from tracing.store.sink import SpanSink


def stored_span(trace_id: int, span_id: int, parent_span_id: int | None, name: str,
                kind: SpanKind, start_ns: int, end_ns: int,
                attributes: Mapping[str, Any] | None, status: Status, resource: dict[str, Any],
                events: Sequence[Event] = (), links: Sequence[Link] = ()) -> Span:
    """A span as the store keeps it, from its parts (`kind` is OTLP's, not the API's)."""
    return Span(f"{trace_id:032x}", f"{span_id:016x}",
                f"{parent_span_id:016x}" if parent_span_id is not None else None, name, kind,
                start_ns, end_ns, StatusCode(status.status_code.value), status.description or "",
                plain(attributes), resource,
                tuple(SpanEvent(event.name, event.timestamp, plain(event.attributes))
                      for event in events),
                tuple(SpanLink(f"{link.context.trace_id:032x}", f"{link.context.span_id:016x}",
                               plain(link.attributes)) for link in links))


def span_of(span: ReadableSpan, resource: dict[str, Any]) -> Span:
    """An SDK span as the store keeps it."""
    context = span.get_span_context()
    assert context is not None
    return stored_span(context.trace_id, context.span_id,
                       span.parent.span_id if span.parent is not None else None, span.name,
                       SpanKind(span.kind.value + 1), span.start_time or 0, span.end_time or 0,
                       span.attributes, span.status, resource, span.events, span.links)


class StoreExporter(SpanExporter):
    def __init__(self, store: SpanSink, forwarder: Forwarder | None = None) -> None:
        self.store = store
        self.forwarder = forwarder

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        resources: dict[int, dict[str, Any]] = {}
        converted = [span_of(span, resources.setdefault(id(span.resource),
                                                        plain(span.resource.attributes)))
                     for span in spans]
        if self.forwarder is not None:
            self.forwarder.submit(Export(otlp_json.encode(spans), "application/json", None))
        try:
            self.store.add(converted)
        except Exception:  # a closed or broken store: counted as dropped, never raised
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS
