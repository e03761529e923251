"""Trace summaries, and filter expressions applied to real traces' facts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tracing import T0, TraceBuilder, chain
from tracing.filters import FilterError
from tracing.nodes import BUCKET, FUNCTION, LAMBDA, Node
from tracing.spans import Span, SpanKind
from tracing.summaries import trace_facts, trace_summaries
from tracing.trace_ids import xray_trace_id


def traces() -> dict[str, list[Span]]:
    """The chain (one B faults), a throttled invoke, and an HTTP request through the stage."""
    c = chain()
    throttled = TraceBuilder(start=T0 + 10, number=3)
    throttled.function("resize", None, 0.0, throttled=True)
    http = TraceBuilder(start=T0 + 20, number=4)
    stage = http.span("GET /thumbs/{id}", SpanKind.SERVER, None, 0.0, 1200.0, {
        "ripple.apigateway.stage": "$default", "http.request.method": "GET",
        "url.full": "http://127.0.0.1:3000/thumbs/7", "http.response.status_code": 200,
        "user_agent.original": "curl/8.0", "client.address": "10.0.0.1",
        "enduser.id": "alice"})
    http.function("thumbs", http.dispatch("thumbs", stage, 1.0), 2.0, ms=1100.0, size=7,
                  vip=True)
    return {c.trace.trace_id: c.trace.spans, c.stream.trace_id: c.stream.spans,
            throttled.trace_id: throttled.spans, http.trace_id: http.spans}


def ids(found: list[dict[str, Any]]) -> list[str]:
    return [item["Id"] for item in found]


def test_a_summary_describes_the_trace() -> None:
    all_traces = traces()
    chain_id, _, throttled_id, http_id = all_traces
    found = {item["Id"]: item for item in trace_summaries(all_traces)}
    assert list(found) == [xray_trace_id(trace_id) for trace_id in all_traces]
    # The chain: entered at the bucket, a fault deep inside, 60+ ms of async work
    chain_summary = found[xray_trace_id(chain_id)]
    assert chain_summary["EntryPoint"] == {"Name": "uploads", "Names": ["uploads"],
                                           "Type": BUCKET}
    assert chain_summary["HasFault"] is True and chain_summary["HasError"] is False
    assert chain_summary["IsPartial"] is False and chain_summary["StartTime"] == T0
    assert chain_summary["Duration"] > chain_summary["ResponseTime"] > 0
    services = {(s["Name"], s["Type"]) for s in chain_summary["ServiceIds"]}
    assert ("B", FUNCTION) in services and ("client", "client") not in services
    assert chain_summary["Annotations"]["stage"] == [{
        "AnnotationValue": {"StringValue": "test"},
        "ServiceIds": [{"Name": "A", "Names": ["A"], "Type": FUNCTION}]}]
    assert {arn["ARN"].rsplit(":", 1)[1] for arn in chain_summary["ResourceARNs"]} == {"A", "B"}
    # The throttle
    assert found[xray_trace_id(throttled_id)]["HasThrottle"] is True
    assert found[xray_trace_id(throttled_id)]["HasError"] is True
    # The HTTP request: its stage's http block, response time and annotations
    http = found[xray_trace_id(http_id)]
    assert http["Http"] == {"HttpURL": "http://127.0.0.1:3000/thumbs/7", "HttpStatus": 200,
                            "HttpMethod": "GET", "UserAgent": "curl/8.0",
                            "ClientIp": "10.0.0.1"}
    assert http["ResponseTime"] == pytest.approx(1.2)
    assert http["Annotations"]["size"][0]["AnnotationValue"] == {"NumberValue": 7.0}
    assert http["Annotations"]["vip"][0]["AnnotationValue"] == {"BooleanValue": True}
    assert http["Users"] == [{"UserName": "alice", "ServiceIds": [
        {"Name": "$default", "Names": ["$default"], "Type": "AWS::ApiGateway::Stage"}]}]


@pytest.mark.parametrize(("expression", "expected"), [
    ('service("B")', [0]),
    ('service(id(name: "B", type: "AWS::Lambda::Function")) { fault }', [0]),
    ('service(id(name: "B", type: "AWS::Lambda")) { fault }', []),
    ('edge("A", "B")', [0]),
    ('edge("orders", "C")', [1]),
    ("fault", [0]),
    ("throttle", [2]),
    ("ok", [1, 3]),
    ("responsetime > 1", [3]),
    ("duration > 1 OR throttle", [2, 3]),
    ('annotation.stage = "test"', [0]),
    ("annotation.size >= 7 AND annotation.vip", [3]),
    ('http.url CONTAINS "/thumbs/" AND http.method = "GET" AND http.status = 200', [3]),
    ('user = "alice"', [3]),
    ('NOT service("B") AND !throttle', [1, 3]),
    (None, [0, 1, 2, 3]),
    ("  ", [0, 1, 2, 3]),
])
def test_summaries_are_filtered(expression: str | None, expected: list[int]) -> None:
    all_traces = traces()
    keys = [xray_trace_id(trace_id) for trace_id in all_traces]
    assert ids(trace_summaries(all_traces, expression)) == [keys[i] for i in expected]


def test_a_bad_expression_is_refused() -> None:
    with pytest.raises(FilterError):
        trace_summaries(traces(), "service(")


def test_facts_hold_every_service_and_edge_of_the_trace() -> None:
    facts = trace_facts(chain().trace.spans)
    assert facts.entry_point == Node("uploads", BUCKET)
    assert sum(1 for s in facts.services if s.node == Node("B", FUNCTION)) == 10
    assert sum(1 for s in facts.services if s.node == Node("B", FUNCTION) and s.fault) == 1
    assert sum(1 for e in facts.edges if e.target == Node("B", LAMBDA)) == 10
