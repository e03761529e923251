"""The span store's writer process: spans handed over are readable (the map included) once
`settle` returns, a writer that dies is replaced, closing stores what was still queued, and
what waits for the store is bounded."""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from multiprocessing import Pipe
from pathlib import Path
from typing import Any

from tests.tracing import FOREVER, T0, TraceBuilder, chain
from tracing.store import writer as span_writer
from tracing.store.database import SpanStore
from tracing.store.rollup import MapRollup
from tracing.store.writer import SpanWriter

EVERYTHING = (T0 - 60, T0 + 3600)


def reader(path: Path) -> SpanStore:
    """The endpoint's side: the same file, opened with the rollup as the endpoint opens it."""
    store = SpanStore(path, max_spans=100_000, max_age_hours=FOREVER)
    store.add_listener(MapRollup(store))
    return store


def test_spans_handed_over_are_read_back_with_the_map_once_settled(tmp_path: Path) -> None:
    # Given a reader and a writer process on one store file
    store = reader(tmp_path / "traces.db")
    writer = SpanWriter(store.path, store.max_spans, store.max_age_hours)
    try:
        # When the chain is handed over in two batches and the writer is settled
        spans = chain().spans
        assert writer.add(spans[:10]) + writer.add(spans[10:]) == len(spans)
        assert writer.settle(timeout=30)

        # Then the reader sees every span and the service map counts the chain
        assert store.count() == len(spans)
        names = {service["Name"] for service in store.map.services(*EVERYTHING)}
        assert {"A", "B", "C"} <= names
    finally:
        writer.close()
        store.close()


def test_closing_stores_what_is_still_queued(tmp_path: Path) -> None:
    # Given spans handed over and no settle
    store = reader(tmp_path / "traces.db")
    writer = SpanWriter(store.path, store.max_spans, store.max_age_hours)
    builder = TraceBuilder()
    for at in range(200):
        builder.span(f"s{at}", at=at)

    # When the writer is closed at once
    writer.add(builder.spans)
    writer.close()

    # Then every span was stored before the writer process exited
    assert store.count() == 200
    store.close()


def test_a_writer_that_dies_is_replaced(tmp_path: Path) -> None:
    # Given a writer process killed after storing a first batch
    store = reader(tmp_path / "traces.db")
    writer = SpanWriter(store.path, store.max_spans, store.max_age_hours)
    try:
        writer.add([TraceBuilder(number=1).span("a")])
        assert writer.settle(timeout=30)
        os.kill(writer._process.pid, signal.SIGKILL)
        writer._process.wait()

        # When more spans are handed over (the first send after the death may be lost)
        deadline = time.monotonic() + 30
        while store.count() < 2 and time.monotonic() < deadline:
            writer.add([TraceBuilder(number=2).span("b")])
            writer.settle(timeout=5)

        # Then a new writer process stores them
        assert store.count() == 2
    finally:
        writer.close()
        store.close()


def test_the_writer_drops_new_batches_beyond_what_it_may_hold(monkeypatch: Any) -> None:
    # Given a writer's inbox that may hold 1,000 bytes, and a settle behind three batches
    monkeypatch.setattr(span_writer, "MAX_HELD_BYTES", 1_000)
    ours, theirs = Pipe()
    inbox: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    held = span_writer._Held()
    reading = threading.Thread(target=span_writer._read, args=(theirs, inbox, held))
    reading.start()

    # When three 600-byte batches arrive while nothing is stored yet
    for _ in range(3):
        ours.send_bytes(span_writer.SPANS + b"x" * 599)
    ours.send_bytes(span_writer.SETTLE + b"1")
    ours.close()
    reading.join(10)

    # Then one batch is held, two are dropped and counted, and the settle still gets through
    kinds = [inbox.get(timeout=5)[:1] for _ in range(3)]
    assert kinds == [span_writer.SPANS, span_writer.SETTLE, span_writer.CLOSE]
    assert held.dropped_messages == 2
