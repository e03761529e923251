"""Spans recorded after the fact. When a span's times are known only once it is over (the
parts of an invocation, measured by the worker), the SDK's `ReadableSpan` is built directly and
handed to the provider's span processors, as `Span.end()` would hand it: the same export path,
without the live-span machinery (contexts, locks, bounded attributes) that costs several times
more per span."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, TraceFlags

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

    def record(self, name: str, parent: SpanContext, start_ns: int, end_ns: int, *,
               kind: SpanKind = SpanKind.INTERNAL, attributes: Mapping[str, Any] | None = None,
               links: Sequence[Link] = (), status: Status = UNSET,
               span_id: int | None = None) -> SpanContext:
        """Record one finished span under `parent`; its context, for its children."""
        context = SpanContext(parent.trace_id, span_id or self._ids.generate_span_id(),
                              is_remote=False, trace_flags=SAMPLED)
        self._processor.on_end(ReadableSpan(
            name, context, parent, self._resource, attributes, (), links, kind,
            status=status, start_time=start_ns, end_time=end_ns,
            instrumentation_scope=self._scope))
        return context
