"""Spans around an invocation: the `AWS::Lambda` service (queue wait, attempt, throttle) and
the `AWS::Lambda::Function` handler with its Initialization, Invocation and Overhead parts.

Spans are recorded after the fact with exact times (`SpanRecorder`); only the Invocation span's
id is chosen up front, because the environment's `_X_AMZN_TRACE_ID` must name it as the parent
of whatever the handler calls. Tracing never fails an invocation: errors are logged and the
invocation goes on.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from tracing.hops import decided, new_trace, span_context, weighted
from tracing.propagation import TraceContext, from_xray
from tracing.recorder import SAMPLED, UNSET, SpanRecorder
from workers.middleware import InvocationContext, Middleware, Throttled

log = logging.getLogger("ripple.tracing")
TRIGGERS = {"s3": "datasource", "dynamodb": "datasource", "http": "http"}
NOT_SAMPLED = "Sampled=0"  # in an X-Ray header ripple made (`TraceContext.to_xray`)


class Tracing(Middleware):
    def __init__(self, recorder: SpanRecorder) -> None:
        self.recorder = recorder

    def before_invoke(self, ctx: InvocationContext) -> None:
        if NOT_SAMPLED in ctx.request.trace_header:
            # Decided upstream and not recorded: nothing to record here or below, and the
            # header (ripple's own, with its Lineage) goes on to the environment as it came.
            # Parsing it took about 5% of a worker's CPU in a load of no-ops.
            return
        try:
            parent = decided(from_xray(ctx.request.trace_header)) or new_trace()
            invocation_id = random.getrandbits(64) or 1
            if parent.sampled:  # an unsampled trace records nothing, here or downstream
                ctx.extras.update(trace=parent, invocation_span=invocation_id,
                                  started_ns=time.time_ns())
            ctx.runtime_trace_header = parent.child(f"{invocation_id:016x}").to_xray()
        except Exception:
            log.exception("could not prepare the invocation's trace context")

    def after_invoke(self, ctx: InvocationContext) -> None:
        if "trace" in ctx.extras:
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
        record = self.recorder.record
        service: dict[str, Any] = {
            "faas.name": function.name, "messaging.system": "ripple",
            "messaging.operation.type": "process", "ripple.lambda.attempt": request.attempt,
            "ripple.lambda.queue_ms": round((started - enqueued) / 1e6, 3),
            "ripple.lambda.throttled": isinstance(ctx.skipped, Throttled)}
        weighted(service, parent)
        service_start = min(enqueued, started)
        if ctx.skipped is not None or outcome is None:
            if isinstance(ctx.skipped, Throttled):
                service["http.response.status_code"] = 429
            if ctx.skipped is not None:
                service["ripple.skipped"] = ctx.skipped.reason
            record(function.name, span_context(parent), service_start, ended,
                   kind=SpanKind.CONSUMER, attributes=service, links=links)
            return
        attributes: dict[str, Any] = {
            "faas.name": function.name, "faas.invocation_id": request.request_id,
            "faas.coldstart": ctx.cold, "faas.trigger": TRIGGERS.get(request.trigger, "other"),
            "faas.max_memory": function.memory * 1048576, "cloud.resource_id": function.arn,
            "ripple.memory_used_mb": outcome.max_memory_mb, "ripple.trigger": request.trigger}
        status = UNSET
        if not outcome.ok:
            attributes["ripple.error_type"] = outcome.error_type or "Unhandled"
            status = Status(StatusCode.ERROR, outcome.error_type)
        # Children first: each span's end is known before its parent's.
        service_id, handler_id = self.recorder.new_span_id(), self.recorder.new_span_id()
        service_context = SpanContext(int(parent.trace_id, 16), service_id, False, SAMPLED)
        handler_context = SpanContext(service_context.trace_id, handler_id, False, SAMPLED)
        # The handler's window as the worker saw it: from the event handed over to the answer
        # (taken when the answer came, not after the other hooks ran).
        invocation_end = outcome.ended_ns or ended
        invocation_start = invocation_end - int(outcome.duration_ms * 1e6)
        if outcome.init_ms is not None:
            record("Initialization", handler_context,
                   invocation_start - int(outcome.init_ms * 1e6), invocation_start)
        record("Invocation", handler_context, invocation_start, invocation_end,
               span_id=ctx.extras["invocation_span"])  # type: ignore[arg-type]
        finished = time.time_ns()
        record("Overhead", handler_context, invocation_end, finished)
        record(function.name, service_context, started, finished, kind=SpanKind.SERVER,
               attributes=attributes, status=status, span_id=handler_id)
        record(function.name, span_context(parent), service_start, finished,
               kind=SpanKind.CONSUMER, attributes=service, links=links, span_id=service_id)
