"""Spans recorded after the fact. When a span's times are known only once it is over (the
parts of an invocation, measured by the worker; a call the endpoint answered), the SDK's
`ReadableSpan` is built directly and handed to the provider's span processors, as `Span.end()`
would hand it: the same export path, without the live-span machinery (contexts, locks, bounded
attributes) that costs several times more per span."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from opentelemetry import trace
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from tracing.export.batches import SpanBatcher
from tracing.export.in_process import stored_span
from tracing.otlp import json_format as otlp_json
from tracing.spans import SpanKind as StoredKind
from tracing.spans import plain
from tracing.store.sink import SpanSink

UNSET = Status()
SAMPLED = TraceFlags(TraceFlags.SAMPLED)


class SpanRecorder:
    def __init__(self, provider: TracerProvider, scope: str) -> None:
        # The provider's processors, as its tracers reach them (the SDK keeps them private).
        self._processor = provider._active_span_processor
        self._resource = provider.resource
        self._ids = provider.id_generator
        self._scope = InstrumentationScope(scope)

    def new_span_id(self) -> int:
        return self._ids.generate_span_id()

    def record(self, name: str, parent: SpanContext | None, start_ns: int, end_ns: int, *,
               kind: SpanKind = SpanKind.INTERNAL, attributes: Mapping[str, Any] | None = None,
               links: Sequence[Link] = (), status: Status = UNSET,
               span_id: int | None = None, trace_id: int | None = None,
               events: Sequence[Event] = ()) -> SpanContext:
        """Record one finished span under `parent` (a root of trace `trace_id` when None);
        its context, for its children."""
        trace_id = parent.trace_id if parent is not None else trace_id or 0
        span_id = span_id or self._ids.generate_span_id()
        self._emit(Parts(trace_id, span_id, parent, name, kind, start_ns, end_ns, attributes,
                         status, events, links))
        return SpanContext(trace_id, span_id, is_remote=False, trace_flags=SAMPLED)

    def _emit(self, span: Parts) -> None:
        """Hand a finished span to the provider's processors, as `Span.end()` does."""
        context = SpanContext(span.trace_id, span.span_id, is_remote=False,
                              trace_flags=SAMPLED)
        self._processor.on_end(ReadableSpan(
            span.name, context, span.parent, self._resource, span.attributes, span.events,
            span.links, span.kind, status=span.status, start_time=span.start_ns,
            end_time=span.end_ns, instrumentation_scope=self._scope))


class SinkRecorder(SpanRecorder):
    """Records straight into a span sink as the store keeps spans: no SDK span, processor,
    queue or encoding (the endpoint's own spans, when they go to its own store and nowhere
    else)."""

    def __init__(self, sink: SpanSink, provider: TracerProvider) -> None:
        super().__init__(provider, "ripple")
        self._sink = sink
        self._resource_attributes = plain(provider.resource.attributes)

    def _emit(self, span: Parts) -> None:
        self._sink.add([stored_span(
            span.trace_id, span.span_id, span.parent_span_id, span.name, OTLP_KINDS[span.kind],
            span.start_ns, span.end_ns, span.attributes, span.status,
            self._resource_attributes, span.events, span.links)])


class DocumentRecorder(SpanRecorder):
    """Records spans as OTLP/JSON documents into a `SpanBatcher`: no SDK span, processor or
    encoding pass (a worker's spans, on their way to an OTLP/JSON receiver)."""

    def __init__(self, batcher: SpanBatcher, provider: TracerProvider, scope: str) -> None:
        super().__init__(provider, scope)
        self._batcher = batcher
        self._key = (scope, "")

    def _emit(self, span: Parts) -> None:
        self._batcher.add(self._key, otlp_json.span_document, span.trace_id, span.span_id,
                          span.parent_span_id, span.name, OTLP_KINDS[span.kind],
                          span.start_ns, span.end_ns, span.attributes, span.status,
                          span.events, span.links)


class Parts(NamedTuple):
    """A finished span as recorded, before it takes the shape its destination wants."""

    trace_id: int
    span_id: int
    parent: SpanContext | None
    name: str
    kind: SpanKind
    start_ns: int
    end_ns: int
    attributes: Mapping[str, Any] | None
    status: Status
    events: Sequence[Event]
    links: Sequence[Link]

    @property
    def parent_span_id(self) -> int | None:
        return self.parent.span_id if self.parent is not None else None


OTLP_KINDS = {kind: StoredKind(kind.value + 1) for kind in SpanKind}  # the API's INTERNAL is 0
_recorders: dict[tuple[int, str], SpanRecorder] = {}
_installed: list[Callable[[str], SpanRecorder]] = []


def record_into(sink: SpanSink, provider: TracerProvider) -> None:
    """From now on, this process's spans recorded after the fact go straight into `sink`."""
    direct = SinkRecorder(sink, provider)
    _installed[:] = [lambda scope: direct]


def record_batched(batcher: SpanBatcher, provider: TracerProvider) -> None:
    """From now on, this process's spans recorded after the fact go straight into `batcher`."""
    made: dict[str, DocumentRecorder] = {}

    def batched(scope: str) -> DocumentRecorder:
        found = made.get(scope)
        if found is None:
            found = made[scope] = DocumentRecorder(batcher, provider, scope)
        return found

    _installed[:] = [batched]


def record_through_provider() -> None:
    """From now on, spans recorded after the fact go to the tracer provider's processors."""
    _installed.clear()


def recorder(scope: str) -> SpanRecorder | None:
    """A recorder on this process's tracer provider (or into what `record_into` or
    `record_batched` named); None while tracing is off (no SDK provider installed, or
    OTEL_SDK_DISABLED)."""
    if _installed:
        return _installed[0](scope)
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        return None
    found = _recorders.get((id(provider), scope))
    if found is None or found._processor is not provider._active_span_processor:
        found = _recorders[(id(provider), scope)] = SpanRecorder(provider, scope)
    return found


@dataclass
class OpenSpan:
    """A span whose id is chosen when it starts (so what it causes can name it as parent) and
    which is recorded when it ends, with whatever name and attributes it has by then."""

    recorder: SpanRecorder
    name: str
    kind: SpanKind
    parent: SpanContext | None
    trace_id: int
    attributes: dict[str, Any] = field(default_factory=dict)
    status: Status = UNSET
    start_ns: int = field(default_factory=time.time_ns)
    span_id: int = 0
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.span_id = self.span_id or self.recorder.new_span_id()

    @property
    def context(self) -> SpanContext:
        return SpanContext(self.trace_id, self.span_id, is_remote=False, trace_flags=SAMPLED)

    def end(self, end_ns: int | None = None) -> None:
        self.recorder.record(self.name, self.parent, self.start_ns, end_ns or time.time_ns(),
                             kind=self.kind, attributes=self.attributes, status=self.status,
                             span_id=self.span_id, trace_id=self.trace_id, events=self.events)

    def record_exception(self, error: BaseException) -> None:
        """The error as OpenTelemetry's `exception` event, and the span's status."""
        self.events.append(Event("exception", {
            "exception.type": type(error).__qualname__, "exception.message": str(error),
            "exception.stacktrace": "".join(traceback.format_exception(error))}))
        self.status = Status(StatusCode.ERROR, str(error))
