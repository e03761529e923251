"""Segment documents as ripple's spans: ids, times, parents, AWS and remote calls, errors and
causes, annotations and metadata; and the round trip through `tracing/segments.py`."""

from __future__ import annotations

import json
from typing import Any

from tests.tracing import T0, TraceBuilder, chain
from tracing.nodes import BUCKET, FUNCTION, LAMBDA, REMOTE, Node, Outcome, outcome
from tracing.segments import trace_document
from tracing.spans import Span, SpanKind, StatusCode
from tracing.summaries import trace_summaries
from tracing.topology import topology
from tracing.trace_ids import xray_trace_id
from tracing.xray.conversion import spans_of
from tracing.xray.documents import read

TRACE = "1-6553f100-000000000000000000000001"
HEX = "6553f100000000000000000000000001"


def convert(document: dict[str, Any]) -> list[Span]:
    return spans_of(read(json.dumps(document)))


def function_segment() -> dict[str, Any]:
    """A function's segment as an X-Ray SDK writes it: an S3 call, an HTTP call, local work
    that failed, annotations and metadata."""
    return {
        "name": "resize", "id": "1000000000000001", "trace_id": TRACE, "origin": FUNCTION,
        "start_time": T0, "end_time": T0 + 0.5, "parent_id": "2000000000000002",
        "resource_arn": "arn:aws:lambda:us-east-1:000000000000:function:resize",
        "annotations": {"customer": "c-1", "size": 3}, "metadata": {"default": {"k": [1, 2]}},
        "subsegments": [
            {"name": "S3", "id": "1000000000000002", "namespace": "aws", "start_time": T0 + 0.1,
             "end_time": T0 + 0.2, "http": {"response": {"status": 200}},
             "aws": {"operation": "GetObject", "bucket_name": "uploads", "key": "cat.jpg",
                     "region": "us-east-1", "request_id": "r-1"}},
            {"name": "api.example.com", "id": "1000000000000003", "namespace": "remote",
             "start_time": T0 + 0.2, "end_time": T0 + 0.3,
             "http": {"request": {"method": "POST", "url": "https://api.example.com/v1/x"},
                      "response": {"status": 503}}},
            {"name": "work", "id": "1000000000000004", "start_time": T0 + 0.3,
             "end_time": T0 + 0.4, "fault": True, "cause": {"exceptions": [
                 {"id": "3000000000000001", "type": "ValueError", "message": "bad size",
                  "stack": [{"path": "/var/task/app.py", "line": 7, "label": "work"}]}]},
             "subsegments": [{"name": "inner", "id": "1000000000000005",
                              "start_time": T0 + 0.31, "end_time": T0 + 0.32}]}]}


def test_a_segment_and_its_nested_subsegments_become_spans() -> None:
    # When a function's segment is converted
    spans = {span.name: span for span in convert(function_segment())}
    # Then ids, times and parents carry over, the trace id in its 32-hex spelling
    segment, s3, remote, work = spans["resize"], spans["S3"], spans["api.example.com"], spans[
        "work"]
    assert {span.trace_id for span in spans.values()} == {HEX}
    assert (segment.span_id, segment.parent_span_id) == ("1000000000000001", "2000000000000002")
    assert segment.start_ns == int(T0 * 1e9) and segment.end_ns == int((T0 + 0.5) * 1e9)
    assert s3.parent_span_id == work.parent_span_id == segment.span_id
    assert spans["inner"].parent_span_id == work.span_id
    # And the segment enters its function's node; the AWS and remote calls are CLIENT spans
    assert (segment.kind, segment.attributes["faas.name"]) == (SpanKind.SERVER, "resize")
    assert s3.kind == remote.kind == SpanKind.CLIENT and work.kind == SpanKind.INTERNAL
    assert {key: s3.attributes[key] for key in ("rpc.system", "rpc.service", "rpc.method",
                                                "aws.s3.bucket", "aws.s3.key")} == {
        "rpc.system": "aws-api", "rpc.service": "S3", "rpc.method": "GetObject",
        "aws.s3.bucket": "uploads", "aws.s3.key": "cat.jpg"}
    assert remote.attributes["server.address"] == "api.example.com"
    assert remote.attributes["http.response.status_code"] == 503
    # And a fault is an error status with the cause as an exception event
    assert work.status == StatusCode.ERROR and work.status_message == "bad size"
    (event,) = work.events
    assert event.attributes["exception.type"] == "ValueError"
    assert 'File "/var/task/app.py", line 7, in work' in event.attributes["exception.stacktrace"]
    # And annotations and metadata are kept where segments.py and the filters read them
    assert segment.attributes["ripple.annotation.customer"] == "c-1"
    assert segment.attributes["ripple.metadata.default"] == {"k": [1, 2]}


def test_the_nodes_see_the_function_the_bucket_and_the_remote_service() -> None:
    # When the converted spans are split into nodes and calls
    graph = topology(convert(function_segment()))
    # Then the function calls the bucket (by its name, as the rollup counts it) and the API
    calls = {(call.source, call.target) for call in graph.calls}
    resize = Node("resize", FUNCTION)
    assert (resize, Node("uploads", BUCKET)) in calls
    assert (resize, Node("api.example.com", REMOTE)) in calls


