"""`why` on built spans: back from a write or an invocation to the root event, across the
stream batch's links, and forward from the root to everything it caused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tracing import TraceBuilder, chain
from tracing.spans import SpanKind, SpanLink
from tracing.store.database import SpanStore
from tracing.store.lineage import LineageIndex
from tracing.why import target_refs, why


@pytest.fixture
def index(store: SpanStore) -> LineageIndex:
    return store.add_listener(LineageIndex(store))


def names(refs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(ref["node"]["name"], ref["kind"]) for ref in refs]


def flatten(tree: dict[str, Any]) -> list[dict[str, Any]]:
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        found.append(node["span"])
        stack += node["children"]
    return found


def test_a_batch_invocation_walks_back_through_its_link_to_the_upload(
        store: SpanStore, index: LineageIndex) -> None:
    # Given the chain S3 put → A → 10 × B → each B puts an item → the stream → C
    built = chain()
    store.add(built.spans)
    # When C's invocation is asked about by its request id
    answer = why(store, index, "req-c")
    # Then the chain starts at the upload, passes A, a B and its write, and ends at C
    assert answer is not None and answer["found"]
    hops = names(answer["chain"])
    assert hops[0] == ("client", "CLIENT") and hops[1] == ("uploads", "SERVER")
    assert ("A", "SERVER") in hops and ("orders", "SERVER") in hops
    assert hops[-1] == ("C", "SERVER") and answer["write"]["request_id"] == "req-c"
    # And the poller's own dispatch, the cause-less root of the batch's trace, is not a hop
    assert ("C", "PRODUCER") not in hops
    # And no INTERNAL span (Invocation, Overhead) is a hop
    assert all(ref["kind"] != "INTERNAL" for ref in answer["chain"])
    assert answer["traces"] == [built.stream.trace_id, built.trace.trace_id]


def test_the_root_caused_every_b_and_c_across_the_link(
        store: SpanStore, index: LineageIndex) -> None:
    # Given the chain
    built = chain()
    store.add(built.spans)
    # When the upload is asked about
    answer = why(store, index, "s3://uploads/images/cat.jpg")
    # Then the write is the bucket's SERVER span, which is its own chain's second hop
    assert answer is not None
    assert (answer["write"]["node"]["name"], answer["write"]["operation"]) == (
        "uploads", "S3.PutObject")
    # And forward from the root: all ten B's, their ten writes, and C once
    caused = flatten(answer["caused"])
    assert sum(ref["node"]["name"] == "B" and ref["kind"] == "SERVER" for ref in caused) == 10
    assert sum(ref["node"]["name"] == "orders" and ref["kind"] == "SERVER"
               for ref in caused) == 10
    assert sum(ref["node"]["name"] == "C" and ref["kind"] == "SERVER" for ref in caused) == 1
    assert len(caused) == len({(ref["trace_id"], ref["span_id"]) for ref in caused})


def test_an_item_is_found_by_its_key_and_a_trace_by_its_id(
        store: SpanStore, index: LineageIndex) -> None:
    # Given a function whose put_item span names the item it wrote
    trace = TraceBuilder(number=7)
    _, _, invocation = trace.function("writer", None, 0.0)
    trace.aws_call("DynamoDB", "PutItem", invocation, 5.0,
                   aws__dynamodb__table_names=["orders"],
                   ripple__dynamodb__item_keys=['["orders",[["pk","o-1"],["sk","2024"]]]'])
    store.add(trace.spans)
    # When it is asked about in each spelling of the key
    spellings = ["ddb://orders/o-1", "ddb://orders/pk=o-1", "ddb://orders/sk=2024,pk=o-1",
                 'ddb://orders/{"pk": {"S": "o-1"}, "sk": {"S": "2024"}}']
    answers = [why(store, index, target) for target in spellings]
    # Then each finds the write, under the writer's invocation
    for answer in answers:
        assert answer is not None
        assert answer["write"]["operation"] == "DynamoDB.PutItem"
        assert answer["write"]["kind"] == "SERVER"
        assert ("writer", "SERVER") in names(answer["chain"])
    # And the trace id, in either spelling, answers from the trace's root
    xray = f"1-{trace.trace_id[:8]}-{trace.trace_id[8:]}"
    for trace_id in (trace.trace_id, xray):
        found = why(store, index, trace_id)
        assert found is not None and found["root"]["node"]["name"] == "writer"
    # And what nobody wrote is None
    assert why(store, index, "ddb://orders/o-2") is None
    assert why(store, index, "s3://uploads/nothing") is None
    assert why(store, index, "0" * 31 + "1") is None


def test_the_latest_write_of_an_object_answers(store: SpanStore, index: LineageIndex) -> None:
    # Given the same key written by two traces, the second one later
    for number, at in ((1, 0.0), (2, 5.0)):
        trace = TraceBuilder(start=1_700_000_000.0 + at, number=number)
        trace.aws_call("S3", "PutObject", None, 0.0, aws__s3__bucket="b", aws__s3__key="k")
        store.add(trace.spans)
    # When the object is asked about
    answer = why(store, index, "s3://b/k")
    # Then the second write answers
    assert answer is not None and answer["write"]["trace_id"].endswith("2")


def test_links_that_loop_back_end_the_walk(store: SpanStore, index: LineageIndex) -> None:
    # Given two traces whose roots link to each other
    first, second = TraceBuilder(number=1), TraceBuilder(number=2)
    one = first.span("one", SpanKind.CONSUMER, links=(SpanLink(second.trace_id,
                                                               f"{2 << 32 | 1:016x}"),))
    second.span("two", SpanKind.CONSUMER, links=(SpanLink(first.trace_id, one.span_id),))
    store.add(first.spans + second.spans)
    # When either is asked about
    answer = why(store, index, first.trace_id)
    # Then the walk ends, each span once
    assert answer is not None
    assert sorted(ref["name"] for ref in answer["chain"]) == ["one", "two"]


@pytest.mark.parametrize(("target", "refs"), [
    ("s3://bucket/a/b.json", ["s3://bucket/a/b.json"]),
    ("ddb://t/v", ["ddb://t/v"]),
    ("ddb://t/pk=v", ['ddb://t/{"pk":"v"}', "ddb://t/pk=v"]),
    ('ddb://t/{"pk": 5}', ['ddb://t/{"pk":"5"}', 'ddb://t/{"pk": 5}']),
    ("4d1b2a3c-0000-4000-8000-000000000000", ["req:4d1b2a3c-0000-4000-8000-000000000000"]),
    ("1-6553f100-000000000000000000000001", None),
])
def test_targets_name_their_index_refs(target: str, refs: list[str] | None) -> None:
    assert target_refs(target) == refs
