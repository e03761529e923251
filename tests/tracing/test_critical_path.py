"""The critical path of a trace, and fan-outs folded into groups."""

from __future__ import annotations

import pytest

from tests.tracing import TraceBuilder, chain
from tracing.critical_path import aggregate_siblings, critical_path
from tracing.nodes import LAMBDA, REMOTE, Node
from tracing.spans import Span, SpanKind


def names(spans: list[Span]) -> list[str]:
    return [span.name for span in spans]


def test_sequential_work_is_all_on_the_path_and_parallel_work_only_the_slowest() -> None:
    # Given a handler that first loads (sequentially), then runs three calls in parallel
    trace = TraceBuilder()
    root = trace.span("handler", SpanKind.SERVER, None, 0.0, 100.0)
    trace.span("load", parent=root, at=5.0, ms=20.0)
    trace.span("fast", parent=root, at=30.0, ms=10.0)
    slowest = trace.span("slow", parent=root, at=30.0, ms=60.0)
    trace.span("medium", parent=root, at=30.0, ms=30.0)
    trace.span("query", parent=slowest, at=40.0, ms=45.0)
    # When its critical path is taken
    path = critical_path(trace.spans)
    # Then it runs through the load, the slowest call and what held that call up
    assert names(path) == ["handler", "load", "slow", "query"]


def test_asynchronous_work_after_the_response_extends_the_path() -> None:
    # Given a handler that queues work ending at 500 ms, then validates and answers at 10 ms
    trace = TraceBuilder()
    root = trace.span("api", SpanKind.SERVER, None, 0.0, 10.0)
    queued = trace.dispatch("worker", root, 1.0)
    sync = trace.span("validate", parent=root, at=2.0, ms=7.0)
    _, handler, _ = trace.function("worker", queued, 20.0, ms=480.0)
    assert handler is not None
    # Then the path follows the queue hop, not the synchronous validation
    path = critical_path(trace.spans)
    assert names(path)[:3] == ["api", "worker send", "worker"]
    assert handler in path and sync not in path
    assert path[-1].end_ns <= max(span.end_ns for span in trace.spans)


def test_the_chain_path_ends_in_the_last_b_to_finish() -> None:
    spans = chain().trace.spans
    path = critical_path(spans)
    assert path[0].parent_span_id is None
    last = max(spans, key=lambda span: span.end_ns)
    assert any(span.end_ns == last.end_ns for span in path)
    # And each step hangs under an earlier one
    ids = {span.span_id for span in path}
    assert all(span.parent_span_id in ids for span in path[1:])


def test_no_spans_no_path() -> None:
    assert critical_path([]) == []


def test_a_10000_span_fan_out_folds_into_one_group() -> None:
    # Given a handler that invokes `work` 10,000 times and logs once
    trace = TraceBuilder()
    root = trace.span("fan", SpanKind.SERVER, None, 0.0, 20_000.0, {"faas.name": "fan"})
    for index in range(10_000):
        trace.aws_call("Lambda", "Invoke", root, 1.0 + index, ms=1.0 + index % 100,
                       server=False, faas__invoked_name="work")
    trace.span("log", parent=root, at=0.5, ms=0.1)
    children = [span for span in trace.spans if span.parent_span_id == root.span_id]
    # When its children are aggregated
    groups = aggregate_siblings(children)
    # Then the calls fold into one group with count, min, p50 and max; the log stays alone
    assert [group.label for group in groups] == ["log", "Lambda.Invoke ×10,000"]
    folded = groups[1]
    assert folded.node == Node("work", LAMBDA) and folded.count == 10_000
    assert (folded.min_ms, folded.p50_ms, folded.max_ms) == pytest.approx((1.0, 50.0, 100.0))
    assert folded.start_ns == min(span.start_ns for span in folded.spans)


def test_few_siblings_stay_apart_and_different_targets_never_fold() -> None:
    trace = TraceBuilder()
    root = trace.span("root", SpanKind.SERVER, None, 0.0, 100.0)
    for index in range(20):
        trace.span("GET", SpanKind.CLIENT, root, index, 1.0, {"server.address": "a.example"})
    for index in range(21):
        trace.span("GET", SpanKind.CLIENT, root, 30 + index, 1.0,
                   {"server.address": "b.example"})
    children = [span for span in trace.spans if span is not root]
    groups = aggregate_siblings(children, threshold=20)
    assert len(groups) == 21  # 20 single calls to a, one fold of 21 calls to b
    assert groups[-1].count == 21 and groups[-1].node == Node("b.example", REMOTE)
    assert all(group.count == 1 for group in groups[:-1])
