"""Spans recorded after the fact: an `OpenSpan` recorded straight into a sink arrives as the
store keeps spans, with the ids its children were given, its parent, its status and its
exception event."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanContext, SpanKind

from tracing.recorder import SAMPLED, OpenSpan, SinkRecorder
from tracing.spans import Span
from tracing.spans import SpanKind as StoredKind
from tracing.spans import StatusCode as StoredStatus


class Sink:
    def __init__(self) -> None:
        self.spans: list[Span] = []

    def add(self, spans: Sequence[Span]) -> int:
        self.spans += spans
        return len(spans)

    def settle(self) -> bool:
        return True


def test_an_open_span_is_recorded_into_the_sink_as_the_store_keeps_it() -> None:
    # Given a recorder into a sink, and a span opened under a remote parent
    sink = Sink()
    recorder = SinkRecorder(sink, TracerProvider(resource=Resource.create(
        {"service.name": "ripple-endpoint"})))
    parent = SpanContext(0x5F0000000000000000000000000001, 0xAB, is_remote=True,
                         trace_flags=SAMPLED)
    span = OpenSpan(recorder, "S3", SpanKind.SERVER, parent, parent.trace_id,
                    {"rpc.service": "S3"}, start_ns=1_000)
    child_parent = span.context

    # When the call names its operation, fails, and the span ends
    span.name = "S3.PutObject"
    span.attributes["http.response.status_code"] = 500
    span.record_exception(RuntimeError("disk full"))
    span.end(5_000)

    # Then the sink holds it with the id its children were given, its parent and its failure
    [stored] = sink.spans
    assert (stored.trace_id, stored.span_id) == (f"{parent.trace_id:032x}",
                                                 f"{child_parent.span_id:016x}")
    assert stored.parent_span_id == f"{parent.span_id:016x}"
    assert (stored.name, stored.kind, stored.start_ns, stored.end_ns) == (
        "S3.PutObject", StoredKind.SERVER, 1_000, 5_000)
    assert stored.attributes == {"rpc.service": "S3", "http.response.status_code": 500}
    assert (stored.status, stored.status_message) == (StoredStatus.ERROR, "disk full")
    assert [event.name for event in stored.events] == ["exception"]
    assert stored.events[0].attributes["exception.type"] == "RuntimeError"
    assert stored.resource["service.name"] == "ripple-endpoint"
