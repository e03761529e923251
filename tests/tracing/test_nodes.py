"""Which node a span enters: a service ripple does not run is named by its `service.name`, as
X-Ray names it, typed by the platform its resource names; ripple's own processes'
`service.name` never names a node. What follows from it: the map, segments and filters."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from tests.tracing import ENDPOINT, T0, WORKER, TraceBuilder, by_name, edge
from tracing.graph import service_graph
from tracing.nodes import CLIENT_TYPE, FUNCTION, LAMBDA, Node, entry_node
from tracing.origins import INDETERMINATE
from tracing.segments import trace_document
from tracing.spans import SpanKind
from tracing.summaries import trace_summaries

CHECKOUT = {"service.name": "checkout", "telemetry.sdk.name": "opentelemetry"}
EVERYTHING = (T0 - 60, T0 + 3600)


def checkout_calls_pay(resource: dict[str, Any] = CHECKOUT) -> TraceBuilder:
    """A plain OTel program's SERVER span whose boto3 CLIENT span invokes the function `pay`
    (the endpoint's spans, the dispatch, the function's own)."""
    trace = TraceBuilder()
    request = trace.span("POST /checkout", SpanKind.SERVER, None, 0.0, 50.0,
                         {"http.response.status_code": 200}, resource=resource)
    call, endpoint = trace.aws_call("Lambda", "Invoke", request, 1.0, ms=40.0)
    trace.spans[-2] = replace(call, resource=resource)  # the program's own boto3 span
    queued = trace.dispatch("pay", endpoint, 2.0)
    trace.function("pay", queued, 3.0, ms=30.0)
    return trace


def test_a_plain_otel_service_is_a_node_named_by_its_service_name() -> None:
    # Given a plain OTel program, `checkout`, that invokes `pay`
    spans = checkout_calls_pay().spans

    # When the service map is built
    graph = service_graph(spans, *EVERYTHING)

    # Then `checkout` is a node of indeterminate type between the client and pay's Lambda
    # service, each request counted once
    checkout = by_name(graph, "checkout", INDETERMINATE)
    assert checkout["SummaryStatistics"]["TotalCount"] == 1
    assert edge(graph, ("client", CLIENT_TYPE), ("checkout", INDETERMINATE))[
        "SummaryStatistics"]["TotalCount"] == 1
    assert edge(graph, ("checkout", INDETERMINATE), ("pay", LAMBDA))[
        "SummaryStatistics"]["TotalCount"] == 1
    assert edge(graph, ("pay", LAMBDA), ("pay", FUNCTION))["SummaryStatistics"][
        "TotalCount"] == 1
    # And the call into pay is not also counted from the client
    assert {(service["Name"], service["Type"]) for service in graph["Services"]} == {
        ("client", CLIENT_TYPE), ("checkout", INDETERMINATE), ("pay", LAMBDA),
        ("pay", FUNCTION)}


def test_its_segment_is_named_by_its_service_name_without_an_origin() -> None:
    trace = checkout_calls_pay()
    documents = [json.loads(part["Document"]) for part in trace_document(
        trace.trace_id, trace.spans)["Segments"]]
    checkout = next(document for document in documents if document["name"] == "checkout")
    assert "origin" not in checkout and "parent_id" not in checkout
    # its boto3 call is a subsegment, as the X-Ray SDK would write it
    assert [(sub["name"], sub["namespace"]) for sub in checkout["subsegments"]] == [
        ("Lambda", "aws")]


def test_the_service_filter_finds_it() -> None:
    trace = checkout_calls_pay()
    traces = {trace.trace_id: trace.spans}
    assert len(trace_summaries(traces, 'service("checkout")')) == 1
    assert len(trace_summaries(traces, 'edge("checkout", "pay")')) == 1
    assert len(trace_summaries(traces, 'service(id(name: "checkout", type: "remote"))')) == 1
    # and it is where the trace entered, as X-Ray's EntryPoint
    assert trace_summaries(traces)[0]["EntryPoint"]["Name"] == "checkout"
    assert trace_summaries(traces, 'service("nothing")') == []


@pytest.mark.parametrize(("platform", "origin"), [
    ("aws_ec2", "AWS::EC2::Instance"), ("aws_ecs", "AWS::ECS::Container"),
    ("aws_eks", "AWS::EKS::Container"), ("aws_elastic_beanstalk",
                                         "AWS::ElasticBeanstalk::Environment")])
def test_a_platform_in_the_resource_is_the_node_type_and_the_origin(
        platform: str, origin: str) -> None:
    trace = checkout_calls_pay({**CHECKOUT, "cloud.platform": platform})
    graph = service_graph(trace.spans, *EVERYTHING)
    assert by_name(graph, "checkout", origin)["SummaryStatistics"]["TotalCount"] == 1
    documents = [json.loads(part["Document"]) for part in trace_document(
        trace.trace_id, trace.spans)["Segments"]]
    assert {"name": "checkout", "origin": origin}.items() <= documents[0].items()


def test_an_xray_origin_carried_on_the_span_is_kept() -> None:
    # Given a segment the X-Ray daemon received, converted to a span (origin in cloud.platform)
    span = TraceBuilder().span("web", SpanKind.SERVER, attributes={
        "cloud.platform": "AWS::EC2::Instance"}, resource={"service.name": "web"})
    assert entry_node(span) == Node("web", "AWS::EC2::Instance")


@pytest.mark.parametrize("resource", [
    WORKER, ENDPOINT, {"service.name": "warm"},
    {"service.name": "pay", "faas.name": "pay"},  # an environment: its function's name
    {}])
def test_ripple_processes_never_name_a_node(resource: dict[str, Any]) -> None:
    # Given spans that would enter a service's node, recorded by ripple's own processes
    trace = TraceBuilder()
    root = trace.span("housekeeping", SpanKind.INTERNAL, None, resource=resource)
    server = trace.span("GET /", SpanKind.SERVER, root, resource=resource)
    consumer = trace.span("poll", SpanKind.CONSUMER, root, resource=resource)
    # Then none enters a node
    assert [entry_node(span) for span in (root, server, consumer)] == [None, None, None]


def test_which_spans_of_an_outside_service_enter_its_node() -> None:
    trace = TraceBuilder()
    root = trace.span("job", SpanKind.INTERNAL, None, resource=CHECKOUT)
    inner = trace.span("step", SpanKind.INTERNAL, root, resource=CHECKOUT)
    served = trace.span("GET /", SpanKind.SERVER, inner, resource=CHECKOUT)
    consumed = trace.span("message", SpanKind.CONSUMER, inner, resource=CHECKOUT)
    call = trace.span("GET", SpanKind.CLIENT, None, resource=CHECKOUT)
    checkout = Node("checkout", INDETERMINATE)
    # a root span, a SERVER or a CONSUMER span enter it; a nested INTERNAL span and a root
    # call (the client's own request) do not
    assert [entry_node(span) for span in (root, inner, served, consumed, call)] == [
        checkout, None, checkout, checkout, None]
