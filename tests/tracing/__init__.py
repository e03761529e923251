"""A small factory for the spans ripple's instrumentation emits, to test the pure tracing
functions without Redis, workers or an OTLP exporter.

`TraceBuilder` writes spans with the attributes each hop carries (see DESIGN.md, "Traces and
the service map"); `chain()` builds the issue's pipeline: an S3 put → A → 10 × B through boto3
→ each B writes DynamoDB → the stream → C.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from tracing.sampling import WEIGHT
from tracing.spans import Span, SpanEvent, SpanKind, SpanLink, StatusCode

T0 = 1_700_000_000.0  # epoch seconds of every test trace's first span
FOREVER = 24 * 365 * 100.0  # hours of retention: the test traces start in 2023
WORKER = {"service.name": "ripple-worker"}  # the process: never a node's identity
ENDPOINT = {"service.name": "ripple-endpoint"}


@dataclass
class TraceBuilder:
    start: float = T0
    number: int = 1
    spans: list[Span] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.trace_id = f"{int(self.start):08x}{self.number:024x}"
        self._ids = itertools.count(self.number << 32 | 1)

    def span(self, name: str, kind: SpanKind = SpanKind.INTERNAL, parent: Span | None = None,
             at: float = 0.0, ms: float = 1.0, attributes: dict[str, Any] | None = None, *,
             status: StatusCode = StatusCode.UNSET, message: str = "",
             resource: dict[str, Any] | None = None, links: tuple[SpanLink, ...] = (),
             events: tuple[SpanEvent, ...] = ()) -> Span:
        """One span starting `at` ms after the trace's start and lasting `ms` ms."""
        start_ns = int(self.start * 1e9 + at * 1e6)
        span = Span(self.trace_id, f"{next(self._ids):016x}",
                    parent.span_id if parent else None, name, kind, start_ns,
                    start_ns + int(ms * 1e6), status, message, dict(attributes or {}),
                    resource if resource is not None else WORKER, events, links)
        self.spans.append(span)
        return span

    def dispatch(self, target: str, parent: Span | None, at: float) -> Span:
        """The PRODUCER span of a dispatch onto a function's queue."""
        return self.span(f"{target} send", SpanKind.PRODUCER, parent, at, 0.2, {
            "messaging.system": "ripple", "messaging.destination.name": target,
            "faas.invoked_name": target}, resource=ENDPOINT)

    def function(self, name: str, parent: Span | None, at: float, ms: float = 20.0, *,
                 cold: bool = False, error_type: str | None = None, throttled: bool = False,
                 attempt: int = 1, **annotations: Any) -> tuple[Span, Span | None, Span | None]:
        """The Lambda service's CONSUMER span, then the handler's SERVER span with its
        Initialization (cold starts), Invocation and Overhead; returns (consumer, handler,
        invocation)."""
        queue = 2.0
        consumer = self.span(name, SpanKind.CONSUMER, parent, at, ms + queue + 1, {
            "faas.name": name, "messaging.system": "ripple", "ripple.lambda.attempt": attempt,
            "ripple.lambda.queue_ms": queue, "ripple.lambda.throttled": throttled,
            **({"http.response.status_code": 429} if throttled else {})})
        if throttled:
            return consumer, None, None
        init = 5.0 if cold else 0.0
        handler = self.span(name, SpanKind.SERVER, consumer, at + queue, ms, {
            "faas.name": name, "faas.invocation_id": f"req-{len(self.spans)}",
            "faas.coldstart": cold, "faas.trigger": "other",
            "cloud.resource_id": f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
            **({"ripple.error_type": error_type} if error_type else {}),
            **{f"ripple.annotation.{key}": value for key, value in annotations.items()}},
            status=StatusCode.ERROR if error_type else StatusCode.UNSET,
            message=error_type or "")
        if cold:
            self.span("Initialization", parent=handler, at=at + queue, ms=init)
        invocation = self.span("Invocation", parent=handler, at=at + queue + init,
                               ms=ms - init - 0.5)
        self.span("Overhead", parent=handler, at=at + queue + ms - 0.5, ms=0.5)
        return consumer, handler, invocation

    def aws_call(self, service: str, method: str, parent: Span | None, at: float,
                 ms: float = 3.0, status: int = 200, server: bool = True,
                 **resource: Any) -> tuple[Span, Span | None]:
        """A boto3 call (CLIENT span) and the endpoint's SERVER span for it."""
        attributes = {"rpc.system": "aws-api", "rpc.service": service, "rpc.method": method,
                      "http.response.status_code": status,
                      **{key.replace("__", "."): value for key, value in resource.items()}}
        failed = StatusCode.ERROR if status >= 400 else StatusCode.UNSET
        client = self.span(f"{service}.{method}", SpanKind.CLIENT, parent, at, ms, attributes,
                            status=failed)
        if not server:
            return client, None
        return client, self.span(f"{service}.{method}", SpanKind.SERVER, client, at + 0.2,
                                  ms - 0.4, attributes, resource=ENDPOINT, status=failed)


