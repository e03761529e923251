"""Segment documents: X-Ray's schema, the rules it does not check, and 64 KB per document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.tracing import T0, TraceBuilder, chain
from tracing.nodes import BUCKET, FUNCTION, LAMBDA, STAGE, TABLE
from tracing.segments import MAX_DOCUMENT, trace_document
from tracing.spans import Span, SpanEvent, SpanKind, StatusCode
from tracing.trace_ids import xray_trace_id

# A copy of shared/reference/'s X-Ray segment document schema (cookpad/aws-xray spec/schema).
SCHEMA = Path(__file__).with_name("xray-segmentdocument-schema-v1.0.0.json")
TIMEOUT_TRACE = """Traceback (most recent call last):
  File "/var/task/app.py", line 12, in handler
    resize(image)
  File "/var/task/app.py", line 30, in resize
    time.sleep(10)
"""


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))


def _walk(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield document
    for sub in document.get("subsegments", []):
        yield from _walk(sub)


def check(trace: dict[str, Any], validator: jsonschema.Draft4Validator) -> list[dict[str, Any]]:
    """Every rule a document must meet; returns the parsed documents."""
    documents = []
    for segment in trace["Segments"]:
        assert len(segment["Document"].encode()) <= MAX_DOCUMENT
        document = json.loads(segment["Document"])
        errors = [error.message for error in validator.iter_errors(document)]
        assert not errors, (errors, segment["Document"][:500])
        assert segment["Id"] == document["id"] and document["trace_id"] == trace["Id"]
        if document.get("type") == "subsegment":
            assert len(document["parent_id"]) == 16
        for part in _walk(document):
            assert {"name", "id", "start_time"} <= part.keys() and part["name"]
            assert ("end_time" in part) != bool(part.get("in_progress")), part
            if "end_time" in part:
                assert part["end_time"] >= part["start_time"]
        documents.append(document)
    ids = [part["id"] for document in documents for part in _walk(document)]
    assert len(ids) == len(set(ids))
    return documents


def test_the_chain_has_one_segment_per_node_occurrence(validator: Any) -> None:
    spans = chain().spans
    trace = trace_document(spans[0].trace_id, spans)
    documents = check(trace, validator)
    origins = [document["origin"] for document in documents]
    # S3's bucket, A's service and function, 10 × (B's service and function, the table)
    assert origins.count(BUCKET) == 1 and origins.count(LAMBDA) == 11
    assert origins.count(FUNCTION) == 11 and origins.count(TABLE) == 10
    assert trace["Id"] == xray_trace_id(spans[0].trace_id) and trace["LimitExceeded"] is False
    assert 0.05 < trace["Duration"] < 0.1


def test_a_cold_start_function_segment_has_its_parts_and_aws_calls(validator: Any) -> None:
    spans = chain().spans
    documents = check(trace_document(spans[0].trace_id, spans), validator)
    a = next(d for d in documents if d["name"] == "A" and d["origin"] == FUNCTION)
    assert [sub["name"] for sub in a["subsegments"]] == ["Initialization", "Invocation",
                                                         "Overhead"]
    assert a["resource_arn"].endswith(":function:A") and a["annotations"] == {"stage": "test"}
    invoke = a["subsegments"][1]["subsegments"][0]
    assert invoke["name"] == "Lambda" and invoke["namespace"] == "aws"
    assert invoke["aws"] == {"operation": "Invoke", "function_name": "B"}
    assert invoke["http"] == {"response": {"status": 202}}
    b = next(d for d in documents if d["name"] == "B" and d["origin"] == FUNCTION)
    put = b["subsegments"][0]["subsegments"][0]
    assert put["name"] == "DynamoDB" and put["aws"]["table_name"] == "orders"
    assert put["aws"]["operation"] == "PutItem"
    # And B's service segment hangs under the PRODUCER span that queued it
    b_service = next(d for d in documents if d["id"] == b["parent_id"])
    assert b_service["origin"] == LAMBDA and b_service["parent_id"]


def test_a_fault_carries_its_cause(validator: Any) -> None:
    trace = TraceBuilder()
    _, handler, _ = trace.function("slow", None, 0.0, error_type="Sandbox.Timedout")
    assert handler is not None and trace.spans[1] is handler
    crashed = replace(handler, events=(SpanEvent(
        "exception", handler.end_ns, {
            "exception.type": "Sandbox.Timedout",
            "exception.message": "Task timed out after 3.00 seconds",
            "exception.stacktrace": TIMEOUT_TRACE}),))
    trace.spans[1] = crashed
    documents = check(trace_document(trace.trace_id, trace.spans), validator)
    function = next(d for d in documents if d["origin"] == FUNCTION)
    assert function["fault"] is True and function["error"] is False
    exception = function["cause"]["exceptions"][0]
    assert exception["type"] == "Sandbox.Timedout" and "timed out" in exception["message"]
    assert [frame["label"] for frame in exception["stack"]] == ["handler", "resize"]
    service = next(d for d in documents if d["origin"] == LAMBDA)
    assert "fault" not in service  # the Lambda service itself did its job


def test_errors_and_throttles_are_flagged(validator: Any) -> None:
    trace = TraceBuilder()
    trace.function("busy", None, 0.0, throttled=True)
    _, _, invocation = trace.function("f", None, 10.0)
    assert invocation is not None
    trace.aws_call("S3", "GetObject", invocation, 12.0, status=404, aws__s3__bucket="uploads")
    documents = check(trace_document(trace.trace_id, trace.spans), validator)
    busy = next(d for d in documents if d["name"] == "busy")
    assert busy["throttle"] is True and busy["error"] is True and busy["fault"] is False
    bucket = next(d for d in documents if d["origin"] == BUCKET)
    assert bucket["error"] is True and bucket["throttle"] is False
    assert bucket["aws"] == {"operation": "GetObject", "bucket_name": "uploads"}
    function = next(d for d in documents if d["origin"] == FUNCTION)
    get = function["subsegments"][0]["subsegments"][0]
    assert get["error"] is True and get["http"]["response"]["status"] == 404


def test_an_api_gateway_stage_named_default_gets_a_name_x_ray_accepts(validator: Any) -> None:
    trace = TraceBuilder()
    stage = trace.span("GET /thumbs/{id}", SpanKind.SERVER, None, 0.0, 30.0, {
        "ripple.apigateway.stage": "$default", "http.request.method": "GET",
        "http.route": "/thumbs/{id}", "url.path": "/thumbs/7", "server.address": "127.0.0.1",
        "server.port": 3000, "http.response.status_code": 502}, status=StatusCode.ERROR)
    trace.function("thumbs", trace.dispatch("thumbs", stage, 1.0), 2.0)
    documents = check(trace_document(trace.trace_id, trace.spans), validator)
    gateway = documents[0]
    assert gateway["origin"] == STAGE and gateway["name"] == "_default"
    assert gateway["http"] == {"request": {"method": "GET",
                                           "url": "http://127.0.0.1:3000/thumbs/7"},
                               "response": {"status": 502}}
    assert gateway["fault"] is True


def test_an_unfinished_span_is_in_progress(validator: Any) -> None:
    trace = TraceBuilder()
    trace.function("f", None, 0.0)
    trace.spans[1] = replace(trace.spans[1], end_ns=0)
    documents = check(trace_document(trace.trace_id, trace.spans), validator)
    function = next(d for d in documents if d["origin"] == FUNCTION)
    assert function["in_progress"] is True and "end_time" not in function


def test_a_1000_span_fan_out_is_split_into_documents_within_64_kb(validator: Any) -> None:
    # Given a function that makes 1,000 S3 calls, each with long attributes
    trace = TraceBuilder()
    _, _, invocation = trace.function("fan", None, 0.0, ms=5000.0)
    assert invocation is not None
    for index in range(1000):
        trace.aws_call("S3", "PutObject", invocation, 1.0 + index * 4, server=False,
                       aws__s3__bucket="uploads", aws__s3__key=f"out/{index:06d}/" + "k" * 200)
    # When its trace document is built
    trace_doc = trace_document(trace.trace_id, trace.spans)
    documents = check(trace_doc, validator)
    # Then it spans several documents, none over 64 KB, and loses no subsegment
    assert len(documents) > 2
    independent = [d for d in documents if d.get("type") == "subsegment"]
    assert independent and all(d["parent_id"] for d in independent)
    known = {part["id"] for document in documents for part in _walk(document)}
    assert {d["parent_id"] for d in independent} <= known
    calls = [part for document in documents for part in _walk(document)
             if part.get("namespace") == "aws"]
    assert len(calls) == 1000


def test_oversized_attributes_are_cut_to_fit(validator: Any) -> None:
    trace = TraceBuilder()
    trace.span("f", SpanKind.SERVER, None, 0.0, 5.0, {
        "faas.name": "f", "ripple.annotation.blob": "x" * 5000,
        "ripple.payload": "y" * 200_000, "url.full": "https://example.com/" + "z" * 1000},
        status=StatusCode.ERROR, message="m" * 100_000)
    documents = check(trace_document(trace.trace_id, trace.spans), validator)
    assert len(documents) == 1
    assert len(documents[0]["annotations"]["blob"]) == 1000
    assert len(documents[0]["http"]["request"]["url"]) == 250


def test_documents_of_several_traces_all_validate(validator: Any) -> None:
    traces: list[list[Span]] = []
    for number, shape in enumerate(("ok", "cold", "error", "throttle", "fault"), start=1):
        trace = TraceBuilder(start=T0 + number, number=number)
        _, _, invocation = trace.function(
            shape, None, 0.0, cold=shape == "cold", throttled=shape == "throttle",
            error_type="ValueError" if shape == "fault" else None, owner="team-a", retries=2,
            flaky=False)
        if invocation is not None:
            trace.aws_call("DynamoDB", "BatchWriteItem", invocation, 5.0,
                           status=400 if shape == "error" else 200,
                           aws__dynamodb__table_names=["orders", "totals"])
        traces.append(trace.spans)
    for spans in traces:
        check(trace_document(spans[0].trace_id, spans), validator)