def test_an_sdk_lambda_call_is_a_call_to_that_function() -> None:
    # Given the X-Ray SDK's subsegment for boto3's lambda.invoke (named by endpoint prefix)
    document = {"name": "lambda", "id": "1000000000000009", "type": "subsegment",
                "trace_id": TRACE, "parent_id": "1000000000000001", "namespace": "aws",
                "start_time": T0, "end_time": T0 + 0.01,
                "aws": {"operation": "Invoke", "function_name": "thumbs"}}
    # When it is converted
    (call,) = convert(document)
    # Then it is a CLIENT span to X-Ray's "Lambda" service, naming the invoked function
    assert call.parent_span_id == "1000000000000001"
    assert (call.attributes["rpc.service"], call.attributes["faas.invoked_name"]) == (
        "Lambda", "thumbs")
    graph = topology([*convert(function_segment()), call])
    assert (Node("resize", FUNCTION), Node("thumbs", LAMBDA)) in {
        (c.source, c.target) for c in graph.calls}


def test_independent_subsegments_land_under_ripples_invocation() -> None:
    # Given ripple's spans of one invocation, and the subsegments Powertools' Tracer sends
    # with Parent= the Invocation span's id (what _X_AMZN_TRACE_ID names)
    trace = TraceBuilder()
    _, _, invocation = trace.function("resize", None, 0.0, ms=50.0)
    assert invocation is not None
    handler = {"name": "## lambda_handler", "id": "4000000000000001", "type": "subsegment",
               "trace_id": xray_trace_id(trace.trace_id), "parent_id": invocation.span_id,
               "start_time": T0 + 0.003, "end_time": T0 + 0.04,
               "annotations": {"ColdStart": True, "Service": "shop"},
               "subsegments": [{"name": "work", "id": "4000000000000002",
                                "start_time": T0 + 0.01, "end_time": T0 + 0.02}]}
    # When they are converted and BatchGetTraces' documents are made of all the spans
    spans = trace.spans + convert(handler)
    documents = [json.loads(segment["Document"])
                 for segment in trace_document(trace.trace_id, spans)["Segments"]]
    # Then "work" is inside "## lambda_handler", inside the function's Invocation
    function = next(d for d in documents if d.get("origin") == FUNCTION)
    invocation_part = next(s for s in function["subsegments"] if s["name"] == "Invocation")
    (handler_part,) = invocation_part["subsegments"]
    assert handler_part["name"] == "## lambda_handler"
    assert [s["name"] for s in handler_part["subsegments"]] == ["work"]
    assert handler_part["annotations"] == {"ColdStart": True, "Service": "shop"}


def test_in_progress_parts_have_no_end_and_come_back_in_progress() -> None:
    # Given a segment still in progress
    document = {**function_segment(), "in_progress": True, "subsegments": []}
    del document["end_time"]
    # When it is converted and written back as a document
    (span,) = convert(document)
    (written,) = trace_document(HEX, [span])["Segments"]
    # Then the span has no end yet, and the document says in_progress
    assert span.end_ns == 0
    assert json.loads(written["Document"])["in_progress"] is True


def test_the_round_trip_through_segments_gives_the_same_documents() -> None:
    # Given the chain (S3 → A → 10 × B → DynamoDB → stream → C) as BatchGetTraces
    # documents, each trace's
    pipeline = chain()
    for builder in (pipeline.trace, pipeline.stream):
        before = trace_document(builder.trace_id, pipeline.spans)
        # When every document is converted back into spans and written out again
        spans = [span for segment in before["Segments"]
                 for span in spans_of(read(segment["Document"]))]
        after = trace_document(builder.trace_id, spans + pipeline.stream.spans
                               if builder is pipeline.trace else spans + pipeline.trace.spans)
        # Then the documents are the same, field for field
        assert [json.loads(s["Document"]) for s in after["Segments"]] == [
            json.loads(s["Document"]) for s in before["Segments"]]


def test_annotations_match_filter_expressions() -> None:
    # Given a trace whose segment carries annotations
    spans = convert(function_segment())
    # When the trace summaries are filtered by them
    match = trace_summaries({HEX: spans}, 'annotation.customer = "c-1" AND annotation.size = 3')
    miss = trace_summaries({HEX: spans}, 'annotation.customer = "c-2"')
    # Then the annotation filters select the trace, and its summary lists them
    assert [summary["Id"] for summary in match] == [TRACE] and miss == []
    assert "customer" in match[0]["Annotations"]


def test_error_and_throttle_flags_without_a_status_are_kept() -> None:
    # Given subsegments flagged error and throttle by an SDK, with no HTTP status
    segment = function_segment()
    segment["subsegments"] = [
        {"name": "validate", "id": "1000000000000006", "start_time": T0 + 0.1,
         "end_time": T0 + 0.2, "error": True},
        {"name": "quota", "id": "1000000000000007", "start_time": T0 + 0.2,
         "end_time": T0 + 0.3, "error": True, "throttle": True}]
    # When they are converted and written out again
    spans = {span.name: span for span in convert(segment)}
    document = json.loads(trace_document(HEX, list(spans.values()))["Segments"][0]["Document"])
    flags = {part["name"]: (part.get("error"), part.get("throttle"), part.get("fault"))
             for part in document["subsegments"]}
    # Then each keeps its outcome, in the spans and in the documents
    assert outcome(spans["validate"]) == Outcome.ERROR
    assert outcome(spans["quota"]) == Outcome.THROTTLE
    assert flags == {"validate": (True, False, False), "quota": (True, True, False)}


def test_metadata_keeps_its_own_namespaces() -> None:
    # Given a segment with metadata in the SDK's `default` namespace
    spans = convert(function_segment())
    # When it is written out as a segment document again
    document = json.loads(trace_document(HEX, spans)["Segments"][0]["Document"])
    # Then the namespace comes back under its own name, not inside ripple's
    assert document["metadata"]["default"] == {"k": [1, 2]}
    assert "metadata.default" not in document["metadata"].get("ripple", {})