@dataclass
class Chain:
    trace: TraceBuilder
    stream: TraceBuilder
    writes: list[Span]

    @property
    def spans(self) -> list[Span]:
        return self.trace.spans + self.stream.spans


def chain(fail_one_b: bool = True, fan_out: int = 10) -> Chain:
    """S3 put → A → `fan_out` × B (boto3 Invoke, async) → each B puts an item in DynamoDB →
    the table's stream → one batch to C in a new trace, whose CONSUMER span links to every
    write's SERVER span. The third B fails with a ValueError when `fail_one_b`."""
    trace = TraceBuilder(number=1)
    put, bucket = trace.aws_call("S3", "PutObject", None, 0.0, ms=4.0,
                                 aws__s3__bucket="uploads", aws__s3__key="images/cat.jpg")
    notify = trace.dispatch("A", bucket, 2.0)
    _, _, a = trace.function("A", notify, 3.0, ms=60.0, cold=True, stage="test")
    assert a is not None
    writes = []
    for index in range(fan_out):
        call, endpoint = trace.aws_call("Lambda", "Invoke", a, 10.0 + index, ms=2.0, status=202,
                                        faas__invoked_name="B")
        queued = trace.dispatch("B", endpoint, 10.5 + index)
        failing = fail_one_b and index == 2
        _, _, b = trace.function("B", queued, 15.0 + index, ms=30.0,
                                 error_type="ValueError" if failing else None)
        assert b is not None
        _, write = trace.aws_call("DynamoDB", "PutItem", b, 20.0 + index, ms=5.0,
                                  aws__dynamodb__table_names=["orders"])
        assert write is not None
        writes.append(write)
    stream = TraceBuilder(start=T0 + 1, number=2)  # a batch starts a new trace
    links = tuple(SpanLink(write.trace_id, write.span_id) for write in writes)
    poller = stream.dispatch("C", None, 0.0)  # its parent is no span at all
    poller = replace(poller, parent_span_id="00000000deadbeef")
    stream.spans[-1] = poller
    consumer = stream.span("C", SpanKind.CONSUMER, poller, 0.0, 12.0, {
        "faas.name": "C", "messaging.system": "ripple", "ripple.lambda.attempt": 1}, links=links)
    stream.span("C", SpanKind.SERVER, consumer, 1.0, 10.0, {
        "faas.name": "C", "faas.invocation_id": "req-c", "faas.trigger": "datasource"})
    return Chain(trace, stream, writes)


def by_name(graph: dict[str, Any], name: str, type_: str) -> dict[str, Any]:
    """The service of that name and type in a service graph."""
    return next(s for s in graph["Services"] if s["Name"] == name and s["Type"] == type_)


def edge(graph: dict[str, Any], source: tuple[str, str], target: tuple[str, str]
         ) -> dict[str, Any]:
    """The edge from one (name, type) to another in a service graph."""
    target_id = by_name(graph, *target)["ReferenceId"]
    return next(e for e in by_name(graph, *source)["Edges"] if e["ReferenceId"] == target_id)


def weighted(spans: list[Span], weight: int) -> list[Span]:
    """`spans` with their first trace kept by a sampler's rate: one span carries the weight."""
    first = spans[0]
    return [replace(first, attributes={**first.attributes, WEIGHT: weight}), *spans[1:]]
