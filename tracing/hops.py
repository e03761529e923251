"""Trace context across ripple's own hops: the context a request arrived with, and the
PRODUCER span of each dispatch, whose context the invocation carries to its worker.

Every dispatch goes through `dispatch_context`, so this is also where Lambda's recursion limit
is enforced: the 17th invocation of one function in one chain is stopped.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger("ripple.tracing")
# The context of the request being handled (set by the endpoint's tracing middleware).
INBOUND: ContextVar[TraceContext | None] = ContextVar("ripple_inbound_trace", default=None)
_tracer = trace.get_tracer("ripple.dispatch")


SAMPLED, NOT_SAMPLED = TraceFlags(TraceFlags.SAMPLED), TraceFlags(TraceFlags.DEFAULT)


def span_context(context: TraceContext) -> SpanContext:
    """The OTel span context of `context`'s parent span (from another process)."""
    return SpanContext(int(context.trace_id, 16), int(context.parent_id, 16), is_remote=True,
                       trace_flags=SAMPLED if context.sampled else NOT_SAMPLED)


def new_trace() -> TraceContext:
    """A new trace, sampled as this process's sampler says for a root (OTEL_TRACES_SAMPLER;
    every trace by default). Later hops follow the decision (`Sampled=` travels along)."""
    context = TraceContext.new()
    sampler = getattr(trace.get_tracer_provider(), "sampler", None)
    if sampler is None:
        return context
    try:
        decision = sampler.should_sample(None, int(context.trace_id, 16), "root").decision
    except Exception:  # tracing never fails its caller
        return context
    return replace(context, sampled=decision.is_sampled())


def own_context(span: trace.Span, caller: TraceContext | None) -> TraceContext:
    """The context the next hop continues under `span`: the caller's trace (and lineage),
    else a new trace rooted at `span` (sampled as `span` was)."""
    own = span.get_span_context()
    if not own.is_valid:
        return caller or new_trace()
    if caller is not None:
        return caller.child(f"{own.span_id:016x}")
    return TraceContext(f"{own.trace_id:032x}", f"{own.span_id:016x}",
                        sampled=own.trace_flags.sampled)


def remote_parent(context: TraceContext) -> trace.Context:
    """An OTel context whose parent span is `context`'s."""
    return trace.set_span_in_context(NonRecordingSpan(span_context(context)))


def caller_context(header: str = "") -> TraceContext:
    """The context a new hop continues: an explicit X-Ray header, else the inbound request's,
    else a new trace."""
    if header:
        found = from_xray(unquote(header))
        if found is not None:
            return found
    return INBOUND.get() or new_trace()


def dispatch_context(function_name: str, function_arn: str, header: str = "",
                     enforce_recursion: bool = True) -> str | None:
    """Record the PRODUCER span of a dispatch and return the header the invocation carries;
    None when the recursion limit stops it (the stop is recorded on the span)."""
    parent = caller_context(header)
    attributes = {"messaging.system": "ripple", "messaging.operation.type": "send",
                  "messaging.destination.name": function_name, "faas.invoked_name": function_name}
    span = _tracer.start_span(f"{function_name} send", remote_parent(parent),
                              kind=SpanKind.PRODUCER, attributes=attributes)
    try:
        if enforce_recursion and parent.is_recursion_stopped(function_arn):
            span.set_attribute("ripple.recursion_stopped", True)
            span.set_status(Status(StatusCode.ERROR, "recursive loop stopped"))
            return None
        own = span.get_span_context()
        span_id = f"{own.span_id:016x}" if own.is_valid else parent.parent_id
        return parent.entering(function_arn).child(span_id).to_xray()
    finally:
        span.end()
