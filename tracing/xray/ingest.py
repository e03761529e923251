"""Segment documents into the span store: the one path for the daemon's datagrams and for
`PutTraceSegments`.

The store keeps the first copy of a span (`INSERT OR IGNORE`), but an X-Ray SDK may send a
part `in_progress` first and complete it later. So a part still in progress is held here until
its complete version arrives (which then is stored), or for `hold_seconds` (Lambda's longest
timeout), or until the endpoint stops; only then is it stored as it is, in progress. At most
`max_held` parts wait; beyond that the oldest go to the store first.

Like every tracing component, ingest never fails its sender over the store's trouble: a store
error is logged (once a minute) and counted as `spans_dropped`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from tracing.spans import Span
from tracing.store.sink import SpanSink
from tracing.xray.conversion import spans_of
from tracing.xray.documents import DocumentError, read

log = logging.getLogger("ripple.tracing.xray")
HOLD_SECONDS = 900.0  # Lambda's longest timeout: an invocation in progress ends by then
MAX_HELD = 10_000


@dataclass(frozen=True)
class Unprocessed:
    """A document refused: `PutTraceSegments`' `UnprocessedTraceSegments` item."""

    id: str
    code: str
    message: str


class SegmentIngest:
    """Checks, converts and stores segment documents, and counts what it did."""

    NAMES = ("documents_received", "documents_rejected", "spans_stored", "spans_dropped",
             "spans_in_progress")

    def __init__(self, store: SpanSink, hold_seconds: float = HOLD_SECONDS,
                 max_held: int = MAX_HELD) -> None:
        self.store = store
        self.hold_seconds = hold_seconds
        self.max_held = max_held
        self.documents_received = 0
        self.documents_rejected = 0  # refused by X-Ray's rules, or not X-Ray's protocol
        self.spans_stored = 0
        self.spans_dropped = 0  # converted, but the store failed
        self._held: OrderedDict[tuple[str, str], tuple[float, Span]] = OrderedDict()
        self._lock = threading.Lock()
        self._warned_at = 0.0

    @property
    def spans_in_progress(self) -> int:
        return len(self._held)

    def stats(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in self.NAMES}

    def count_rejected(self, documents: int = 1) -> None:
        with self._lock:
            self.documents_received += documents
            self.documents_rejected += documents

    def put(self, documents: Iterable[str | bytes]) -> list[Unprocessed]:
        """Store what the documents hold; returns the ones refused, with X-Ray's error."""
        spans: list[Span] = []
        refused: list[Unprocessed] = []
        received = 0
        for text in documents:
            received += 1
            try:
                spans.extend(spans_of(read(text)))
            except DocumentError as error:
                refused.append(Unprocessed(error.id, error.code, str(error)))
        with self._lock:
            self.documents_received += received
            self.documents_rejected += len(refused)
            ready = self._sort(spans, time.monotonic())
        self._store(ready)
        return refused

    def flush(self) -> int:
        """Store every held part as it is, in progress (at the endpoint's stop)."""
        with self._lock:
            ready = [span for _, span in self._held.values()]
            self._held.clear()
        return self._store(ready)

    def _sort(self, spans: list[Span], now: float) -> list[Span]:
        """The spans to store now; parts in progress are held (under the lock)."""
        ready: list[Span] = []
        for span in spans:
            key = (span.trace_id, span.span_id)
            if span.end_ns:
                self._held.pop(key, None)
                ready.append(span)
            elif key not in self._held:
                self._held[key] = (now, span)
        while self._held:
            key, (held_at, span) = next(iter(self._held.items()))
            if now - held_at < self.hold_seconds and len(self._held) <= self.max_held:
                break
            del self._held[key]
            ready.append(span)
        return ready

    def _store(self, spans: list[Span]) -> int:
        if not spans:
            return 0
        try:
            stored = self.store.add(spans)
        except Exception as error:  # the sender must never see the store's trouble
            with self._lock:
                self.spans_dropped += len(spans)
                warn = time.monotonic() - self._warned_at >= 60
                if warn:
                    self._warned_at = time.monotonic()
            if warn:
                log.warning("span store failed, %d X-Ray spans dropped so far: %r",
                            self.spans_dropped, error)
            return 0
        with self._lock:
            self.spans_stored += stored
        return stored
