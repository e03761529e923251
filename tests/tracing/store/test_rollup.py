"""The service map counted ahead of time: the same answer as a rebuild from every span, late
and repeated spans counted once, windows to the second, retention, and a reopen."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.tracing import FOREVER, T0, TraceBuilder, by_name, chain, edge, weighted
from tracing.graph import service_graph
from tracing.nodes import FUNCTION, LAMBDA
from tracing.spans import Span
from tracing.store.database import SpanStore
from tracing.store.rollup import MapRollup

EVERYTHING = (T0 - 60, T0 + 3600)


def from_store(store: SpanStore, start: float, end: float) -> list[dict[str, Any]]:
    return store.map.services(start, end)


def with_rollup(path: Path, max_spans: int) -> tuple[SpanStore, MapRollup]:
    """A store at `path` with the rollup attached, as the endpoint opens it."""
    store = SpanStore(path, max_spans=max_spans, max_age_hours=FOREVER)
    return store, store.add_listener(MapRollup(store))


def rebuilt(spans: list[Span], start: float, end: float) -> list[dict[str, Any]]:
    return list(service_graph(spans, start, end)["Services"])


def test_the_counted_map_equals_a_rebuild_from_every_span(store: SpanStore) -> None:
    # Given the chain, once with a failing B, stored in one batch
    spans = chain(fail_one_b=True).spans
    store.add(spans)
    # When the map is read from the counted statistics
    services = from_store(store, *EVERYTHING)
    # Then it is exactly the map rebuilt from every span
    assert services == rebuilt(spans, *EVERYTHING)


def test_spans_that_arrive_after_their_trace_was_counted_are_added_once(
        store: SpanStore, rollup: MapRollup) -> None:
    # Given a chain whose spans come from three processes, in three exports
    spans = chain().spans
    thirds = [spans[index::3] for index in range(3)]
    # When each export is counted before the next one arrives
    for part in thirds:
        store.add(part)
        rollup.fold()
    # Then the map counts what the whole chain's map counts, nothing twice (only the times
    # may be wider: a span first counted under the client stretched the client's range)
    assert counts(from_store(store, *EVERYTHING)) == counts(rebuilt(spans, *EVERYTHING))


def counts(services: list[dict[str, Any]]) -> dict[tuple[str, ...], Any]:
    """Each node's and edge's statistics and histograms, without their times."""
    names = {service["ReferenceId"]: (service["Name"], service["Type"]) for service in services}
    found: dict[tuple[str, ...], Any] = {}
    for service in services:
        node = names[service["ReferenceId"]]
        found[node] = (service["SummaryStatistics"], service["ResponseTimeHistogram"])
        for out in service["Edges"]:
            found[node + names[out["ReferenceId"]]] = (out["SummaryStatistics"],
                                                       out["ResponseTimeHistogram"],
                                                       out["EdgeType"])
    return found


def test_an_export_sent_again_changes_nothing(store: SpanStore) -> None:
    # Given a counted chain
    spans = chain().spans
    store.add(spans)
    before = from_store(store, *EVERYTHING)
    # When an exporter retries and sends half of it again, with one new span
    late = TraceBuilder(number=77).function("late", None, 50.0)[0]
    store.add(spans[: len(spans) // 2] + [replace(late, trace_id=spans[0].trace_id)])
    after = from_store(store, *EVERYTHING)
    # Then only the new span's request was added
    assert len(after) == len(before) + 1
    assert by_name({"Services": after}, "late", LAMBDA)["SummaryStatistics"]["TotalCount"] == 1
    a_to_b = edge({"Services": after}, ("A", FUNCTION), ("B", LAMBDA))
    assert a_to_b["SummaryStatistics"]["TotalCount"] == 10


def test_a_window_counts_the_seconds_it_touches(store: SpanStore) -> None:
    # Given one invocation of f at T0 and one ten minutes later
    early, late = TraceBuilder(start=T0, number=1), TraceBuilder(start=T0 + 600, number=2)
    early.function("f", None, 0.0)
    late.function("f", None, 0.0)
    store.add(early.spans + late.spans)
    # When the map is read for a window that holds only the later one
    services = {"Services": from_store(store, T0 + 300, T0 + 900)}
    # Then only the later one is counted
    assert by_name(services, "f", FUNCTION)["SummaryStatistics"]["TotalCount"] == 1
    assert by_name(services, "f", FUNCTION)["StartTime"] >= T0 + 600


def test_quiet_traces_are_counted_in_the_background(store: SpanStore) -> None:
    # Given a stored chain
    store.add(chain().spans)
    # When nobody asks for a map for a while
    deadline = time.monotonic() + 10
    while store.read("SELECT count(*) FROM map_stats", ())[0][0] == 0:
        assert time.monotonic() < deadline, "the background fold never ran"
        time.sleep(0.1)
    # Then the statistics are already there
    assert store.read("SELECT count(*) FROM map_stats", ())[0][0] > 5


def test_retention_forgets_the_counts_of_dropped_spans(tmp_path: Path) -> None:
    # Given a store that keeps 4 spans (one invocation's), holding a chain from T0
    store, rollup = with_rollup(tmp_path / "traces.db", max_spans=4)
    store.add(chain().spans)
    rollup.fold()
    # When a later trace pushes the chain out
    later = TraceBuilder(start=T0 + 3600, number=9)
    later.function("f", None, 0.0)
    store.add(later.spans)
    store.enforce_retention()
    # Then the map of the chain's time is empty, and the later trace is there
    assert from_store(store, T0 - 60, T0 + 60) == []
    assert by_name({"Services": from_store(store, T0 + 3500, T0 + 3700)}, "f", FUNCTION)
    store.close()


def test_counts_survive_a_reopen_even_when_closed_before_the_fold(tmp_path: Path) -> None:
    # Given a store closed right after a chain was stored
    spans = chain().spans
    store, _ = with_rollup(tmp_path / "traces.db", max_spans=1_000_000)
    store.add(spans)
    store.close()
    # When it is opened again
    reopened, _ = with_rollup(tmp_path / "traces.db", max_spans=1_000_000)
    # Then the map is there
    assert from_store(reopened, *EVERYTHING) == rebuilt(spans, *EVERYTHING)
    reopened.close()


def test_exports_landing_while_the_map_folds_are_counted_once(store: SpanStore,
                                                              rollup: MapRollup) -> None:
    # Given 300 traces whose spans arrive in two exports each, in a shuffled order
    traces = []
    for number in range(1, 301):
        trace = TraceBuilder(start=T0 + number % 7, number=number)
        trace.function("f", None, 0.0)
        traces.append(trace.spans)
    exports = [spans[:2] for spans in traces] + [spans[2:] for spans in traces]
    random.Random(4).shuffle(exports)
    # When they are stored from one thread while another folds the map again and again
    done = threading.Event()

    def fold_continuously() -> None:
        while not done.is_set():
            rollup.fold()

    folder = threading.Thread(target=fold_continuously)
    folder.start()
    try:
        for export in exports:
            store.add(export)
    finally:
        done.set()
        folder.join()
    # Then the map counts every request exactly once
    everything = [span for spans in traces for span in spans]
    assert counts(from_store(store, *EVERYTHING)) == counts(rebuilt(everything, *EVERYTHING))


def test_a_weighted_trace_counts_as_its_rebuild_even_when_its_weight_comes_late(
        store: SpanStore, rollup: MapRollup) -> None:
    # Given the chain, its first trace kept by a sampler's rate (the root's span says weight
    # 20), whose root span is exported after the rest was counted
    spans = weighted(chain(fail_one_b=True).spans, 20)
    store.add(spans[1:])
    rollup.fold()
    # When the weighted span arrives and the trace is counted again
    store.add(spans[:1])
    # Then the map is the rebuild's: every request of the trace counted 20 times, none
    # left over at weight 1
    assert counts(from_store(store, *EVERYTHING)) == counts(rebuilt(spans, *EVERYTHING))
    b = next(service for service in from_store(store, *EVERYTHING)
             if service["Name"] == "B" and service["Type"] == FUNCTION)
    assert b["SummaryStatistics"]["TotalCount"] == 200
