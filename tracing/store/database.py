"""The span store: SQLite (WAL) at `.ripple/traces.db`, fed by the OTLP receiver and read by
the service map, the trace summaries and the timelines.

One row a span. The columns queries select on are real columns (ids as blobs, times in ns);
attribute values, events and links are one JSON column,
and what many spans repeat (a resource, a set of attribute keys) is stored once in `shared`:
a third less disk than whole JSON, and faster to read. Spans read back share their resource
dict, so treat it as read-only. Retention (a span count and an age) runs every few thousand
inserts, always deleting the spans that started first.

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
from typing import Any, Protocol, TypeVar, runtime_checkable

import orjson

from tracing.errors import TracingError
from tracing.spans import Span, SpanEvent, SpanKind, SpanLink, StatusCode
from tracing.store.gc import collector_paused
from tracing.store.listener import StoreListener

log = logging.getLogger("ripple.tracing.store")

# How many spans may be added between two retention passes (at most a tenth of the limit).
RETENTION_EVERY = 10_000
# SQLite's default limit on bound parameters is 32,766; stay well below.
IN_CHUNK = 500
MAX_NS = 2**63 - 1024  # the largest float below SQLite's INTEGER limit

SCHEMA = """
CREATE TABLE IF NOT EXISTS shared (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS spans (
    trace_id BLOB NOT NULL,
    span_id BLOB NOT NULL,
    parent BLOB,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    status INTEGER NOT NULL,
    resource INTEGER NOT NULL,
    attribute_keys INTEGER NOT NULL,
    rest TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS spans_trace ON spans (trace_id, span_id);
CREATE INDEX IF NOT EXISTS spans_start ON spans (start_ns);
"""
COLUMNS = ("trace_id, span_id, parent, name, kind, start_ns, end_ns, status, resource, "
           "attribute_keys, rest")
Row = tuple[bytes, bytes, bytes | None, str, int, int, int, int, int, int, str]
KINDS = tuple(SpanKind)  # by value: a tuple index is cheaper than an enum lookup per row
STATUSES = tuple(StatusCode)
Listener = TypeVar("Listener", bound=StoreListener)


@runtime_checkable
class ServiceMap(Protocol):
    """A listener that answers X-Ray's `Services` for a window (the rollup)."""

    def services(self, start: float, end: float) -> list[dict[str, Any]]: ...


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _rest(span: Span) -> str:
    """Everything not in a column: [attribute values, status message, events, links], with
    empty parts at the end left out (the attribute keys are stored once per key set)."""
    rest: list[Any] = [list(span.attributes.values()), span.status_message,
                       [[event.name, event.time_ns, event.attributes] for event in span.events],
                       [[link.trace_id, link.span_id, link.attributes] for link in span.links]]
    while len(rest) > 1 and not rest[-1]:
        rest.pop()
    return _dumps(rest)


def _ns(seconds: float) -> int:
    """Epoch seconds as SQLite's 64-bit nanoseconds (clamped, so `end=inf` works)."""
    return int(max(0.0, min(seconds * 1e9, MAX_NS)))


def _trace_key(trace_id: str) -> bytes:
    try:
        key = bytes.fromhex(trace_id)
    except ValueError:
        key = b""
    if len(key) != 16:
        raise TracingError(f"expected 32 hex digits, got {trace_id!r}", "trace_id")
    return key


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
                             int(span.status), resource, key_set, _rest(span)))
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

    def _share(self, connection: sqlite3.Connection, document: Any) -> int:
        """The id of a document many spans share (a resource, a set of attribute keys),
        stored once. Outside the spans' transaction, so a rollback cannot orphan an id."""
        body = _dumps(document)
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
            cutoff = _ns(time.time() - self.max_age_hours * 3600)
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
                oldest_second = (oldest or _ns(time.time())) // 1_000_000_000
                self._tell(lambda listener: listener.on_retention(connection, oldest_second))
            return int(dropped)

    @property
    def write_lock(self) -> threading.Lock:
        """Held while spans are added: whoever holds it sees no export half-stored."""
        return self._write_lock

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
                           (_trace_key(trace_id),))

    def between(self, start: float, end: float, limit: int | None = None) -> list[Span]:
        """Spans that started within [start, end] (epoch seconds), earliest first."""
        return self._spans(f"SELECT {COLUMNS} FROM spans WHERE start_ns BETWEEN ? AND ? "
                           "ORDER BY start_ns LIMIT ?",
                           (_ns(start), _ns(end), -1 if limit is None else limit))

    def traces_between(self, start: float, end: float,
                       limit: int = 1000) -> dict[str, list[Span]]:
        """The whole of the `limit` latest traces with a span started within [start, end]:
        trace id → spans, the latest trace first."""
        keys = [key for (key,) in self._connection().execute(
            "SELECT trace_id FROM spans WHERE start_ns BETWEEN ? AND ? "
            "GROUP BY trace_id ORDER BY min(start_ns) DESC LIMIT ?",
            (_ns(start), _ns(end), limit))]
        return self.traces(key.hex() for key in keys)

    def traces(self, trace_ids: Iterable[str]) -> dict[str, list[Span]]:
        """Trace id → spans (by start time) for those of `trace_ids` that are stored, in the
        order asked."""
        found: dict[str, list[Span]] = {trace_id.lower(): [] for trace_id in trace_ids}
        keys = [_trace_key(trace_id) for trace_id in found]
        for offset in range(0, len(keys), IN_CHUNK):
            chunk = keys[offset:offset + IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for span in self._spans(f"SELECT {COLUMNS} FROM spans WHERE trace_id IN ({marks}) "
                                    "ORDER BY start_ns", chunk):
                found[span.trace_id].append(span)
        return {trace_id: spans for trace_id, spans in found.items() if spans}

    def traces_with_rowids(self, trace_ids: Iterable[str]) -> dict[str, list[tuple[int, Span]]]:
        """Like `traces`, each span with its rowid (the order spans were stored in)."""
        found: dict[str, list[tuple[int, Span]]] = {}
        keys = [_trace_key(trace_id) for trace_id in trace_ids]
        for offset in range(0, len(keys), IN_CHUNK):
            chunk = keys[offset:offset + IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
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
        keys = [_trace_key(trace_id) for trace_id in trace_ids]
        for offset in range(0, len(keys), IN_CHUNK):
            chunk = keys[offset:offset + IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
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
                                     "span_id = ?", (_trace_key(trace_id), bytes.fromhex(span_id)))
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
        # One JSON document for all rows: a per-call overhead dominates small rows.
        extras = orjson.loads("[" + ",".join(row[10] for row in rows) + "]")
        shared = {key: self._shared_document(key, connection)
                  for key in {row[8] for row in rows} | {row[9] for row in rows}}
        empty: tuple[()] = ()
        return [Span(trace_id.hex(), span_id.hex(), parent.hex() if parent else None, name,
                     KINDS[kind], start_ns, end_ns, STATUSES[status],
                     extra[1] if len(extra) > 1 else "",
                     dict(zip(shared[keys], extra[0], strict=True)), shared[resource],
                     tuple(SpanEvent(*event) for event in extra[2]) if len(extra) > 2 else empty,
                     tuple(SpanLink(*link) for link in extra[3]) if len(extra) > 3 else empty)
                for (trace_id, span_id, parent, name, kind, start_ns, end_ns, status, resource,
                     keys, _), extra in zip(rows, extras, strict=True)]

    def _shared_document(self, shared_id: int, connection: sqlite3.Connection) -> Any:
        found = self._shared.get(shared_id)
        if found is None:
            row = connection.execute("SELECT body FROM shared WHERE id = ?",
                                     (shared_id,)).fetchone()
            if row is None:
                raise TracingError(f"shared document {shared_id} is missing", str(self.path))
            found = self._shared[shared_id] = orjson.loads(row[0])
        return found
