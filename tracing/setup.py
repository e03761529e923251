"""OpenTelemetry in ripple's processes: X-Ray-compatible ids, OTLP/HTTP to ripple's own
receiver unless the standard `OTEL_*` variables say otherwise, and spans that are dropped and
counted — never raised — when the receiver is away."""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator

from tracing.export.batches import QUEUE_SIZE, BatchedSpans, SpanBatcher
from tracing.export.http_json import JsonSpanExporter
from tracing.recorder import record_batched, record_through_provider
from tracing.sampling import burst, default_sampler

log = logging.getLogger("ripple.tracing")
EXPORT_TIMEOUT_MS = 2_000


class XRayIdGenerator(IdGenerator):
    """Trace ids whose first 4 bytes are the epoch seconds, as X-Ray requires."""

    def generate_span_id(self) -> int:
        return random.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return (int(time.time()) << 96) | random.getrandbits(96)


class CountingExporter(SpanExporter):
    """Wraps an exporter: failures are counted as dropped spans and logged once a minute."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter
        self.exported = 0
        self.dropped = 0
        self._warned_at = 0.0
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.exporter.export(spans)
        except Exception:  # an exporter must never take its caller down
            result = SpanExportResult.FAILURE
        return self._count(result, len(spans))

    def post(self, body: bytes, spans: int) -> SpanExportResult:
        """An export request already encoded as OTLP/JSON (`JsonSpanExporter` only)."""
        assert isinstance(self.exporter, JsonSpanExporter)
        try:
            result = self.exporter.post(body)
        except Exception:
            result = SpanExportResult.FAILURE
        return self._count(result, spans)

    def _count(self, result: SpanExportResult, spans: int) -> SpanExportResult:
        with self._lock:
            if result is SpanExportResult.SUCCESS:
                self.exported += spans
                return result
            self.dropped += spans
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("trace receiver unreachable: %d spans dropped so far", self.dropped)
        return result

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def sdk_disabled(environ: Mapping[str, str] = os.environ) -> bool:
    """OTEL_SDK_DISABLED, read as the OTel SDK reads it: only `true` (any case) disables."""
    return environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def described(per_second: int, rate: float, environ: Mapping[str, str] = os.environ) -> str:
    """What a ripple process started with `environ` records, in a few words (`ripple up`)."""
    if sdk_disabled(environ):
        return "off (OTEL_SDK_DISABLED)"
    if chosen := environ.get("OTEL_TRACES_SAMPLER"):
        return f"sampled by OTEL_TRACES_SAMPLER={chosen}"
    return (f"{per_second} new/s in full (bursts of {burst(per_second)}), "
            f"then {rate * 100:g}%")


def traces_endpoint(ripple_endpoint: str, environ: Mapping[str, str] = os.environ) -> str:
    """Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, else
    the receiver of the ripple endpoint at `ripple_endpoint`."""
    if explicit := environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return explicit
    if base := environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return base.rstrip("/") + "/v1/traces"
    return ripple_endpoint.rstrip("/") + "/v1/traces"


def span_exporter(ripple_endpoint: str, environ: Mapping[str, str] = os.environ) -> SpanExporter:
    """OTLP/JSON (cheaper to encode) to ripple's own receiver; OTLP/protobuf, the protocol
    every collector speaks, when OTEL_EXPORTER_OTLP_* send spans elsewhere, unless
    OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL says http/json."""
    endpoint = traces_endpoint(ripple_endpoint, environ)
    protocol = (environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL"))
    own = endpoint == ripple_endpoint.rstrip("/") + "/v1/traces"
    if protocol == "http/json" or (own and protocol is None):
        return JsonSpanExporter(endpoint, timeout=EXPORT_TIMEOUT_MS / 1000)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint, timeout=EXPORT_TIMEOUT_MS / 1000)


def exporter_configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the standard variables send spans somewhere of their own choosing."""
    return any(environ.get(name) for name in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                                                  "OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure_tracing(service_name: str, ripple_endpoint: str,
                      exporter: SpanExporter | None, sampling: tuple[int, float]
                      ) -> tuple[TracerProvider, CountingExporter] | None:
    """Install a tracer provider for this process, exporting through `exporter` or else
    `span_exporter(ripple_endpoint)`, new traces sampled as `sampling` (per second, then a
    rate; `tracing.sampling`) unless OTEL_TRACES_SAMPLER names a sampler; None when
    OTEL_SDK_DISABLED is true."""
    if sdk_disabled():
        return None
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    sampler = None if os.environ.get("OTEL_TRACES_SAMPLER") else default_sampler(*sampling)
    provider = TracerProvider(resource=resource, id_generator=XRayIdGenerator(),
                              sampler=sampler)
    counting = CountingExporter(exporter or span_exporter(ripple_endpoint))
    if isinstance(counting.exporter, JsonSpanExporter):
        # Spans recorded after the fact are queued as their parts and encoded by the
        # batcher's thread, in the same batches as the live ones (`tracing.export.batches`).
        batcher = SpanBatcher(counting.post, resource.attributes, close=counting.shutdown)
        provider.add_span_processor(BatchedSpans(batcher))
        record_batched(batcher, provider)
    else:
        provider.add_span_processor(BatchSpanProcessor(
            counting, max_queue_size=QUEUE_SIZE, schedule_delay_millis=500,
            max_export_batch_size=2_048, export_timeout_millis=EXPORT_TIMEOUT_MS))
        record_through_provider()
    trace.set_tracer_provider(provider)
    return provider, counting
