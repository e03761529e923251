"""The SQLite span store: what goes in comes out, queries by time, trace and node, retention,
and one writer with concurrent readers."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from tests.tracing import FOREVER, T0, TraceBuilder, chain
from tracing.errors import TracingError
from tracing.spans import Span, SpanEvent, SpanKind, SpanLink, StatusCode
from tracing.store.database import SpanStore


def ordered(spans: list[Span]) -> list[Span]:
    return sorted(spans, key=lambda span: (span.start_ns, span.span_id))


def recent_span(seconds_ago: float, number: int) -> Span:
    start_ns = int((time.time() - seconds_ago) * 1e9)
    return Span(f"{int(time.time()):08x}{number:024x}", f"{number + 1:016x}", None, "work",
                SpanKind.SERVER, start_ns, start_ns + 1_000_000,
                attributes={"faas.name": "f"}, resource={"service.name": "ripple-worker"})


def test_a_trace_comes_back_exactly_as_stored(store: SpanStore) -> None:
    # Given the issue's chain: S3 → A → 10 × B → DynamoDB → stream → C, with links
    pipeline = chain()
    extra = pipeline.trace.span("annotated", attributes={"n": 1, "ok": True, "r": 0.25},
                                status=StatusCode.ERROR, message="bad",
                                events=(SpanEvent("retry", 5, {"attempt": 2}),))

    # When every span is stored
    added = store.add(pipeline.spans)

    # Then each trace reads back span for span: ids, kinds, times, attributes, resource,
    # status, events and links
    assert added == len(pipeline.spans) == store.count()
    assert ordered(store.trace(pipeline.trace.trace_id)) == ordered(pipeline.trace.spans)
    assert ordered(store.trace(pipeline.stream.trace_id)) == ordered(pipeline.stream.spans)
    assert extra in store.trace(pipeline.trace.trace_id)
    consumer = next(span for span in store.trace(pipeline.stream.trace_id) if span.links)
    assert consumer.links == tuple(SpanLink(write.trace_id, write.span_id)
                                   for write in pipeline.writes)


def test_a_span_sent_twice_is_kept_once(store: SpanStore) -> None:
    # Given stored spans
    spans = chain().spans
    store.add(spans)

    # When an exporter retries the same batch
    added = store.add(spans)

    # Then nothing new is stored
    assert added == 0
    assert store.count() == len(spans)


def test_between_selects_by_start_time_earliest_first(store: SpanStore) -> None:
    # Given spans 0, 10, 20, … 90 ms after T0
    trace = TraceBuilder()
    for index in range(10):
        trace.span(f"s{index}", at=index * 10.0)
    store.add(list(reversed(trace.spans)))

    # When spans starting between 20 and 50 ms are asked for
    found = store.between(T0 + 0.020, T0 + 0.050)

    # Then exactly those come back in start order, and a limit keeps the earliest
    assert [span.name for span in found] == ["s2", "s3", "s4", "s5"]
    assert [span.name for span in store.between(T0, T0 + 1, limit=2)] == ["s0", "s1"]
    assert store.between(T0 + 10, float("inf")) == []


def test_traces_between_returns_whole_traces_latest_first(store: SpanStore) -> None:
    # Given three traces a second apart, the second with a span long after the window
    traces = [TraceBuilder(start=T0 + offset, number=offset + 1) for offset in range(3)]
    for trace in traces:
        trace.span("root")
    late = traces[1].span("late", at=60_000.0)
    store.add([span for trace in traces for span in trace.spans])

    # When traces with a span in the first 1.5 s are asked for
    found = store.traces_between(T0, T0 + 1.5)

    # Then the two traces come back, latest first, each with all of its spans
    assert list(found) == [traces[1].trace_id, traces[0].trace_id]
    assert late in found[traces[1].trace_id]
    assert list(store.traces_between(T0, T0 + 5, limit=1)) == [traces[2].trace_id]


def test_retention_drops_the_oldest_spans_beyond_the_limit(tmp_path: Path) -> None:
    # Given a store that keeps 100 spans, filled with 150 spans 150 … 1 s old
    store = SpanStore(tmp_path / "traces.db", max_spans=100, max_age_hours=1)
    spans = [recent_span(150 - index, index) for index in range(150)]
    for offset in range(0, 150, 10):
        store.add(spans[offset:offset + 10])

    # When retention runs (it also runs by itself every tenth of the limit)
    store.enforce_retention()

    # Then the 100 newest remain
    kept = store.between(0, time.time())
    assert kept == spans[50:]
    store.close()


def test_retention_drops_spans_older_than_the_age_limit(tmp_path: Path) -> None:
    # Given spans 2 h and 1 min old in a store that keeps one hour
    store = SpanStore(tmp_path / "traces.db", max_spans=1_000, max_age_hours=1)
    old, fresh = recent_span(7200, 1), recent_span(60, 2)
    store.add([old, fresh])

    # When retention runs
    dropped = store.enforce_retention()

    # Then only the old span is gone
    assert dropped == 1
    assert store.between(0, time.time()) == [fresh]
    store.close()


def test_spans_survive_a_reopen(tmp_path: Path) -> None:
    # Given a store with a trace, closed
    pipeline = chain()
    first = SpanStore(tmp_path / "traces.db", max_spans=1_000, max_age_hours=FOREVER)
    first.add(pipeline.spans)
    first.close()

    # When the file is opened again
    second = SpanStore(tmp_path / "traces.db", max_spans=1_000, max_age_hours=FOREVER)

    # Then the trace is there, and the closed store refuses work
    assert ordered(second.trace(pipeline.trace.trace_id)) == ordered(pipeline.trace.spans)
    with pytest.raises(TracingError, match="closed"):
        first.count()
    second.close()


def test_a_malformed_trace_id_is_refused(store: SpanStore) -> None:
    with pytest.raises(TracingError, match="32 hex"):
        store.trace("1-5f8a-nothex")


def test_readers_run_while_one_thread_writes(store: SpanStore) -> None:
    # Given a writer adding 40 batches of 50 spans
    batches = [TraceBuilder(number=index + 1) for index in range(40)]
    for trace in batches:
        for position in range(50):
            trace.span("s", at=position)
    errors: list[BaseException] = []
    seen: list[int] = []

    def write() -> None:
        for trace in batches:
            store.add(trace.spans)

    def read() -> None:
        try:
            for _ in range(40):
                seen.append(len(store.between(T0 - 1, T0 + 1)))
                store.trace(random.choice(batches).trace_id)
        except BaseException as error:  # reported below
            errors.append(error)

    # When four readers query at the same time
    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(4))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then no reader failed, each saw whole batches, and every span was stored
    assert errors == []
    assert all(count % 50 == 0 for count in seen)
    assert store.count() == 2_000


def synthetic(count: int, start: float) -> list[Span]:
    """`count` spans shaped like ripple's: an S3 CLIENT call and the handler's SERVER span
    in turn, 200 traces a second."""
    resource = {"service.name": "ripple-worker", "telemetry.sdk.language": "python",
                "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.version": "1.45.2"}
    spans = []
    for index in range(count):
        start_ns = int((start + index / 400) * 1e9)
        trace_id = f"{int(start) + index // 400:08x}{index // 2:024x}"
        if index % 2:
            spans.append(Span(trace_id, f"{index:016x}", f"{index - 1:016x}", "S3.PutObject",
                              SpanKind.CLIENT, start_ns, start_ns + 2_000_000, attributes={
                                  "rpc.system": "aws-api", "rpc.service": "S3",
                                  "rpc.method": "PutObject", "aws.s3.bucket": f"b{index % 5}",
                                  "aws.s3.key": f"images/{index}.jpg",
                                  "http.response.status_code": 200}, resource=resource))
        else:
            spans.append(Span(trace_id, f"{index:016x}", None, "resize", SpanKind.SERVER,
                              start_ns, start_ns + 9_000_000, attributes={
                                  "faas.name": "resize", "faas.invocation_id": f"req-{index}",
                                  "faas.coldstart": False, "faas.trigger": "datasource",
                                  "cloud.resource_id":
                                      "arn:aws:lambda:us-east-1:000000000000:function:resize"},
                              resource=resource))
    return spans


def test_100000_spans_come_back_by_time_after_a_reopen(tmp_path: Path) -> None:
    # Given 100,000 spans shaped like ripple's, stored in batches the receiver would see
    # (benchmarks/tracing.py measures how fast; this checks that nothing is lost)
    start = time.time() - 600
    spans = synthetic(100_000, start)
    store = SpanStore(tmp_path / "traces.db", max_spans=2_000_000, max_age_hours=24)
    for offset in range(0, len(spans), 2_000):
        store.add(spans[offset:offset + 2_000])
    store.close()
    # When the store is opened again and all of them are read back by time
    store = SpanStore(tmp_path / "traces.db", max_spans=2_000_000, max_age_hours=24)
    found = store.between(start - 1, time.time())
    store.close()
    # Then everything came back, in order
    assert len(found) == len(spans)
    assert found[-1] == spans[-1]


def test_empty_and_unknown_reads_are_empty(store: SpanStore) -> None:
    assert store.add([]) == 0
    assert store.trace("0af7651916cd43dd8448eb211c80319c") == []
    assert store.traces(["0af7651916cd43dd8448eb211c80319c"]) == {}
    assert store.traces_between(0, time.time()) == {}
    assert store.count() == 0
