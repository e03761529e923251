"""Spans around an invocation: the `AWS::Lambda` service (queue wait, attempt, throttle) and
the `AWS::Lambda::Function` handler with its Initialization, Invocation and Overhead parts.

Spans are recorded after the fact with exact times; only the Invocation span's id is chosen up
front, because the environment's `_X_AMZN_TRACE_ID` must name it as the parent of whatever the
handler calls. Tracing never fails an invocation: errors are logged and the invocation goes on.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from tracing.hops import remote_parent, span_context
from tracing.propagation import TraceContext, from_xray
from tracing.setup import XRayIdGenerator
from workers.middleware import InvocationContext, Middleware, Throttled

log = logging.getLogger("ripple.tracing")
TRIGGERS = {"s3": "datasource", "dynamodb": "datasource", "http": "http"}


class Tracing(Middleware):
    def __init__(self, tracer: trace.Tracer, ids: XRayIdGenerator) -> None:
        self.tracer = tracer
        self.ids = ids

    def before_invoke(self, ctx: InvocationContext) -> None:
        try:
            parent = from_xray(ctx.request.trace_header) or TraceContext.new()
            invocation_id = random.getrandbits(64) or 1
            ctx.extras.update(trace=parent, invocation_span=invocation_id,
                              started_ns=time.time_ns())
            ctx.runtime_trace_header = parent.child(f"{invocation_id:016x}").to_xray()
        except Exception:
            log.exception("could not prepare the invocation's trace context")

    def after_invoke(self, ctx: InvocationContext) -> None:
        ctx.extras["ended_ns"] = time.time_ns()

    def completed(self, ctx: InvocationContext) -> None:
        if "trace" not in ctx.extras:
            return
        try:
            self._record(ctx)
        except Exception:
            log.exception("could not record the invocation's spans")

    def _record(self, ctx: InvocationContext) -> None:
        request, outcome = ctx.request, ctx.outcome
        function = request.function
        parent: TraceContext = ctx.extras["trace"]  # type: ignore[assignment]
        started: int = ctx.extras["started_ns"]  # type: ignore[assignment]
        ended: int = ctx.extras.get("ended_ns", time.time_ns())  # type: ignore[assignment]
        enqueued = int(request.enqueued * 1e9)
        links = [Link(span_context(linked)) for linked in filter(None, map(from_xray,
                                                                            request.links))]
        service = self.tracer.start_span(
            function.name, remote_parent(parent), kind=SpanKind.CONSUMER,
            links=links, start_time=min(enqueued, started), attributes={
                "faas.name": function.name, "messaging.system": "ripple",
                "messaging.operation.type": "process", "ripple.lambda.attempt": request.attempt,
                "ripple.lambda.queue_ms": round((started - enqueued) / 1e6, 3),
                "ripple.lambda.throttled": isinstance(ctx.skipped, Throttled)})
        if ctx.skipped is not None:
            if isinstance(ctx.skipped, Throttled):
                service.set_attribute("http.response.status_code", 429)
            service.set_attribute("ripple.skipped", ctx.skipped.reason)
            service.end(ended)
            return
        if outcome is None:
            service.end(ended)
            return
        attributes: dict[str, Any] = {
            "faas.name": function.name, "faas.invocation_id": request.request_id,
            "faas.coldstart": ctx.cold, "faas.trigger": TRIGGERS.get(request.trigger, "other"),
            "faas.max_memory": function.memory * 1048576, "cloud.resource_id": function.arn,
            "ripple.memory_used_mb": outcome.max_memory_mb, "ripple.trigger": request.trigger}
        handler = self.tracer.start_span(function.name, trace.set_span_in_context(service),
                                         kind=SpanKind.SERVER, start_time=started,
                                         attributes=attributes)
        if not outcome.ok:
            handler.set_attribute("ripple.error_type", outcome.error_type or "Unhandled")
            handler.set_status(Status(StatusCode.ERROR, outcome.error_type))
        inside = trace.set_span_in_context(handler)
        invocation_ns = int(outcome.duration_ms * 1e6)
        invocation_start = ended - invocation_ns
        if outcome.init_ms is not None:
            init_ns = int(outcome.init_ms * 1e6)
            self.tracer.start_span("Initialization", inside, start_time=invocation_start - init_ns
                                   ).end(invocation_start)
        self.ids.use_next(ctx.extras["invocation_span"])  # type: ignore[arg-type]
        self.tracer.start_span("Invocation", inside, start_time=invocation_start).end(ended)
        overhead = self.tracer.start_span("Overhead", inside, start_time=ended)
        overhead.end(time.time_ns())
        handler.end(time.time_ns())
        service.end(time.time_ns())
