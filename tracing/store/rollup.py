"""The service map, counted ahead of time: per-second node and edge statistics folded from
whole traces shortly after their spans stop arriving, so a map over hours of spans is a merge
of a few thousand small rows instead of a rebuild from every span.

A trace is folded when it has been quiet for `QUIET_SECONDS` (by a background thread), or
when a map is asked for (everything pending first, so answers are never stale). A trace that
gets more spans after it was folded is folded again: its share counted from the spans stored
before (those at or below the store's row watermark when the new ones came) is taken away and
its share from all of them added, so late spans and retried exports never count twice.

Requests fall into the second their span started in; a window includes every second it
touches, so its edges are exact to the second.

Whoever opens the store attaches the rollup: `store.add_listener(MapRollup(store))`; the store
then tells it of each commit (`on_ingest`), retention pass and its close.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from tracing.graph import Edges, Nodes, Request, Stats, render, requests, trace_weight
from tracing.nodes import Node
from tracing.spans import Span
from tracing.store.database import SpanStore
from tracing.store.gc import collector_paused
from tracing.store.listener import StoreListener
from tracing.store.rows import ns

log = logging.getLogger("ripple.tracing.rollup")
QUIET_SECONDS = 1.0
UNRESOLVED_SECONDS = 10.0  # how long a trace waits for the spans its links name
FOLD_EVERY_SECONDS = 0.5
FOLD_CHUNK = 500  # traces read and counted at a time
MAX_HELD_SPANS = 200_000  # spans kept in memory until their traces are counted

SCHEMA = """
CREATE TABLE IF NOT EXISTS map_stats (
    second INTEGER NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (second, source, target)
) WITHOUT ROWID;
"""
Key = tuple[int, str, str]  # second, source node, target node ('' for a node's own row)


def _node_key(node: Node) -> str:
    return f"{node.type}\t{node.name}"


def _node(key: str) -> Node:
    node_type, name = key.split("\t", 1)
    return Node(name, node_type)


def _key(request: Request) -> Key:
    target = "" if request.target is None else _node_key(request.target)
    return request.span.start_ns // 1_000_000_000, _node_key(request.node), target


def _count(found: Iterable[Request], into: dict[Key, Stats], weight: int) -> None:
    """Add requests (each standing for `weight`) to statistics by second, node and edge."""
    for request in found:
        key = _key(request)
        stats = into.get(key)
        if stats is None:
            stats = into[key] = Stats()
        stats.add(request.outcome, request.span, request.end_ns, weight)
        stats.link = stats.link or request.link


@dataclass
class _Unresolved:
    """A counted trace whose links point to spans not stored yet."""

    since: float
    wanted: set[tuple[str, str]]
    found: int
    share: dict[Key, Stats]


@dataclass
class _Pending:
    """A trace with spans not counted yet: those spans, while memory allows (else None)."""

    touched: float
    watermark: int  # its spans stored since have rowids above this
    spans: list[Span] | None


class MapRollup(StoreListener):
    """Folds a store's traces into `map_stats` and answers service maps from it; register it
    with `store.add_listener` to be told of what the store commits."""

    def __init__(self, store: SpanStore) -> None:
        self.store = store
        with store.writing() as connection:
            connection.execute(SCHEMA)
        self._pending: dict[str, _Pending] = {}
        self._held = 0  # spans held in `_pending`
        self._pending_lock = threading.Lock()
        self._unresolved: dict[str, _Unresolved] = {}
        self._fold_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # bookkeeping: the store's listener hooks ------------------------------------------------

    def on_ingest(self, spans: Sequence[Span], watermark: int) -> None:
        """Hold these spans' traces for folding (their spans have rowids above `watermark`)."""
        now = time.monotonic()
        with self._pending_lock:
            for span in spans:
                pending = self._pending.get(span.trace_id)
                if pending is None:
                    pending = self._pending[span.trace_id] = _Pending(now, watermark, [])
                pending.touched = now
                if pending.spans is not None:
                    if self._held < MAX_HELD_SPANS:
                        pending.spans.append(span)
                        self._held += 1
                    else:  # read it back from the store when it is folded
                        self._held -= len(pending.spans)
                        pending.spans = None
        if self._thread is None:
            self._start()

    def on_retention(self, connection: sqlite3.Connection, oldest_second: int) -> None:
        """Forget what was counted for the seconds before `oldest_second`."""
        connection.execute("DELETE FROM map_stats WHERE second < ?", (oldest_second,))

    def on_close(self) -> None:
        """Stop the background fold and fold everything pending."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.fold()

    # folding ------------------------------------------------------------------------------

    def _start(self) -> None:
        with self._pending_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="ripple-map-rollup",
                                            daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(FOLD_EVERY_SECONDS):
            try:
                self.fold(quiet_for=QUIET_SECONDS)
            except Exception:  # the map must never take the receiver down
                log.exception("folding traces into the service map failed")

    def fold(self, quiet_for: float = 0.0) -> int:
        """Fold the pending traces quiet for at least `quiet_for` seconds, and those whose
        links found their spans since; how many."""
        with self._fold_lock:
            # Taking the due traces and reading them happen with no export landing between,
            # so a trace's spans are either all in this fold's reading or touched again.
            with self.store.write_lock:
                now = time.monotonic()
                with self._pending_lock:
                    due = {trace_id: pending for trace_id, pending in self._pending.items()
                           if now - pending.touched >= quiet_for}
                    for trace_id, pending in due.items():
                        del self._pending[trace_id]
                        self._held -= len(pending.spans or ())
                for trace_id, unresolved in list(self._unresolved.items()):
                    if now - unresolved.since > UNRESOLVED_SECONDS:
                        del self._unresolved[trace_id]  # the linked spans never came
                    elif trace_id not in due and len(self.store.spans_by_key(
                            unresolved.wanted)) > unresolved.found:
                        due[trace_id] = _Pending(now, 0, None)
                ids = list(due)
                with collector_paused():
                    chunks = [self._traces({trace_id: due[trace_id]
                                            for trace_id in ids[offset:offset + FOLD_CHUNK]})
                              for offset in range(0, len(ids), FOLD_CHUNK)]
            with collector_paused():
                for chunk in chunks:
                    self._fold(chunk, due)
            return len(due)

    def _fold(self, traces: dict[str, list[tuple[int, Span]]],
              due: dict[str, _Pending]) -> None:
        delta: dict[Key, Stats] = {}
        for trace_id, trace in traces.items():
            spans = [span for _, span in trace]
            weight = trace_weight(spans)  # a sampled trace counts for those it stands for
            # The spans other traces' links point to (a batch's records) are context only.
            wanted = {(link.trace_id, link.span_id) for span in spans for link in span.links
                      if link.trace_id != trace_id}
            context = self.store.spans_by_key(wanted)
            earlier = self._unresolved.pop(trace_id, None)
            first = min(rowid for rowid, _ in trace) > due[trace_id].watermark  # never counted
            if earlier is None and first and len(context) == len(wanted):
                _count(requests(spans + context, trace_id), delta, weight)  # the common case
                continue
            share: dict[Key, Stats] = {}
            _count(requests(spans + context, trace_id), share, weight)
            if earlier is not None:
                old = earlier.share
            else:
                before = [span for rowid, span in trace if rowid <= due[trace_id].watermark]
                old = {}
                _count(requests(before + context, trace_id), old, trace_weight(before))
            if len(context) < len(wanted):  # count again once the records' spans arrive
                since = earlier.since if earlier else time.monotonic()
                self._unresolved[trace_id] = _Unresolved(since, wanted, len(context), share)
            for key, stats in share.items():
                delta.setdefault(key, Stats()).merge(stats)
            for key, stats in old.items():
                delta.setdefault(key, Stats()).merge(stats, -1)
        self._apply(delta)

    def _traces(self, due: dict[str, _Pending]) -> dict[str, list[tuple[int, Span]]]:
        """Each due trace's spans with their rowids: from memory when every stored span of
        the trace is one held since it was touched (rowids then only need to be above the
        watermark), else from the store."""
        rowids = self.store.rowids(due)
        found: dict[str, list[tuple[int, Span]]] = {}
        unread = []
        for trace_id, pending in due.items():
            stored = rowids.get(trace_id, [])
            held = pending.spans
            if (held is not None and len({span.span_id for span in held}) == len(stored)
                    and all(rowid > pending.watermark for rowid in stored)):
                found[trace_id] = [(pending.watermark + 1, span) for span in held]
            else:
                unread.append(trace_id)
        found.update(self.store.traces_with_rowids(unread))
        return found

    def _apply(self, delta: dict[Key, Stats]) -> None:
        changed = [(key, stats) for key, stats in delta.items()
                   if stats.counts or stats.total_time or stats.link]
        if not changed:
            return
        with self.store.writing() as connection:
            for (second, source, target), stats in changed:
                row = connection.execute(
                    "SELECT body FROM map_stats WHERE second = ? AND source = ? AND target = ?",
                    (second, source, target)).fetchone()
                if row is not None:
                    stored = Stats.from_json(orjson.loads(row[0]))
                    stored.merge(stats)
                    stats = stored
                stats.drop_negative()  # a share whose rows retention already dropped
                if stats.empty:
                    connection.execute("DELETE FROM map_stats WHERE second = ? AND source = ? "
                                       "AND target = ?", (second, source, target))
                    continue
                connection.execute("INSERT OR REPLACE INTO map_stats VALUES (?, ?, ?, ?)",
                                   (second, source, target,
                                    orjson.dumps(stats.to_json()).decode()))

    # reading ------------------------------------------------------------------------------

    def services(self, start: float, end: float) -> list[dict[str, Any]]:
        """X-Ray's `Services` for the requests that started in the seconds [start, end]
        touches."""
        self.fold()
        nodes: Nodes = {}
        edges: Edges = {}
        for source, target, body in self.store.read(
                "SELECT source, target, body FROM map_stats WHERE second BETWEEN ? AND ?",
                (ns(start) // 10**9, ns(end) // 10**9)):
            stats = Stats.from_json(orjson.loads(body))
            if target:
                found = edges.setdefault((_node(source), _node(target)), Stats())
            else:
                found = nodes.setdefault(_node(source), Stats())
            found.merge(stats)
        return render(nodes, edges)

