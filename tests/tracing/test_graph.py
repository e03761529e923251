"""The service map rebuilt from spans: nodes, edges, counts, faults, link edges."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tests.tracing import ENDPOINT, T0, TraceBuilder, by_name, chain, edge, weighted
from tracing.graph import service_graph, trace_graph
from tracing.nodes import BUCKET, CLIENT_TYPE, FUNCTION, LAMBDA, REMOTE, TABLE, entry_node
from tracing.spans import Span, SpanKind, StatusCode

EVERYTHING = (T0 - 60, T0 + 3600)


def test_the_chain_shows_every_node_with_its_type() -> None:
    # Given the chain: S3 put → A → 10 × B → DynamoDB → stream → C
    spans = chain().spans
    # When the service map is built
    graph = service_graph(spans, *EVERYTHING)
    # Then it has the client, the bucket, A, B, the table and C, each with X-Ray's types
    nodes = {(service["Name"], service["Type"]) for service in graph["Services"]}
    assert nodes == {("client", CLIENT_TYPE), ("uploads", BUCKET), ("A", LAMBDA),
                     ("A", FUNCTION), ("B", LAMBDA), ("B", FUNCTION), ("orders", TABLE),
                     ("C", LAMBDA), ("C", FUNCTION)}
    # And only the client is a root, every node is active, reference ids are 0..n-1
    assert [s["Name"] for s in graph["Services"] if s["Root"]] == ["client"]
    assert {s["State"] for s in graph["Services"]} == {"active"}
    assert sorted(s["ReferenceId"] for s in graph["Services"]) == list(range(len(nodes)))
    assert graph["StartTime"] == EVERYTHING[0] and graph["ContainsOldGroupVersions"] is False


def test_the_a_to_b_edge_goes_through_the_lambda_service_and_counts_ten() -> None:
    graph = service_graph(chain().spans, *EVERYTHING)
    # Then A's handler calls B's Lambda service 10 times, which runs B's handler 10 times
    a_to_b = edge(graph, ("A", FUNCTION), ("B", LAMBDA))
    assert a_to_b["SummaryStatistics"]["TotalCount"] == 10
    assert a_to_b["SummaryStatistics"]["OkCount"] == 10  # async Invoke answered 202 each time
    assert sum(entry["Count"] for entry in a_to_b["ResponseTimeHistogram"]) == 10
    assert edge(graph, ("B", LAMBDA), ("B", FUNCTION))["SummaryStatistics"]["TotalCount"] == 10
    assert edge(graph, ("B", FUNCTION), ("orders", TABLE))["SummaryStatistics"][
        "TotalCount"] == 10
    # And no edge skips the Lambda service
    b_function = by_name(graph, "B", FUNCTION)["ReferenceId"]
    assert all(e["ReferenceId"] != b_function for e in by_name(graph, "A", FUNCTION)["Edges"])


def test_a_failing_b_is_a_fault_on_b() -> None:
    graph = service_graph(chain(fail_one_b=True).spans, *EVERYTHING)
    b = by_name(graph, "B", FUNCTION)["SummaryStatistics"]
    assert b["FaultStatistics"]["TotalCount"] == 1 and b["OkCount"] == 9
    assert b["TotalCount"] == 10 and b["ErrorStatistics"]["TotalCount"] == 0
    # And the edge into B's handler carries the fault; the async Invoke from A does not
    assert edge(graph, ("B", LAMBDA), ("B", FUNCTION))["SummaryStatistics"][
        "FaultStatistics"]["TotalCount"] == 1
    assert edge(graph, ("A", FUNCTION), ("B", LAMBDA))["SummaryStatistics"][
        "FaultStatistics"]["TotalCount"] == 0


def test_async_hops_are_link_edges_and_in_process_hops_are_standard() -> None:
    graph = service_graph(chain().spans, *EVERYTHING)
    assert edge(graph, ("uploads", BUCKET), ("A", LAMBDA))["EdgeType"] == "link"
    assert edge(graph, ("A", FUNCTION), ("B", LAMBDA))["EdgeType"] == "link"
    assert edge(graph, ("orders", TABLE), ("C", LAMBDA))["EdgeType"] == "link"  # span links
    assert edge(graph, ("A", LAMBDA), ("A", FUNCTION))["EdgeType"] == "standard"
    assert edge(graph, ("B", FUNCTION), ("orders", TABLE))["EdgeType"] == "standard"
    assert edge(graph, ("client", CLIENT_TYPE), ("uploads", BUCKET))["EdgeType"] == "standard"


def test_node_identity_comes_from_attributes_not_service_name() -> None:
    # Given two invocations of one function recorded by differently named processes,
    # one of them named after another function
    trace = TraceBuilder()
    trace.function("resize", None, 0.0)
    trace.function("resize", None, 50.0)
    spans = [replace(span, resource={"service.name": f"worker-{index}"})
             for index, span in enumerate(trace.spans)]
    spans[0] = replace(spans[0], resource={"service.name": "thumbnail"})
    # When the map is built
    graph = trace_graph(spans)
    # Then there is one resize service and one resize function, and no node per process
    assert by_name(graph, "resize", FUNCTION)["SummaryStatistics"]["TotalCount"] == 2
    assert by_name(graph, "resize", LAMBDA)["SummaryStatistics"]["TotalCount"] == 2
    assert {service["Name"] for service in graph["Services"]} == {"client", "resize"}
    assert entry_node(spans[0]) == entry_node(trace.spans[0])


def test_throttles_errors_and_inferred_nodes() -> None:
    # Given a function throttled once, a missing S3 key, a DynamoDB throttle and an HTTP
    # call to a remote API (no endpoint spans for those: the nodes are inferred)
    trace = TraceBuilder()
    trace.function("busy", None, 0.0, throttled=True)
    _, _, invocation = trace.function("f", None, 10.0, ms=50.0)
    assert invocation is not None
    trace.aws_call("S3", "GetObject", invocation, 15.0, status=404, server=False,
                   aws__s3__bucket="uploads")
    trace.aws_call("DynamoDB", "GetItem", invocation, 20.0, status=429, server=False,
                   aws__dynamodb__table_names=["orders"])
    trace.span("GET", SpanKind.CLIENT, invocation, 30.0, 8.0,
               {"server.address": "api.example.com", "http.response.status_code": 503},
               status=StatusCode.ERROR)
    # When the trace's map is built
    graph = trace_graph(trace.spans)
    # Then each shows in the right column
    busy = by_name(graph, "busy", LAMBDA)["SummaryStatistics"]
    assert busy["ErrorStatistics"] == {"ThrottleCount": 1, "OtherCount": 0, "TotalCount": 1}
    bucket = by_name(graph, "uploads", BUCKET)["SummaryStatistics"]
    assert bucket["ErrorStatistics"] == {"ThrottleCount": 0, "OtherCount": 1, "TotalCount": 1}
    table = by_name(graph, "orders", TABLE)["SummaryStatistics"]
    assert table["ErrorStatistics"]["ThrottleCount"] == 1
    remote = by_name(graph, "api.example.com", REMOTE)["SummaryStatistics"]
    assert remote["FaultStatistics"]["TotalCount"] == 1
    assert edge(graph, ("f", FUNCTION), ("api.example.com", REMOTE))["SummaryStatistics"][
        "FaultStatistics"]["TotalCount"] == 1


def test_the_time_window_counts_only_requests_that_started_in_it() -> None:
    early, late = TraceBuilder(start=T0, number=1), TraceBuilder(start=T0 + 600, number=2)
    early.function("f", None, 0.0)
    late.function("f", None, 0.0)
    graph = service_graph(early.spans + late.spans, T0 + 300, T0 + 900)
    assert by_name(graph, "f", FUNCTION)["SummaryStatistics"]["TotalCount"] == 1
    assert by_name(graph, "f", FUNCTION)["StartTime"] >= T0 + 600


def test_histograms_are_in_seconds_and_times_are_epoch_seconds() -> None:
    trace = TraceBuilder()
    trace.function("f", None, 0.0, ms=250.0)
    graph = trace_graph(trace.spans)
    function = by_name(graph, "f", FUNCTION)
    assert function["ResponseTimeHistogram"] == [{"Value": 0.25, "Count": 1}]
    assert abs(function["SummaryStatistics"]["TotalResponseTime"] - 0.25) < 1e-6
    assert abs(function["StartTime"] - (T0 + 0.002)) < 1e-3


def test_a_service_map_over_100000_spans() -> None:
    # Given 100,000 spans: traces of one function fanning out 14 async invokes to another
    spans: list[Span] = []
    traces = 0
    while len(spans) < 100_000:
        traces += 1
        trace = TraceBuilder(start=T0 + traces, number=traces)
        _, _, invocation = trace.function("fan", None, 0.0, ms=100.0)
        for index in range(14):
            _, endpoint = trace.aws_call("Lambda", "Invoke", invocation, 1.0 + index,
                                         status=202, faas__invoked_name="work")
            trace.function("work", trace.dispatch("work", endpoint, 1.5 + index), 2.0 + index)
        spans.extend(trace.spans)
    # When the map is built
    started = time.perf_counter()
    graph = service_graph(spans, T0, T0 + traces + 1)
    elapsed = time.perf_counter() - started
    print(f"\nservice map over {len(spans):,} spans: {elapsed:.2f} s")
    # Then every call is counted
    calls = edge(graph, ("fan", FUNCTION), ("work", LAMBDA))["SummaryStatistics"]["TotalCount"]
    assert calls == traces * 14
    assert by_name(graph, "work", FUNCTION)["SummaryStatistics"]["TotalCount"] == traces * 14


def test_a_retried_invocation_is_one_request_on_the_edge_and_two_attempts_on_the_node() -> None:
    # Given an async invoke whose first attempt fails and is retried from the same dispatch
    trace = TraceBuilder()
    _, _, invocation = trace.function("a", None, 0.0, ms=40.0)
    _, endpoint = trace.aws_call("Lambda", "Invoke", invocation, 5.0, status=202,
                                 faas__invoked_name="b")
    queued = trace.dispatch("b", endpoint, 5.5)
    trace.function("b", queued, 10.0, error_type="ValueError")
    trace.function("b", queued, 100.0, attempt=2)
    # When the map is built
    graph = trace_graph(trace.spans)
    # Then a asked once, b's Lambda service ran two attempts, one of which faulted in b
    assert edge(graph, ("a", FUNCTION), ("b", LAMBDA))["SummaryStatistics"]["TotalCount"] == 1
    assert by_name(graph, "b", LAMBDA)["SummaryStatistics"]["TotalCount"] == 2
    b = by_name(graph, "b", FUNCTION)["SummaryStatistics"]
    assert b["TotalCount"] == 2 and b["FaultStatistics"]["TotalCount"] == 1


def test_a_stream_batch_comes_from_its_table_not_from_a_client() -> None:
    # Given the batch to C: a new trace whose CONSUMER span links to the 10 writes
    c = chain()
    # When the map covers the writers' trace too
    graph = service_graph(c.spans, *EVERYTHING)
    # Then C's only caller is the table, through one link edge per batch
    c_service = by_name(graph, "C", LAMBDA)["ReferenceId"]
    callers = [(s["Name"], s["Type"], e) for s in graph["Services"] for e in s["Edges"]
               if e["ReferenceId"] == c_service]
    assert [(name, type_) for name, type_, _ in callers] == [("orders", TABLE)]
    assert callers[0][2]["SummaryStatistics"]["TotalCount"] == 1
    # And on its own, without the writes, the batch hangs off a client
    alone = trace_graph(c.stream.spans)
    assert edge(alone, ("client", CLIENT_TYPE), ("C", LAMBDA))["EdgeType"] == "link"


def test_a_trace_kept_by_the_samplers_rate_counts_for_every_trace_it_stands_for() -> None:
    # Given the chain, its first trace kept by a 5% rate (weight 20), C's batch trace not
    spans = chain(fail_one_b=True).spans
    # When the service map is built
    graph = service_graph(weighted(spans, 20), *EVERYTHING)
    # Then the first trace's requests count 20 times, faults and histograms too
    b = by_name(graph, "B", FUNCTION)["SummaryStatistics"]
    assert b["TotalCount"] == 200 and b["FaultStatistics"]["TotalCount"] == 20
    a_to_b = edge(graph, ("A", FUNCTION), ("B", LAMBDA))
    assert sum(entry["Count"] for entry in a_to_b["ResponseTimeHistogram"]) == 200
    # And the response times stay those of the requests (a weighted mean is the same mean)
    plain = service_graph(spans, *EVERYTHING)
    assert (by_name(graph, "A", FUNCTION)["SummaryStatistics"]["TotalResponseTime"]
            == pytest.approx(by_name(plain, "A", FUNCTION)["SummaryStatistics"][
                "TotalResponseTime"] * 20))
    # And the batch's own trace counts once
    assert by_name(graph, "C", FUNCTION)["SummaryStatistics"]["TotalCount"] == 1


def test_a_traces_own_graph_counts_it_once_whatever_its_weight() -> None:
    # Given the chain's first trace, weighted 20
    spans = weighted(chain().spans, 20)
    # When its own graph is built (GetTraceGraph)
    graph = trace_graph(spans)
    # Then each request is counted as it happened
    assert by_name(graph, "B", FUNCTION)["SummaryStatistics"]["TotalCount"] == 10


def invoked(trace: TraceBuilder, function: str, status: int, ms: float = 1.5) -> Span:
    """The endpoint's SERVER span of an Invoke from a caller that recorded no span of its own
    (no trace header, or `ripple load`'s, which names no parent): the trace's root."""
    return trace.span("Lambda.Invoke", SpanKind.SERVER, None, 0.0, ms, {
        "rpc.system": "aws-api", "rpc.service": "Lambda", "rpc.method": "Invoke",
        "faas.invoked_name": function, "http.response.status_code": status},
        resource=ENDPOINT)


def test_an_invoke_at_the_root_stands_for_the_clients_request() -> None:
    # Given an Invoke from a caller that recorded no span, queued and run
    trace = TraceBuilder()
    root = invoked(trace, "f", 202)
    trace.function("f", trace.dispatch("f", root, 0.5), 2.0)

    # When the map is built
    graph = trace_graph(trace.spans)

    # Then the client's edge counts one request, timed by the Invoke (not the 0.2 ms send)
    stats = edge(graph, ("client", CLIENT_TYPE), ("f", LAMBDA))["SummaryStatistics"]
    assert stats["TotalCount"] == 1 and stats["OkCount"] == 1
    assert stats["TotalResponseTime"] == pytest.approx(0.0015)


@pytest.mark.parametrize("queued", [False, True])
def test_an_invoke_refused_or_lost_on_the_way_is_still_the_clients_request(
        queued: bool) -> None:
    # Given an Invoke the endpoint throttled (nothing queued), or one whose invocation's
    # spans never arrived (only the send is there)
    trace = TraceBuilder()
    root = invoked(trace, "f", 429 if not queued else 202)
    if queued:
        trace.dispatch("f", root, 0.5)

    # When the map is built
    graph = trace_graph(trace.spans)

    # Then the client's edge to the function's Lambda service counts it once, as it ended
    stats = edge(graph, ("client", CLIENT_TYPE), ("f", LAMBDA))["SummaryStatistics"]
    assert stats["TotalCount"] == 1
    assert stats["ErrorStatistics"]["ThrottleCount"] == (0 if queued else 1)
