"""The store's listeners: told of each commit, retention pass and the close; one that raises
is logged and never fails the store (tracing never fails its caller)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.tracing import FOREVER, T0, TraceBuilder, chain
from tracing.graph import service_graph
from tracing.spans import Span
from tracing.store.database import SpanStore
from tracing.store.listener import StoreListener
from tracing.store.rollup import MapRollup

EVERYTHING = (T0 - 60, T0 + 3600)


class Broken(StoreListener):
    """A listener whose every hook raises, counting its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def on_ingest(self, spans: Sequence[Span], watermark: int) -> None:
        self.calls.append("ingest")
        raise RuntimeError("ingest hook broke")

    def on_retention(self, connection: sqlite3.Connection, oldest_second: int) -> None:
        self.calls.append("retention")
        raise RuntimeError("retention hook broke")

    def on_close(self) -> None:
        self.calls.append("close")
        raise RuntimeError("close hook broke")


class Recorder(StoreListener):
    """A listener that keeps what it was told."""

    def __init__(self) -> None:
        self.ingested: list[tuple[list[str], int]] = []

    def on_ingest(self, spans: Sequence[Span], watermark: int) -> None:
        self.ingested.append(([span.span_id for span in spans], watermark))


def test_a_raising_listener_fails_no_ingest_and_the_rollup_still_counts(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Given a store whose first listener raises from every hook, then the rollup
    store = SpanStore(tmp_path / "traces.db", max_spans=1_000_000, max_age_hours=FOREVER)
    broken = store.add_listener(Broken())
    rollup = store.add_listener(MapRollup(store))
    spans = chain(fail_one_b=True).spans
    # When a chain is stored
    with caplog.at_level(logging.ERROR, logger="ripple.tracing.store"):
        added = store.add(spans)
    # Then every span is stored, the failure is logged, and the rollup was told all the same
    assert added == len(spans) == store.count()
    assert broken.calls == ["ingest"]
    assert "ingest hook broke" in caplog.text
    assert rollup.fold() == len({span.trace_id for span in spans})
    assert store.map.services(*EVERYTHING) == list(
        service_graph(spans, *EVERYTHING)["Services"])
    # And a raising close hook neither stops the rollup's close nor the store's
    store.close()
    assert broken.calls == ["ingest", "close"]
    with pytest.raises(Exception, match="closed"):
        store.count()


def test_a_raising_listener_fails_no_retention(tmp_path: Path) -> None:
    # Given a store keeping 4 spans, with a raising listener before the rollup
    store = SpanStore(tmp_path / "traces.db", max_spans=4, max_age_hours=FOREVER)
    broken = store.add_listener(Broken())
    rollup = store.add_listener(MapRollup(store))
    store.add(chain().spans)
    rollup.fold()
    # When retention drops the chain for a later trace
    later = TraceBuilder(start=T0 + 3600, number=9)
    later.function("f", None, 0.0)
    store.add(later.spans)
    store.enforce_retention()
    # Then the chain's spans are dropped and the rollup forgot their counts
    assert store.between(T0 - 60, T0 + 60) == []
    assert "retention" in broken.calls
    assert store.map.services(T0 - 60, T0 + 60) == []
    store.close()


def test_listeners_hear_of_new_spans_only(store: SpanStore) -> None:
    # Given a listener registered on a store holding one invocation
    first = TraceBuilder(number=1)
    first.function("f", None, 0.0)
    store.add(first.spans)
    recorder = store.add_listener(Recorder())
    # When the same spans are sent again, then a new invocation
    store.add(first.spans)
    second = TraceBuilder(number=2)
    second.function("g", None, 0.0)
    store.add(second.spans)
    # Then it heard only of the batch that stored something, with the rowids before it
    assert recorder.ingested == [([span.span_id for span in second.spans], len(first.spans))]
