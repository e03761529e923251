"""The lineage index: fed as spans are stored, pruned with them by retention."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tracing import FOREVER, T0, TraceBuilder, chain
from tracing.spans import SpanKind
from tracing.store.database import SpanStore
from tracing.store.lineage import LineageIndex, item_refs, refs


def test_writes_invocations_and_links_are_indexed_at_ingest(tmp_path: Path) -> None:
    # Given a store with the index attached
    store = SpanStore(tmp_path / "traces.db", max_spans=1_000_000, max_age_hours=FOREVER)
    index = store.add_listener(LineageIndex(store))
    built = chain(fan_out=3)
    # When the chain is stored twice (a retried export)
    store.add(built.spans)
    store.add(built.spans)
    # Then the upload, C's request id and the batch's links are found, each once
    upload = index.made("s3://uploads/images/cat.jpg")
    assert len(upload) == 1 and upload[0][0] == built.trace.trace_id
    assert index.made("req:req-c")[0][0] == built.stream.trace_id
    linking = list(index.linking([built.trace.trace_id]))
    assert sorted(linked for _, linked in linking) == sorted(
        (write.trace_id, write.span_id) for write in built.writes)
    assert {linking_span[0] for linking_span, _ in linking} == {built.stream.trace_id}
    store.close()


def test_retention_drops_the_rows_of_dropped_spans(tmp_path: Path) -> None:
    # Given a store keeping 20 spans, with the index attached
    store = SpanStore(tmp_path / "traces.db", max_spans=20, max_age_hours=FOREVER)
    index = store.add_listener(LineageIndex(store))
    old, new = TraceBuilder(start=T0, number=1), TraceBuilder(start=T0 + 10, number=2)
    old.aws_call("S3", "PutObject", None, 0.0, aws__s3__bucket="b", aws__s3__key="old")
    for at in range(12):
        new.aws_call("S3", "PutObject", None, float(at), aws__s3__bucket="b",
                     aws__s3__key=f"new-{at}")
    # When more than 20 spans arrive and retention runs
    store.add(old.spans)
    store.add(new.spans)
    store.enforce_retention()
    # Then the old write's row went with its spans, and the newest stay
    assert store.count() == 20
    assert index.made("s3://b/old") == []
    assert index.made("s3://b/new-11")
    rows = store.read("SELECT count(*) FROM lineage_refs", ())[0][0]
    assert rows <= 12
    store.close()


def test_only_successful_writes_and_invocations_are_refs() -> None:
    trace = TraceBuilder()
    _, put = trace.aws_call("S3", "PutObject", None, 0.0, aws__s3__bucket="b", aws__s3__key="k")
    _, denied = trace.aws_call("S3", "PutObject", None, 0.0, status=403, aws__s3__bucket="b",
                               aws__s3__key="k")
    _, read = trace.aws_call("S3", "GetObject", None, 0.0, aws__s3__bucket="b",
                             aws__s3__key="k")
    client, _ = trace.aws_call("S3", "CopyObject", None, 0.0, server=False,
                               aws__s3__bucket="b", aws__s3__key="k")
    _, handler, _ = trace.function("f", None, 0.0)
    assert put is not None and denied is not None and read is not None
    assert handler is not None and client.kind == SpanKind.CLIENT
    assert refs(put) == ["s3://b/k"]
    assert refs(denied) == refs(read) == refs(client) == []
    assert refs(handler) == [f"req:{handler.attributes['faas.invocation_id']}"]


@pytest.mark.parametrize(("text", "expected"), [
    ('["t",[["pk","v"]]]', ['ddb://t/{"pk":"v"}', "ddb://t/v"]),
    ('["t",[["pk","v"],["sk","2"]]]',
     ['ddb://t/{"pk":"v","sk":"2"}', 'ddb://t/{"pk":"v"}', "ddb://t/v"]),
])
def test_an_item_is_known_by_its_key_its_partition_and_the_bare_value(
        text: str, expected: list[str]) -> None:
    assert item_refs(text) == expected
