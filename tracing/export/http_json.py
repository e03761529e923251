"""`JsonSpanExporter`: OTLP/JSON over HTTP/1.1 keep-alive, the way ripple's workers and
environments send spans to ripple's receiver. It encodes with `otlp_json` (plain dicts, no
protobuf objects: a fraction of the SDK exporter's CPU per span) and never raises: a failed
export is a FAILURE result, which `CountingExporter` counts as dropped spans. `post` sends a
request already encoded (a worker's batches, `tracing.export.batches`). The endpoint's own spans
skip all this (`tracing.recorder.SinkRecorder`)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Sequence
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracing.otlp import json_format as otlp_json


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
        return self.post(otlp_json.encode(spans))

    def post(self, body: bytes) -> SpanExportResult:
        """Send an export request already encoded as OTLP/JSON."""
        if self._shut_down:
            return SpanExportResult.FAILURE
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

