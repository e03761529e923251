"""`StoreExporter`: the endpoint's own spans, straight to its span store or the store's writer
(and to the forwarder, when there is one), without encoding, HTTP or decoding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracing.export.forward import Export, Forwarder
from tracing.otlp import json_format as otlp_json
from tracing.spans import Span, SpanEvent, SpanKind, SpanLink, StatusCode, plain
from tracing.store.sink import SpanSink


def span_of(span: ReadableSpan, resource: dict[str, Any]) -> Span:
    """An SDK span as the store keeps it."""
    context = span.get_span_context()
    assert context is not None
    return Span(f"{context.trace_id:032x}", f"{context.span_id:016x}",
                f"{span.parent.span_id:016x}" if span.parent is not None else None,
                span.name, SpanKind(span.kind.value + 1), span.start_time or 0,
                span.end_time or 0, StatusCode(span.status.status_code.value),
                span.status.description or "", plain(span.attributes), resource,
                tuple(SpanEvent(event.name, event.timestamp, plain(event.attributes))
                      for event in span.events),
                tuple(SpanLink(f"{link.context.trace_id:032x}", f"{link.context.span_id:016x}",
                               plain(link.attributes)) for link in span.links))


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
