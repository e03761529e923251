"""`compare` on built spans: two runs of one chain, path by path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tracing import T0, TraceBuilder, chain
from tracing.compare import change, compare
from tracing.store.database import SpanStore
from tracing.store.lineage import LineageIndex


@pytest.fixture
def index(store: SpanStore) -> LineageIndex:
    return store.add_listener(LineageIndex(store))


def row(answer: dict[str, Any], last: str) -> dict[str, Any]:
    return next(row for row in answer["paths"] if row["path"][-1] == last)


def run(number: int, items: int, write_ms: float = 3.0, fail: bool = False) -> TraceBuilder:
    """An upload → A → `items` put_items."""
    trace = TraceBuilder(start=T0 + number, number=number)
    _, bucket = trace.aws_call("S3", "PutObject", None, 0.0, aws__s3__bucket="uploads")
    queued = trace.dispatch("A", bucket, 1.0)
    _, _, invocation = trace.function("A", queued, 2.0, ms=50.0)
    for item in range(items):
        trace.aws_call("DynamoDB", "PutItem", invocation, 5.0 + item, ms=write_ms,
                       status=500 if fail and item == 0 else 200,
                       aws__dynamodb__table_names=["orders"])
    return trace


def test_a_second_run_that_fans_out_more_shows_fanout(
        store: SpanStore, index: LineageIndex) -> None:
    # Given two runs of one chain: one put_item, then three
    first, second = run(1, 1), run(2, 3)
    store.add(first.spans + second.spans)
    # When they are compared
    answer = compare(store, index, first.trace_id, second.trace_id)
    # Then they are the same chain, and only the writes changed: a fan-out from 1 to 3
    assert answer is not None and answer["same_chain"] is True
    writes = row(answer, "orders DynamoDB.PutItem")
    assert writes["change"] == "fanout"
    assert (writes["a"]["count"], writes["b"]["count"]) == (1, 3)
    assert writes["path"][:2] == ["client S3.PutObject", "uploads S3.PutObject"]
    assert answer["summary"]["fanout"] == 2  # the CLIENT span of each put, and the SERVER
    assert row(answer, "A")["change"] == "same"


def test_a_hop_one_run_did_not_record_still_pairs_the_same_operation(
        store: SpanStore, index: LineageIndex) -> None:
    # Given two runs of one chain, the first missing the CLIENT span of its put_item (dropped)
    first, second = run(1, 1), run(2, 3)
    dropped = next(span for span in first.spans
                   if span.name == "DynamoDB.PutItem" and span.kind.name == "CLIENT")
    store.add([span for span in first.spans if span is not dropped] + second.spans)
    # When they are compared
    answer = compare(store, index, first.trace_id, second.trace_id)
    # Then the table's put_item is still one row, a fan-out from 1 to 3
    assert answer is not None
    writes = [row for row in answer["paths"] if row["path"][-1] == "orders DynamoDB.PutItem"]
    assert len(writes) == 1 and writes[0]["change"] == "fanout", writes
    assert (writes[0]["a"]["count"], writes[0]["b"]["count"]) == (1, 3)


def test_slower_errors_added_and_missing(store: SpanStore, index: LineageIndex) -> None:
    # Given a run, and one whose write is 10x slower, one whose write fails
    base, slow, failing = run(1, 1), run(2, 1, write_ms=30.0), run(3, 1, fail=True)
    store.add(base.spans + slow.spans + failing.spans)
    # When each is compared with the first
    slower = compare(store, index, base.trace_id, slow.trace_id)
    errors = compare(store, index, base.trace_id, failing.trace_id)
    # Then the write is slower by ~27 ms in one, and failed in the other
    assert slower is not None and errors is not None
    writes = row(slower, "orders DynamoDB.PutItem")
    assert writes["change"] == "slower" and writes["delta_ms"] == pytest.approx(27.0)
    assert row(errors, "orders DynamoDB.PutItem")["change"] == "errors"
    # And swapped, the slow run's write is faster
    faster = compare(store, index, slow.trace_id, base.trace_id)
    assert faster is not None and row(faster, "orders DynamoDB.PutItem")["change"] == "faster"


def test_a_run_follows_the_stream_batch_into_its_trace(
        store: SpanStore, index: LineageIndex) -> None:
    # Given the chain (A → 10 × B → writes → stream → C) and one without any B
    full = chain(fan_out=10)
    empty = run(9, 0)
    store.add(full.spans + empty.spans)
    # When the chain's first trace is compared with itself and with the empty run
    itself = compare(store, index, full.trace.trace_id, full.trace.trace_id)
    answer = compare(store, index, empty.trace_id, full.trace.trace_id)
    # Then C, in the batch's trace, is on a path through a write, and nothing changed
    assert itself is not None and set(itself["summary"].values()) == {0}
    c_paths = [r["path"] for r in itself["paths"] if r["path"][-1] == "C"]
    assert c_paths and "orders DynamoDB.PutItem" in c_paths[0]
    # And against the empty run, C's paths were added
    assert answer is not None and row(answer, "C")["change"] == "added"


def test_an_unknown_trace_compares_to_nothing(store: SpanStore, index: LineageIndex) -> None:
    store.add(run(1, 1).spans)
    assert compare(store, index, run(1, 1).trace_id, "f" * 32) is None


@pytest.mark.parametrize(("a", "b", "expected"), [
    (None, {"count": 1}, "added"),
    ({"count": 1}, None, "missing"),
    ({"count": 1, "errors": 0, "p50_ms": 10.0}, {"count": 1, "errors": 0, "p50_ms": 11.5},
     "same"),  # 15 %: under 20 %
    ({"count": 1, "errors": 0, "p50_ms": 1.0}, {"count": 1, "errors": 0, "p50_ms": 1.9},
     "same"),  # 90 % but under 1 ms
    ({"count": 1, "errors": 0, "p50_ms": 10.0}, {"count": 1, "errors": 0, "p50_ms": 12.5},
     "slower"),
])
def test_what_counts_as_a_change(a: dict[str, Any] | None, b: dict[str, Any] | None,
                                 expected: str) -> None:
    assert change(a, b) == expected
