"""Decoding OTLP exports: protobuf as the OTel SDK encodes it, and OTLP/JSON written by hand
as the specification shows it (hex ids, enums as numbers or names, 64-bit ints as strings)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Status
from opentelemetry.trace import SpanKind as OtelKind
from opentelemetry.trace import StatusCode as OtelStatus

from tracing.errors import TracingError
from tracing.otlp.json_format import decode as decode_json
from tracing.otlp.protobuf_format import decode_protobuf
from tracing.spans import SpanKind, StatusCode


def sdk_spans() -> list[ReadableSpan]:
    """A CONSUMER span with an event, a link and an error status, and its CLIENT child."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "ripple-worker",
                                                        "host.name": "laptop"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("seed") as seed:
        pass
    with tracer.start_as_current_span(
            "resize", kind=OtelKind.CONSUMER, links=[Link(seed.get_span_context(), {"n": 1})],
            attributes={"faas.name": "resize", "faas.coldstart": True, "ratio": 0.5,
                        "ripple.lambda.attempt": 2, "tags": ("a", "b")}) as consumer:
        consumer.add_event("exception", {"exception.type": "ValueError"})
        consumer.set_status(Status(OtelStatus.ERROR, "boom"))
        with tracer.start_as_current_span("S3.PutObject", kind=OtelKind.CLIENT,
                                          attributes={"aws.s3.bucket": "thumbs"}):
            pass
    provider.shutdown()
    return list(exporter.get_finished_spans())


def test_protobuf_keeps_everything_the_sdk_sent() -> None:
    # Given spans encoded exactly as the OTLP/HTTP exporter encodes them
    finished = sdk_spans()
    body = encode_spans(finished).SerializeToString()

    # When the body is decoded
    spans = {span.name: span for span in decode_protobuf(body)}

    # Then ids, kind, status, attributes, resource, events and links are all there
    original = {span.name: span for span in finished}
    consumer, client = spans["resize"], spans["S3.PutObject"]
    assert consumer.trace_id == f"{original['resize'].context.trace_id:032x}"
    assert consumer.span_id == f"{original['resize'].context.span_id:016x}"
    assert consumer.parent_span_id is None
    assert client.parent_span_id == consumer.span_id
    assert (consumer.kind, client.kind) == (SpanKind.CONSUMER, SpanKind.CLIENT)
    assert (consumer.status, consumer.status_message) == (StatusCode.ERROR, "boom")
    assert consumer.attributes == {"faas.name": "resize", "faas.coldstart": True, "ratio": 0.5,
                                   "ripple.lambda.attempt": 2, "tags": ["a", "b"]}
    assert consumer.resource["service.name"] == "ripple-worker"
    assert consumer.resource["host.name"] == "laptop"
    assert consumer.start_ns == original["resize"].start_time
    assert consumer.end_ns == original["resize"].end_time
    (event,) = consumer.events
    assert (event.name, event.attributes) == ("exception", {"exception.type": "ValueError"})
    assert event.time_ns == original["resize"].events[0].timestamp
    (link,) = consumer.links
    assert (link.trace_id, link.span_id) == (spans["seed"].trace_id, spans["seed"].span_id)
    assert link.attributes == {"n": 1}


def spec_example(**span: Any) -> dict[str, Any]:
    """OTLP/JSON as the specification's example writes it, with `span` merged in."""
    return {"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "ripple-endpoint"}}]},
        "scopeSpans": [{
            "scope": {"name": "my.library", "version": "1.0.0"},
            "spans": [{
                "traceId": "5B8EFFF798038103D269B633813FC60C",
                "spanId": "EEE19B7EC3C1B174",
                "parentSpanId": "EEE19B7EC3C1B173",
                "name": "I'm a server span",
                "startTimeUnixNano": "1544712660000000000",
                "endTimeUnixNano": 1544712661000000000,
                "kind": 2,
                "attributes": [{"key": "my.span.attr", "value": {"stringValue": "some value"}}],
                **span}]}]}]}


