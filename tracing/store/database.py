"""The span store: SQLite (WAL) at `.ripple/traces.db`, fed by the OTLP receiver and read by
the service map, the trace summaries and the timelines.

One row a span (`rows.py` says how): a third less disk than whole JSON, and faster to read.
Spans read back share their resource dict, so treat it as read-only. Retention (a span count
and an age) runs every few thousand inserts, always deleting the spans that started first.

What is derived from the spans (the service-map rollup) is not built here: it registers as a
`StoreListener` and is told of each commit, retention pass and the close.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from tracing.errors import TracingError
from tracing.spans import Span
from tracing.store.gc import collector_paused
from tracing.store.listener import ServiceMap, StoreListener
from tracing.store.rows import COLUMNS, SCHEMA, Row, decode, dumps, encode_rest, ns, trace_key

log = logging.getLogger("ripple.tracing.store")

# How many spans may be added between two retention passes (at most a tenth of the limit).
RETENTION_EVERY = 10_000
# SQLite's default limit on bound parameters is 32,766; stay well below.
IN_CHUNK = 500
Listener = TypeVar("Listener", bound=StoreListener)


class SpanStore:
    """Spans in SQLite: one writer and any number of readers, each thread on its own
    connection (WAL lets readers run while the writer commits)."""

    def __init__(self, path: Path, max_spans: int, max_age_hours: float) -> None:
        self.path = Path(path)
        self.max_spans = max_spans
        self.max_age_hours = max_age_hours
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._shared_ids: dict[str, int] = {}  # JSON body → id (the writer's)
        self._shared: dict[int, Any] = {}  # id → decoded body (every reader's)
        self._added_since_retention = 0
        self._closed = False
        self._listeners: tuple[StoreListener, ...] = ()
        writer = self._connection()
        writer.execute("PRAGMA journal_mode=WAL")
        writer.executescript(SCHEMA)

    # listeners -----------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Listener:
        """Tell `listener` of every commit, retention pass and the close from now on; returns
        it."""
        with self._write_lock:  # an ingest tells all the listeners or none of a new one
            self._listeners += (listener,)
        return listener

    @property
    def map(self) -> ServiceMap:
        """The registered listener that answers service maps: the X-Ray API reaches the
        rollup through the store it is given."""
        for listener in self._listeners:
            if isinstance(listener, ServiceMap):
                return listener
        raise TracingError("no service map is attached to this span store", str(self.path))

    def listener(self, kind: type[Listener]) -> Listener | None:
        """The registered listener of that class, if any (the why API finds its index so)."""
        for listener in self._listeners:
            if isinstance(listener, kind):
                return listener
        return None

    def _tell(self, hook: Callable[[StoreListener], None]) -> None:
        """Call a hook on every listener; one that raises is logged and the rest still run
        (the spans are stored whatever a listener does)."""
        for listener in self._listeners:
            try:
                hook(listener)
            except Exception:
                log.exception("span store listener %r failed", listener)

    # connections ---------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        if self._closed:
            raise TracingError("the span store is closed", str(self.path))
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                     timeout=10)
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA cache_size=-32768")  # 32 MB: the indexes of ~1M spans
        connection.execute("PRAGMA mmap_size=268435456")
        with self._connections_lock:
            self._connections.append(connection)
        self._local.connection = connection
        return connection

    def close(self) -> None:
        """Let the listeners finish (the rollup folds what it has pending), then close every
        thread's connection; the store cannot be used afterwards."""
        if self._closed:
            return
        self._tell(lambda listener: listener.on_close())
        self._closed = True
        with self._write_lock, self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    connection.close()
            self._connections.clear()
        self._local = threading.local()

    # writing -------------------------------------------------------------------------------

    def add(self, spans: Sequence[Span]) -> int:
        """Store spans; returns how many were new (a span sent twice is kept once)."""
        if not spans:
            return 0
        with self._write_lock:
            connection = self._connection()
            # A decoded batch shares one resource dict per process, and a few key sets.
            resources: dict[int, int] = {}
            key_sets: dict[tuple[str, ...], int] = {}
            rows = []
            for span in spans:
                resource = resources.get(id(span.resource))
                if resource is None:
                    resource = resources[id(span.resource)] = self._share(
                        connection, dict(sorted(span.resource.items())))
                keys = tuple(span.attributes)
                key_set = key_sets.get(keys)
                if key_set is None:
                    key_set = key_sets[keys] = self._share(connection, keys)
                rows.append((bytes.fromhex(span.trace_id), bytes.fromhex(span.span_id),
                             bytes.fromhex(span.parent_span_id) if span.parent_span_id else None,
                             span.name, int(span.kind), span.start_ns, span.end_ns,
                             int(span.status), resource, key_set, encode_rest(span)))
            connection.execute("BEGIN IMMEDIATE")
            try:
                (watermark,) = connection.execute(
                    "SELECT coalesce(max(rowid), 0) FROM spans").fetchone()
                added = connection.executemany(
                    "INSERT OR IGNORE INTO spans (trace_id, span_id, parent, name, kind, "
                    "start_ns, end_ns, status, resource, attribute_keys, rest) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows).rowcount
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            self._added_since_retention += added
            due = self._added_since_retention >= min(RETENTION_EVERY,
                                                     max(1, self.max_spans // 10))
            if added:  # under the write lock: a fold sees these spans and their touch together
                self._tell(lambda listener: listener.on_ingest(spans, watermark))
        if due:
            self.enforce_retention()
        return added

    def settle(self) -> bool:
        """Spans added are stored already (and the map folds as it is read): a `SpanSink`."""
        return True

    def _share(self, connection: sqlite3.Connection, document: Any) -> int:
        """The id of a document many spans share (a resource, a set of attribute keys),
        stored once. Outside the spans' transaction, so a rollback cannot orphan an id."""
        body = dumps(document)
        found = self._shared_ids.get(body)
        if found is None:
            connection.execute("INSERT OR IGNORE INTO shared (body) VALUES (?)", (body,))
            (found,) = connection.execute("SELECT id FROM shared WHERE body = ?",
                                          (body,)).fetchone()
            self._shared_ids[body] = found
        return found

    def enforce_retention(self) -> int:
        """Drop spans older than `max_age_hours`, then the earliest beyond `max_spans`;
        returns how many were dropped."""
        with self._write_lock:
            connection = self._connection()
            self._added_since_retention = 0
            cutoff = ns(time.time() - self.max_age_hours * 3600)
            dropped = connection.execute("DELETE FROM spans WHERE start_ns < ?",
                                         (cutoff,)).rowcount
            (count,) = connection.execute("SELECT count(*) FROM spans").fetchone()
            if count > self.max_spans:
                dropped += connection.execute(
                    "DELETE FROM spans WHERE rowid IN "
                    "(SELECT rowid FROM spans ORDER BY start_ns LIMIT ?)",
                    (count - self.max_spans,)).rowcount
            if dropped:
                (oldest,) = connection.execute("SELECT min(start_ns) FROM spans").fetchone()
                oldest_second = (oldest or ns(time.time())) // 1_000_000_000
                self._tell(lambda listener: listener.on_retention(connection, oldest_second))
            return int(dropped)

    @property
    def write_lock(self) -> threading.Lock:
        """Held while spans are added: whoever holds it sees no export half-stored."""
        return self._write_lock

    def ingest_connection(self) -> sqlite3.Connection:
        """The writer's connection, for a listener's `on_ingest` to write what it derives from
        the spans: the hook runs under the write lock, so it may open its own transaction."""
        return self._connection()

    @contextlib.contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """The writer's connection, inside one transaction."""
        with self._write_lock:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    # reading -------------------------------------------------------------------------------

    def count(self) -> int:
        (count,) = self._connection().execute("SELECT count(*) FROM spans").fetchone()
        return int(count)

    def trace(self, trace_id: str) -> list[Span]:
        """One trace's spans (by 32-hex trace id), by start time."""
        return self._spans(f"SELECT {COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_ns",
                           (trace_key(trace_id),))

    def between(self, start: float, end: float, limit: int | None = None) -> list[Span]:
        """Spans that started within [start, end] (epoch seconds), earliest first."""
        return self._spans(f"SELECT {COLUMNS} FROM spans WHERE start_ns BETWEEN ? AND ? "
                           "ORDER BY start_ns LIMIT ?",
                           (ns(start), ns(end), -1 if limit is None else limit))

    def traces_between(self, start: float, end: float,
                       limit: int = 1000) -> dict[str, list[Span]]:
        """The whole of the `limit` latest traces with a span started within [start, end]:
        trace id → spans, the latest trace first."""
        keys = [key for (key,) in self._connection().execute(
            "SELECT trace_id FROM spans WHERE start_ns BETWEEN ? AND ? "
            "GROUP BY trace_id ORDER BY min(start_ns) DESC LIMIT ?",
            (ns(start), ns(end), limit))]
        return self.traces(key.hex() for key in keys)

    def traces(self, trace_ids: Iterable[str]) -> dict[str, list[Span]]:
        """Trace id → spans (by start time) for those of `trace_ids` that are stored, in the
        order asked."""
        found: dict[str, list[Span]] = {trace_id.lower(): [] for trace_id in trace_ids}
        for chunk, marks in _chunks([trace_key(trace_id) for trace_id in found]):
            for span in self._spans(f"SELECT {COLUMNS} FROM spans WHERE trace_id IN ({marks}) "
                                    "ORDER BY start_ns", chunk):
                found[span.trace_id].append(span)
        return {trace_id: spans for trace_id, spans in found.items() if spans}

    def traces_with_rowids(self, trace_ids: Iterable[str]) -> dict[str, list[tuple[int, Span]]]:
        """Like `traces`, each span with its rowid (the order spans were stored in)."""
        found: dict[str, list[tuple[int, Span]]] = {}
        for chunk, marks in _chunks([trace_key(trace_id) for trace_id in trace_ids]):
            rows = self._connection().execute(
                f"SELECT rowid, {COLUMNS} FROM spans WHERE trace_id IN ({marks}) "
                "ORDER BY start_ns", chunk).fetchall()
            if not rows:
                continue
            with collector_paused():
                spans = self._decode([row[1:] for row in rows], self._connection())
            for (rowid, *_), span in zip(rows, spans, strict=True):
                found.setdefault(span.trace_id, []).append((rowid, span))
        return found

    def rowids(self, trace_ids: Iterable[str]) -> dict[str, list[int]]:
        """The rowids of each trace's stored spans (read from the index alone)."""
        found: dict[str, list[int]] = {}
        for chunk, marks in _chunks([trace_key(trace_id) for trace_id in trace_ids]):
            for key, rowid in self._connection().execute(
                    f"SELECT trace_id, rowid FROM spans INDEXED BY spans_trace "
                    f"WHERE trace_id IN ({marks})", chunk):
                found.setdefault(key.hex(), []).append(rowid)
        return found

    def spans_by_key(self, keys: Iterable[tuple[str, str]]) -> list[Span]:
        """The stored spans among (trace id, span id) pairs."""
        found: list[Span] = []
        for trace_id, span_id in keys:
            with contextlib.suppress(TracingError, ValueError):
                found += self._spans(f"SELECT {COLUMNS} FROM spans WHERE trace_id = ? AND "
                                     "span_id = ?", (trace_key(trace_id), bytes.fromhex(span_id)))
        return found

    def read(self, query: str, parameters: Sequence[Any]) -> list[Any]:
        """Rows of a query on this thread's connection."""
        return self._connection().execute(query, parameters).fetchall()

    def _spans(self, query: str, parameters: Sequence[Any]) -> list[Span]:
        connection = self._connection()
        rows: list[Row] = connection.execute(query, parameters).fetchall()
        if not rows:
            return []
        with collector_paused():
            return self._decode(rows, connection)

    def _decode(self, rows: list[Row], connection: sqlite3.Connection) -> list[Span]:
        return decode(rows, lambda shared_id: self._shared_document(shared_id, connection))

    def _shared_document(self, shared_id: int, connection: sqlite3.Connection) -> Any:
        found = self._shared.get(shared_id)
        if found is None:
            row = connection.execute("SELECT body FROM shared WHERE id = ?",
                                     (shared_id,)).fetchone()
            if row is None:
                raise TracingError(f"shared document {shared_id} is missing", str(self.path))
            found = self._shared[shared_id] = orjson.loads(row[0])
        return found


def _chunks(keys: list[bytes]) -> Iterator[tuple[list[bytes], str]]:
    """`keys` in slices an `IN (?, …)` can bind, each with its question marks."""
    for offset in range(0, len(keys), IN_CHUNK):
        chunk = keys[offset:offset + IN_CHUNK]
        yield chunk, ", ".join("?" * len(chunk))
