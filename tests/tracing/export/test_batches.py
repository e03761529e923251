"""Spans batched as OTLP/JSON documents: a span recorded after the fact and a live SDK span
reach a real receiver as the SDK's own exporters would send them, a flush waits for what was
queued before it, and a full queue drops and counts instead of blocking."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from tests.tracing.otlp.test_protobuf_format import sdk_spans
from tests.tracing.test_receiver import receiver_app, serving
from tracing.export.batches import BatchedSpans, SpanBatcher
from tracing.export.http_json import JsonSpanExporter
from tracing.otlp import json_format as otlp_json
from tracing.recorder import SAMPLED, DocumentRecorder
from tracing.setup import CountingExporter
from tracing.spans import SpanKind as StoredKind
from tracing.spans import StatusCode as StoredStatus
from tracing.store.database import SpanStore

RESOURCE = {"service.name": "ripple-worker"}


def test_a_recorded_span_and_a_live_one_reach_the_receiver_in_one_batch(
        store: SpanStore) -> None:
    # Given a batcher posting to a real receiver, a recorder into it, and a provider whose
    # live spans go to it too
    with serving(receiver_app(store)) as url:
        counting = CountingExporter(JsonSpanExporter(f"{url}/v1/traces", timeout=2))
        batcher = SpanBatcher(counting.post, RESOURCE, close=counting.shutdown, delay=60)
        provider = TracerProvider(resource=Resource.create(RESOURCE))
        provider.add_span_processor(BatchedSpans(batcher))
        recorder = DocumentRecorder(batcher, provider, "ripple.worker")
        parent = SpanContext(0x5F0000000000000000000000000001, 0xAB, is_remote=True,
                             trace_flags=SAMPLED)

        # When a failed SERVER span with a link is recorded, a live span ends, and the batcher
        # is flushed
        recorded = recorder.record(
            "resize", parent, 1_000, 5_000, kind=SpanKind.SERVER,
            attributes={"faas.name": "resize", "ripple.lambda.attempt": 2},
            links=[Link(parent)], status=Status(StatusCode.ERROR, "boom"))
        with provider.get_tracer("test").start_as_current_span("live"):
            pass
        assert batcher.flush(5)
        provider.shutdown()

    # Then both were stored from one export request, as the store keeps spans
    assert counting.exported == 2 and counting.dropped == 0
    [stored] = store.trace(f"{parent.trace_id:032x}")
    assert (stored.span_id, stored.parent_span_id) == (f"{recorded.span_id:016x}",
                                                      f"{parent.span_id:016x}")
    assert (stored.name, stored.kind, stored.start_ns, stored.end_ns) == (
        "resize", StoredKind.SERVER, 1_000, 5_000)
    assert stored.attributes == {"faas.name": "resize", "ripple.lambda.attempt": 2}
    assert (stored.status, stored.status_message) == (StoredStatus.ERROR, "boom")
    assert [link.span_id for link in stored.links] == [f"{parent.span_id:016x}"]
    assert stored.resource == RESOURCE
    assert store.count() == 2


def test_documents_say_what_the_sdk_exporter_says() -> None:
    # Given SDK spans with links, events, an error status and every attribute type
    finished = sdk_spans()
    posted: list[bytes] = []
    batcher = SpanBatcher(lambda body, count: posted.append(body), finished[0].resource.attributes,
                          delay=60)
    processor = BatchedSpans(batcher)

    # When they go through the batcher
    for span in finished:
        processor.on_end(span)
    assert batcher.flush(5)
    batcher.shutdown()

    # Then they read back exactly as the exporter's own encoding of them does
    assert [span for body in posted for span in otlp_json.decode(body)] == otlp_json.decode(
        otlp_json.encode(finished))


def test_a_full_queue_drops_and_counts_instead_of_blocking(
        caplog: pytest.LogCaptureFixture) -> None:
    # Given a batcher whose queue holds two spans and whose thread is not due for a minute
    posted: list[int] = []
    batcher = SpanBatcher(lambda body, count: posted.append(count), RESOURCE, queue_size=2,
                          delay=60, batch_size=100)

    # When five spans are added
    for number in range(5):
        batcher.add(("test", ""), otlp_json.span_document, 1, number + 1, None, "span",
                    StoredKind.INTERNAL, 0, 1, None, Status())

    # Then two are posted at the flush and three were dropped, said once
    assert batcher.flush(5)
    assert posted == [2] and batcher.dropped == 3
    assert [record.getMessage() for record in caplog.records] == [
        "span queue full: 1 spans dropped so far"]
    batcher.shutdown()


def test_an_unencodable_span_costs_only_itself() -> None:
    # Given a span whose parts cannot be encoded, between two good ones
    posted: list[bytes] = []
    batcher = SpanBatcher(lambda body, count: posted.append(body), RESOURCE, delay=60)
    good = (1, 2, None, "good", StoredKind.INTERNAL, 0, 1, None, Status())
    batcher.add(("test", ""), otlp_json.span_document, *good)
    batcher.add(("test", ""), otlp_json.span_document, "not a trace id", *good[1:])
    batcher.add(("test", ""), otlp_json.span_document, *good)

    # When the batch is sent, then the two good spans are, and the bad one is counted
    assert batcher.flush(5)
    assert [span.name for span in otlp_json.decode(posted[0])] == ["good", "good"]
    assert batcher.dropped == 1
    batcher.shutdown()
