"""Where ripple's own processes send their spans.

- `JsonSpanExporter`: OTLP/JSON over HTTP/1.1 keep-alive to ripple's receiver (workers,
  environments). It encodes with `otlp_json` (plain dicts, no protobuf objects: a fraction of
  the SDK exporter's CPU per span) and never raises: a failed export is a FAILURE result, which
  `CountingExporter` counts as dropped spans.
- `StoreExporter`: the endpoint's own spans, straight into its span store (and to the
  forwarder, when there is one), without encoding, HTTP or decoding.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracing import otlp_json
from tracing.forward import Export, Forwarder
from tracing.spans import Span, SpanEvent, SpanKind, SpanLink, StatusCode
from tracing.store import SpanStore


class JsonSpanExporter(SpanExporter):
    def __init__(self, endpoint: str, timeout: float) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {endpoint!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = parts.path or "/v1/traces"
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._shut_down = False

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=self._timeout)
        return self._connection

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shut_down:
            return SpanExportResult.FAILURE
        body = otlp_json.encode(spans)
        with self._lock:
            for _ in range(2):  # a kept-alive connection the server closed: once more
                try:
                    connection = self._connect()
                    connection.request("POST", self._path, body,
                                       {"Content-Type": "application/json"})
                    answer = connection.getresponse()
                    answer.read()
                except (OSError, http.client.HTTPException):
                    self._close()
                    continue
                if answer.will_close:
                    self._close()
                return (SpanExportResult.SUCCESS if 200 <= answer.status < 300
                        else SpanExportResult.FAILURE)
        return SpanExportResult.FAILURE

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def shutdown(self) -> None:
        self._shut_down = True
        with self._lock:
            self._close()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def _plain(attributes: Any) -> dict[str, Any]:
    """SDK attributes as the receiver decodes them (sequences as lists)."""
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in (attributes or {}).items()}


def span_of(span: ReadableSpan, resource: dict[str, Any]) -> Span:
    """An SDK span as the store keeps it."""
    context = span.get_span_context()
    assert context is not None
    return Span(f"{context.trace_id:032x}", f"{context.span_id:016x}",
                f"{span.parent.span_id:016x}" if span.parent is not None else None,
                span.name, SpanKind(span.kind.value + 1), span.start_time or 0,
                span.end_time or 0, StatusCode(span.status.status_code.value),
                span.status.description or "", _plain(span.attributes), resource,
                tuple(SpanEvent(event.name, event.timestamp, _plain(event.attributes))
                      for event in span.events),
                tuple(SpanLink(f"{link.context.trace_id:032x}", f"{link.context.span_id:016x}",
                               _plain(link.attributes)) for link in span.links))


class StoreExporter(SpanExporter):
    def __init__(self, store: SpanStore, forwarder: Forwarder | None = None) -> None:
        self.store = store
        self.forwarder = forwarder

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        resources: dict[int, dict[str, Any]] = {}
        converted = [span_of(span, resources.setdefault(id(span.resource),
                                                        _plain(span.resource.attributes)))
                     for span in spans]
        if self.forwarder is not None:
            self.forwarder.submit(Export(otlp_json.encode(spans), "application/json", None))
        try:
            self.store.add(converted)
        except Exception:  # a closed or broken store: counted as dropped, never raised
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS
