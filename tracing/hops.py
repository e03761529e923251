"""Trace context across ripple's own hops: the context a request arrived with, and the
PRODUCER span of each dispatch, whose context the invocation carries to its worker.

Every dispatch goes through `dispatch_context`, so this is also where Lambda's recursion limit
is enforced: the 17th invocation of one function in one chain is stopped.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import replace
from urllib.parse import unquote

from opentelemetry import trace
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from tracing.propagation import TraceContext, from_xray
from tracing.recorder import UNSET, recorder
from tracing.sampling import WEIGHT, weight_of

log = logging.getLogger("ripple.tracing")
# The context of the request being handled (set by the endpoint's tracing middleware).
INBOUND: ContextVar[TraceContext | None] = ContextVar("ripple_inbound_trace", default=None)


SAMPLED, NOT_SAMPLED = TraceFlags(TraceFlags.SAMPLED), TraceFlags(TraceFlags.DEFAULT)


def span_context(context: TraceContext) -> SpanContext:
    """The OTel span context of `context`'s parent span (from another process)."""
    return SpanContext(int(context.trace_id, 16), int(context.parent_id, 16), is_remote=True,
                       trace_flags=SAMPLED if context.sampled else NOT_SAMPLED)


def new_trace() -> TraceContext:
    """A new trace, sampled as this process's sampler says for a root (`tracing.sampling`'s
    reservoir and rate unless OTEL_TRACES_SAMPLER says otherwise). Later hops follow the
    decision (`Sampled=` travels along)."""
    return _root_decided(TraceContext.new())


def decided(context: TraceContext | None) -> TraceContext | None:
    """A caller's context, with the sampling decision its header left to ripple (X-Ray's
    `Sampled=?`) taken here, as for a root."""
    if context is None or context.decided:
        return context
    return _root_decided(context)


def _root_decided(context: TraceContext) -> TraceContext:
    sampler = getattr(trace.get_tracer_provider(), "sampler", None)
    if sampler is None:
        return replace(context, decided=True)
    try:
        result = sampler.should_sample(None, int(context.trace_id, 16), "root")
    except Exception:  # tracing never fails its caller
        return replace(context, decided=True)
    return replace(context, sampled=result.decision.is_sampled(), decided=True,
                   weight=weight_of(result))


def weighted(attributes: dict[str, object], context: TraceContext) -> dict[str, object]:
    """`attributes`, with the trace's weight when this process's sampler gave it one."""
    if context.weight > 1:
        attributes[WEIGHT] = context.weight
    return attributes


def remote_parent(context: TraceContext) -> trace.Context:
    """An OTel context whose parent span is `context`'s."""
    return trace.set_span_in_context(NonRecordingSpan(span_context(context)))


def caller_context(header: str = "") -> TraceContext:
    """The context a new hop continues: an explicit X-Ray header, else the inbound request's,
    else a new trace."""
    if header:
        found = decided(from_xray(unquote(header)))
        if found is not None:
            return found
    return INBOUND.get() or new_trace()


def dispatch_context(function_name: str, function_arn: str, header: str = "",
                     enforce_recursion: bool = True) -> str | None:
    """Record the PRODUCER span of a dispatch and return the header the invocation carries;
    None when the recursion limit stops it (the stop is recorded on the span)."""
    parent = caller_context(header)
    spans = recorder("ripple.dispatch") if parent.sampled else None
    span_id = spans.new_span_id() if spans is not None else None
    stopped = enforce_recursion and parent.is_recursion_stopped(function_arn)
    if spans is not None:
        attributes: dict[str, object] = weighted({
            "messaging.system": "ripple", "messaging.operation.type": "send",
            "messaging.destination.name": function_name, "faas.invoked_name": function_name},
            parent)
        status = UNSET
        if stopped:
            attributes["ripple.recursion_stopped"] = True
            status = Status(StatusCode.ERROR, "recursive loop stopped")
        now = time.time_ns()
        spans.record(f"{function_name} send", span_context(parent), now, now,
                     kind=SpanKind.PRODUCER, attributes=attributes, status=status,
                     span_id=span_id)
    if stopped:
        return None
    own = f"{span_id:016x}" if span_id is not None else parent.parent_id
    return parent.entering(function_arn).child(own).to_xray()