def test_json_reads_hex_ids_and_every_value_type() -> None:
    # Given an OTLP/JSON export with hex ids, a named enum, string int64s and nested values
    body = json.dumps(spec_example(
        kind="SPAN_KIND_PRODUCER",
        status={"code": "STATUS_CODE_ERROR", "message": "throttled"},
        attributes=[
            {"key": "s", "value": {"stringValue": "text"}},
            {"key": "i", "value": {"intValue": "42"}},
            {"key": "j", "value": {"intValue": 7}},
            {"key": "d", "value": {"doubleValue": 1.5}},
            {"key": "b", "value": {"boolValue": True}},
            {"key": "raw", "value": {"bytesValue": base64.b64encode(b"\x00\x01").decode()}},
            {"key": "list", "value": {"arrayValue": {"values": [
                {"stringValue": "orders"}, {"intValue": "3"}]}}},
            {"key": "map", "value": {"kvlistValue": {"values": [
                {"key": "inner", "value": {"boolValue": False}}]}}},
            {"key": "empty", "value": {}}],
        events=[{"timeUnixNano": "1544712660500000000", "name": "retry",
                 "attributes": [{"key": "attempt", "value": {"intValue": "2"}}]}],
        links=[{"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
                "attributes": [{"key": "batch", "value": {"intValue": "1"}}]}],
        unknownField="ignored")).encode()

    # When it is decoded
    (span,) = decode_json(body)

    # Then ids are lowercase hex and every value has its plain Python type
    assert span.trace_id == "5b8efff798038103d269b633813fc60c"
    assert span.span_id == "eee19b7ec3c1b174"
    assert span.parent_span_id == "eee19b7ec3c1b173"
    assert span.kind == SpanKind.PRODUCER
    assert (span.status, span.status_message) == (StatusCode.ERROR, "throttled")
    assert (span.start_ns, span.end_ns) == (1544712660000000000, 1544712661000000000)
    assert span.attributes == {"s": "text", "i": 42, "j": 7, "d": 1.5, "b": True,
                               "raw": "AAE=", "list": ["orders", 3], "map": {"inner": False},
                               "empty": None}
    assert span.resource == {"service.name": "ripple-endpoint"}
    (event,) = span.events
    assert (event.name, event.time_ns, event.attributes) == (
        "retry", 1544712660500000000, {"attempt": 2})
    (link,) = span.links
    assert (link.trace_id, link.span_id, link.attributes) == (
        "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", {"batch": 1})


def test_json_accepts_snake_case_field_names_and_a_root_span() -> None:
    # Given the proto field names instead of lowerCamelCase, and no parent
    body = json.dumps({"resource_spans": [{"scope_spans": [{"spans": [{
        "trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331",
        "parent_span_id": "", "name": "root", "kind": 1,
        "start_time_unix_nano": "1", "end_time_unix_nano": "2"}]}]}]}).encode()

    # When it is decoded
    (span,) = decode_json(body)

    # Then it reads the same, with no resource and no parent
    assert (span.name, span.parent_span_id, span.kind) == ("root", None, SpanKind.INTERNAL)
    assert span.resource == {}


def test_an_empty_export_has_no_spans() -> None:
    assert decode_json(b"{}") == []
    assert decode_protobuf(b"") == []


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b"\xff\xfe", b'{"resourceSpans": "nope"}',
    b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": {}}]}]}]}'])
def test_json_garbage_is_a_tracing_error(body: bytes) -> None:
    with pytest.raises(TracingError):
        decode_json(body)


def test_protobuf_garbage_is_a_tracing_error() -> None:
    with pytest.raises(TracingError, match="not an OTLP"):
        decode_protobuf(b"\xff\xff\xff\xff garbage")


def test_a_bad_id_names_the_field_it_is_in() -> None:
    # Given a JSON span whose trace id is not hex, and one whose span id is too short
    not_hex = json.dumps(spec_example(traceId="zz" * 16)).encode()
    too_short = json.dumps(spec_example(spanId="abcd")).encode()

    # When they are decoded, then the error says which field of which span is wrong
    with pytest.raises(TracingError) as error:
        decode_json(not_hex)
    assert error.value.field == "resourceSpans[0].scopeSpans[0].spans[0].traceId"
    with pytest.raises(TracingError, match="8-byte id") as error:
        decode_json(too_short)
    assert error.value.field == "resourceSpans[0].scopeSpans[0].spans[0].spanId"


def test_an_all_zero_trace_id_is_rejected() -> None:
    with pytest.raises(TracingError, match="non-zero"):
        decode_json(json.dumps(spec_example(traceId="0" * 32)).encode())
