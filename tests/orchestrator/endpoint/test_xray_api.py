"""X-Ray's API and ripple's trace API over a real socket: boto3's X-Ray client, routed by its
SigV4 credential scope as on the endpoint, parses every answer; ripple's own routes give the
same shapes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from fastapi import FastAPI

from orchestrator.endpoint import traces_api as api
from orchestrator.endpoint import xray_api
from orchestrator.endpoint.routing import ServiceRouter
from tests.tracing import T0, Chain, TraceBuilder, by_name, chain, edge
from tests.tracing.test_receiver import serving
from tracing.spans import SpanKind
from tracing.store.database import SpanStore
from tracing.trace_ids import xray_trace_id
from tracing.xray.ingest import SegmentIngest

FUNCTION = "AWS::Lambda::Function"
WINDOW = {"StartTime": T0 - 10, "EndTime": T0 + 10}


@pytest.fixture
def pipeline(store: SpanStore) -> Chain:
    """The issue's chain (S3 → A → 10 × B → DynamoDB → stream → C), stored."""
    stored = chain()
    store.add(stored.spans)
    return stored


@pytest.fixture
def url(store: SpanStore) -> Iterator[str]:
    """ripple's app with the trace API, and X-Ray behind the SigV4 router, as the endpoint."""
    app = FastAPI()
    app.state.span_store = store
    app.state.xray_segments = segments = SegmentIngest(store)
    app.include_router(api.router)
    with serving(ServiceRouter(app, {"xray": xray_api.create_app(lambda: store, segments)})
                 ) as base:
        yield base


