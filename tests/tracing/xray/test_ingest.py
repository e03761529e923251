"""Documents into the store: parts in progress wait for their complete version, refused
documents are reported, and a broken store never fails the sender."""

from __future__ import annotations

import json
from typing import Any

from tests.tracing import T0
from tracing.store.database import SpanStore
from tracing.xray.ingest import SegmentIngest

TRACE = "1-6553f100-000000000000000000000002"
HEX = "6553f100000000000000000000000002"


def segment(**fields: Any) -> str:
    return json.dumps({"name": "svc", "id": "1000000000000001", "trace_id": TRACE,
                       "start_time": T0, **fields})


def test_an_in_progress_segment_is_stored_complete_when_its_end_arrives(
        store: SpanStore) -> None:
    # Given a segment sent in progress, with one subsegment already complete
    ingest = SegmentIngest(store)
    done = {"name": "early", "id": "1000000000000002", "start_time": T0, "end_time": T0 + 0.1}
    assert ingest.put([segment(in_progress=True, subsegments=[done])]) == []
    # Then the complete subsegment is stored now and the segment waits
    assert [span.name for span in store.trace(HEX)] == ["early"]
    assert ingest.stats()["spans_in_progress"] == 1
    # When the same segment arrives complete
    ingest.put([segment(end_time=T0 + 1, subsegments=[done])])
    # Then the store holds it with its end, once
    spans = {span.name: span for span in store.trace(HEX)}
    assert spans["svc"].end_ns == int((T0 + 1) * 1e9) and len(spans) == 2
    assert ingest.stats() == {"documents_received": 2, "documents_rejected": 0,
                              "spans_stored": 2, "spans_dropped": 0, "spans_in_progress": 0}


def test_a_part_never_completed_is_stored_in_progress_when_held_too_long(
        store: SpanStore) -> None:
    # Given an ingest that holds parts in progress for no time at all, and one that stops
    quick, stopping = SegmentIngest(store, hold_seconds=0.0), SegmentIngest(store)
    # When an in-progress segment arrives at each (the second is flushed at its stop)
    quick.put([segment(in_progress=True)])
    stopping.put([segment(id="1000000000000003", in_progress=True)])
    assert stopping.flush() == 1
    # Then both are stored, without an end
    assert sorted((span.span_id, span.end_ns) for span in store.trace(HEX)) == [
        ("1000000000000001", 0), ("1000000000000003", 0)]


def test_refused_documents_come_back_with_xrays_error_and_the_rest_is_stored(
        store: SpanStore) -> None:
    # When a good document and two bad ones are put
    ingest = SegmentIngest(store)
    refused = ingest.put([segment(end_time=T0 + 1), "{", segment(id="x", end_time=T0)])
    # Then the bad ones are listed with X-Ray's codes, and the good one is stored
    assert [(item.id, item.code) for item in refused] == [("", "InvalidJson"),
                                                          ("", "InvalidId")]
    assert [span.name for span in store.trace(HEX)] == ["svc"]
    assert ingest.stats()["documents_rejected"] == 2


def test_a_broken_store_is_counted_not_raised(store: SpanStore) -> None:
    # Given an ingest over a store that fails (closed under it)
    ingest = SegmentIngest(store)
    store.close()
    # When a document is put, Then the sender sees no error and the loss is counted
    assert ingest.put([segment(end_time=T0 + 1)]) == []
    assert ingest.stats()["spans_dropped"] == 1