@pytest.fixture
def xray(url: str) -> Any:
    return boto3.client("xray", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


def test_get_service_graph_maps_the_chain(xray: Any, pipeline: Chain) -> None:
    # When boto3 asks for the service graph around the chain
    graph = xray.get_service_graph(**WINDOW)

    # Then it parses, with the chain's nodes and edges
    names = {(service["Name"], service["Type"]) for service in graph["Services"]}
    assert {("A", FUNCTION), ("B", FUNCTION), ("C", FUNCTION), ("uploads", "AWS::S3::Bucket"),
            ("orders", "AWS::DynamoDB::Table")} <= names
    assert graph["StartTime"].timestamp() == pytest.approx(T0 - 10)
    assert edge(graph, ("B", FUNCTION), ("orders", "AWS::DynamoDB::Table"))[
        "SummaryStatistics"]["TotalCount"] == 10
    assert by_name(graph, "B", FUNCTION)["SummaryStatistics"]["FaultStatistics"][
        "TotalCount"] == 1


def test_get_trace_summaries_filters_with_xray_expressions(xray: Any, pipeline: Chain) -> None:
    # When boto3 lists the traces, all of them and then through filter expressions
    everything = xray.get_trace_summaries(**WINDOW)
    only_c = xray.get_trace_summaries(**WINDOW, FilterExpression='service("C")',
                                      Sampling=False)
    faults = xray.get_trace_summaries(**WINDOW, FilterExpression="fault")

    # Then summaries parse, latest trace first, with X-Ray ids, and filters select
    first, stream = (xray_trace_id(pipeline.trace.trace_id),
                     xray_trace_id(pipeline.stream.trace_id))
    assert [summary["Id"] for summary in everything["TraceSummaries"]] == [stream, first]
    assert everything["TracesProcessedCount"] == 2
    assert [summary["Id"] for summary in only_c["TraceSummaries"]] == [stream]
    assert [summary["Id"] for summary in faults["TraceSummaries"]] == [first]
    assert faults["TraceSummaries"][0]["HasFault"] is True


def test_trace_summaries_page_with_next_token(xray: Any, store: SpanStore) -> None:
    # Given 150 one-span traces
    for number in range(150):
        trace = TraceBuilder(start=T0 + number / 1000, number=number + 1)
        trace.span("work", attributes={"faas.name": "f"})
        store.add(trace.spans)

    # When boto3's paginator walks the summaries
    pages = list(xray.get_paginator("get_trace_summaries").paginate(**WINDOW))

    # Then they come in two pages, every trace once
    assert [len(page["TraceSummaries"]) for page in pages] == [100, 50]
    assert len({summary["Id"] for page in pages for summary in page["TraceSummaries"]}) == 150


def test_batch_get_traces_returns_segment_documents(xray: Any, pipeline: Chain) -> None:
    # Given the chain's two traces and one nobody recorded
    first, stream = (xray_trace_id(pipeline.trace.trace_id),
                     xray_trace_id(pipeline.stream.trace_id))
    unknown = "1-5f000000-000000000000000000000099"

    # When boto3 asks for all three
    found = xray.batch_get_traces(TraceIds=[first, stream, unknown])

    # Then the known ones come as segment documents and the unknown one is unprocessed
    assert [trace["Id"] for trace in found["Traces"]] == [first, stream]
    assert found["UnprocessedTraceIds"] == [unknown]
    documents = [json.loads(segment["Document"]) for segment in found["Traces"][0]["Segments"]]
    assert {document["trace_id"] for document in documents} == {first}
    assert {"A", "B"} <= {document["name"] for document in documents}
    assert found["Traces"][0]["Duration"] > 0


def test_get_trace_graph_lists_a_traces_services(xray: Any, pipeline: Chain) -> None:
    graph = xray.get_trace_graph(TraceIds=[xray_trace_id(pipeline.trace.trace_id)])
    names = {(service["Name"], service["Type"]) for service in graph["Services"]}
    assert {("A", FUNCTION), ("B", FUNCTION), ("orders", "AWS::DynamoDB::Table")} <= names
    assert ("C", FUNCTION) not in names


@pytest.mark.parametrize(("call", "arguments", "says"), [
    ("get_trace_summaries", {**WINDOW, "FilterExpression": 'service("C"'}, "column"),
    ("get_trace_summaries", {"StartTime": T0, "EndTime": T0 - 1}, "before StartTime"),
    ("get_trace_summaries", {**WINDOW, "NextToken": "not-ours"}, "NextToken"),
    ("batch_get_traces", {"TraceIds": ["1-nothex"]}, "not a trace id"),
    ("get_trace_graph", {"TraceIds": ["abc"]}, "not a trace id"),
    ("put_trace_segments", {"TraceSegmentDocuments": []}, "TraceSegmentDocuments is required"),
])
def test_bad_requests_are_invalid_request_exceptions(
        xray: Any, call: str, arguments: dict[str, Any], says: str) -> None:
    # When boto3 sends a request X-Ray would refuse
    with pytest.raises(ClientError) as error:
        getattr(xray, call)(**arguments)

    # Then botocore reads X-Ray's error: its code, a 400 and a message saying why
    assert error.value.response["Error"]["Code"] == "InvalidRequestException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert says in error.value.response["Error"]["Message"]
    assert isinstance(error.value, xray.exceptions.InvalidRequestException)


def test_an_operation_ripple_lacks_is_reported_as_such(xray: Any) -> None:
    with pytest.raises(ClientError) as error:
        xray.get_sampling_rules()
    assert error.value.response["Error"]["Code"] == "UnknownOperationException"


def test_put_trace_segments_stores_documents_and_lists_the_refused(xray: Any,
                                                                    url: str) -> None:
    # Given a function segment with a subsegment, and two documents X-Ray would refuse
    trace_id = "1-6553f100-00000000000000000000abcd"
    segment = {"name": "resize", "id": "1000000000000001", "trace_id": trace_id,
               "origin": FUNCTION, "start_time": T0, "end_time": T0 + 0.5,
               "annotations": {"customer": "c-1"},
               "subsegments": [{"name": "work", "id": "1000000000000002",
                                "start_time": T0 + 0.1, "end_time": T0 + 0.2}]}
    no_end = {**segment, "id": "1000000000000003", "end_time": None}

    # When boto3 puts them
    answer = xray.put_trace_segments(TraceSegmentDocuments=[
        json.dumps(segment), json.dumps(no_end), "{not json"])

    # Then the refused ones come back with X-Ray's codes, the good one by its id
    assert [(item.get("Id"), item["ErrorCode"]) for item in answer["UnprocessedTraceSegments"]
            ] == [("1000000000000003", "MissingEndTime"), (None, "InvalidJson")]
    assert "end_time is required" in answer["UnprocessedTraceSegments"][0]["Message"]
    # And BatchGetTraces gives the stored segment back, its subsegment and annotation too
    (trace,) = xray.batch_get_traces(TraceIds=[trace_id])["Traces"]
    (document,) = [json.loads(s["Document"]) for s in trace["Segments"]]
    assert (document["name"], document["origin"]) == ("resize", FUNCTION)
    assert [sub["name"] for sub in document["subsegments"]] == ["work"]
    assert document["annotations"] == {"customer": "c-1"}
    # And the tracing route counts what came in
    figures = get(url, "/_ripple/api/tracing").json()
    assert (figures["xray_documents_received"], figures["xray_documents_rejected"],
            figures["xray_spans_stored"]) == (3, 2, 2)


# ripple's own trace API ---------------------------------------------------------------------

def get(url: str, path: str, **params: Any) -> httpx.Response:
    return httpx.get(url + path, params=params, timeout=10)


def test_the_servicemap_route_is_get_service_graph(url: str, xray: Any,
                                                   pipeline: Chain) -> None:
    # When the map is read through ripple's route and through X-Ray's API
    ours = get(url, "/_ripple/api/servicemap", start=T0 - 10, end=T0 + 10)
    theirs = xray.get_service_graph(**WINDOW)

    # Then both describe the same services
    assert ours.status_code == 200
    assert {(s["Name"], s["Type"]) for s in ours.json()["Services"]} == {
        (s["Name"], s["Type"]) for s in theirs["Services"]}


def test_the_traces_route_filters_and_limits(url: str, pipeline: Chain) -> None:
    everything = get(url, "/_ripple/api/traces", start=T0 - 10, end=T0 + 10).json()
    only_c = get(url, "/_ripple/api/traces", start=T0 - 10, end=T0 + 10,
                 filter='service("C")').json()
    one = get(url, "/_ripple/api/traces", start=T0 - 10, end=T0 + 10, limit=1).json()
    assert len(everything["TraceSummaries"]) == 2
    assert [s["Id"] for s in only_c["TraceSummaries"]] == [
        xray_trace_id(pipeline.stream.trace_id)]
    assert len(one["TraceSummaries"]) == 1
    bad = get(url, "/_ripple/api/traces", filter="service(")
    assert bad.status_code == 400
    assert "column" in bad.json()["detail"]


def test_the_trace_route_takes_either_id_form(url: str, pipeline: Chain) -> None:
    # When one trace is asked for by its W3C id and by its X-Ray id
    by_hex = get(url, f"/_ripple/api/traces/{pipeline.trace.trace_id}")
    by_xray = get(url, f"/_ripple/api/traces/{xray_trace_id(pipeline.trace.trace_id)}")

    # Then both answer the BatchGetTraces shape; an unknown id is a 404, a bad one a 400
    assert by_hex.status_code == by_xray.status_code == 200
    assert by_hex.json() == by_xray.json()
    assert by_hex.json()["Traces"][0]["Id"] == xray_trace_id(pipeline.trace.trace_id)
    assert get(url, "/_ripple/api/traces/1-5f000000-000000000000000000000099"
               ).status_code == 404
    assert get(url, "/_ripple/api/traces/nonsense").status_code == 400


def test_since_reads_the_recent_past(url: str, store: SpanStore) -> None:
    # Given one trace a minute ago and one two hours ago
    recent = TraceBuilder(start=time.time() - 60, number=1)
    recent.span("now", SpanKind.SERVER, attributes={"faas.name": "fresh"})
    old = TraceBuilder(start=time.time() - 7200, number=2)
    old.span("then", SpanKind.SERVER, attributes={"faas.name": "stale"})
    store.add(recent.spans + old.spans)

    # When the last 15 minutes and the last 3 hours are asked for
    quarter = get(url, "/_ripple/api/traces", since="15m").json()
    three_hours = get(url, "/_ripple/api/traces", since="3h").json()
    services = get(url, "/_ripple/api/servicemap").json()["Services"]

    # Then each window holds what started in it
    assert [s["Id"] for s in quarter["TraceSummaries"]] == [xray_trace_id(recent.trace_id)]
    assert len(three_hours["TraceSummaries"]) == 2
    assert "fresh" in {s["Name"] for s in services}
    assert "stale" not in {s["Name"] for s in services}
    assert get(url, "/_ripple/api/servicemap", since="a while").status_code == 400


def test_the_tracing_route_counts(url: str, pipeline: Chain) -> None:
    figures = get(url, "/_ripple/api/tracing").json()
    assert figures["spans"] == len(pipeline.spans)
    assert figures["spans_dropped"] == figures["forward_dropped"] == 0
