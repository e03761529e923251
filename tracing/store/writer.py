"""The span store's writer in a process of its own, beside the endpoint.

Storing spans and folding them into the service map cost the endpoint a third of its CPU when
it did both in its own process. Now the endpoint decodes what it receives (so bad input is still
refused at once) and hands the spans to `SpanWriter`, whose thread pickles what gathered and
sends it to the writer process (`python -m tracing.store.writer`): that process owns the SQLite
writer, the map rollup and the lineage index, so none of that holds the endpoint's GIL, and runs
at `NICE` so requests and workers come first on a busy machine: under a burst it falls behind
and catches up after. What it has not stored yet it holds itself, pickled, up to
`MAX_HELD_BYTES` (a reader thread empties the socket as messages come); the endpoint's own queue
stays short, and is bounded at `MAX_QUEUED` spans. Beyond either bound spans are dropped and
counted.

The endpoint's readers open the same SQLite file (WAL lets them read while the writer commits)
and call `settle()` before answering: it returns once the writer has stored everything handed
to it before the call and folded the map, so a read sees every span whose export was answered.

Messages on the socket pair (multiprocessing's framing) start with one byte: `S` pickled spans,
`Q` a settle token (echoed back once done), `C` close.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tracing.spans import Span

log = logging.getLogger("ripple.tracing.store")
MAX_QUEUED = 200_000  # spans waiting for the writer: about 200 MB of objects at most
SETTLE_SECONDS = 30.0  # a read waits at most this long for the writer to catch up
CLOSE_SECONDS = 60.0
NICE = 10  # added to the endpoint's niceness: on a busy machine requests and workers come first
MAX_HELD_BYTES = 256 << 20  # pickled spans the writer holds before it drops new batches
BATCH = 2_048  # spans the sender waits for, at most GATHER_SECONDS, before it sends
# Reads never wait out the gathering: a settle wakes the sender. With sampled traces a
# message holds few spans, so what each costs the writer (a commit) is what counts.
GATHER_SECONDS = 0.2
SPANS, SETTLE, CLOSE = b"S", b"Q", b"C"


class SpanWriter:
    """The endpoint's side of the writer process: `add` queues spans (never blocks on the
    writer), `settle` waits for it, `close` lets it finish and stop."""

    def __init__(self, path: Path, max_spans: int, max_age_hours: float) -> None:
        self._arguments = [str(path), str(max_spans), str(max_age_hours)]
        self._queue: collections.deque[tuple[bytes, Any]] = collections.deque()
        self._queued = 0  # spans in the queue
        self._ready = threading.Condition()
        self._settles: dict[bytes, threading.Event] = {}
        self._tokens = itertools.count()
        self._closing = False
        self.dropped = 0
        self._warned_at = 0.0
        self._process, self._connection = self._spawn()
        self._sender = threading.Thread(target=self._send, name="ripple-span-writer",
                                        daemon=True)
        self._sender.start()

    def _spawn(self) -> tuple[subprocess.Popen[bytes], Connection]:
        ours, theirs = socket.socketpair()
        with theirs:
            process = subprocess.Popen(
                [sys.executable, "-m", "tracing.store.writer", *self._arguments,
                 str(theirs.fileno())], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        connection = Connection(ours.detach())
        threading.Thread(target=self._answers, args=(connection,), name="ripple-span-settles",
                         daemon=True).start()
        return process, connection

    # the endpoint's side -----------------------------------------------------------------

    def add(self, spans: Sequence[Span]) -> int:
        """Queue spans for the writer; how many were taken (0 when the queue is full). Cheap
        enough for one span at a time: the sender thread pickles what gathered in one go."""
        if not spans:
            return 0
        with self._ready:
            if self._closing:
                return 0
            if self._queued + len(spans) > MAX_QUEUED:
                self._drop(len(spans), "the span writer is behind")
                return 0
            if not self._queue:
                self._ready.notify()  # else the sender is busy, or gathering on purpose
            self._queue.append((SPANS, list(spans)))
            self._queued += len(spans)
        return len(spans)

    def settle(self, timeout: float = SETTLE_SECONDS) -> bool:
        """Wait until the writer has stored every span queued before this call and folded
        the map; False when it did not within `timeout`."""
        token, done = str(next(self._tokens)).encode(), threading.Event()
        with self._ready:
            if self._closing:
                return False
            self._settles[token] = done
            self._queue.append((SETTLE, token))
            self._ready.notify()
        try:
            return done.wait(timeout)
        finally:
            self._settles.pop(token, None)

    def close(self) -> None:
        """Send what is queued, let the writer fold and close the store, and wait for it."""
        with self._ready:
            if self._closing:
                return
            self._closing = True
            self._queue.append((CLOSE, b""))
            self._ready.notify()
        self._sender.join(CLOSE_SECONDS)
        try:
            self._process.wait(CLOSE_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._connection.close()

    # the sender thread ---------------------------------------------------------------------

    def _send(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                if self._queue[0][0] == SPANS and self._queued < BATCH and not self._closing:
                    self._ready.wait(GATHER_SECONDS)  # a few more spans make one message
                kind, body = self._queue.popleft()
                spans: list[Span] = []
                if kind == SPANS:
                    spans = list(body)
                    while self._queue and self._queue[0][0] == SPANS:
                        spans += self._queue.popleft()[1]
                    self._queued -= len(spans)
            try:
                self._connection.send_bytes(
                    kind + (pickle.dumps(spans, protocol=pickle.HIGHEST_PROTOCOL) if spans
                            else bytes(body)))
            except OSError as error:  # the writer died: respawn it, these spans are lost
                self._drop(len(spans), f"the span writer stopped ({error})")
                if kind == CLOSE:
                    return
                with contextlib.suppress(OSError):
                    self._connection.close()
                self._process.wait()
                self._process, self._connection = self._spawn()
                for waiting in list(self._settles.values()):  # their spans are gone
                    waiting.set()
                continue
            if kind == CLOSE:
                return

    def _answers(self, connection: Connection) -> None:
        """Settle tokens coming back, until the writer closes its end."""
        while True:
            try:
                token = connection.recv_bytes()
            except (EOFError, OSError):
                return
            done = self._settles.get(token)
            if done is not None:
                done.set()

    def _drop(self, count: int, why: str) -> None:
        self.dropped += count
        if count and time.monotonic() - self._warned_at > 60:
            self._warned_at = time.monotonic()
            log.warning("%s: %d spans dropped so far", why, self.dropped)


# the writer process ----------------------------------------------------------------------

def serve(connection: Connection, path: Path, max_spans: int, max_age_hours: float) -> None:
    """Store what arrives on `connection` until it closes or says `C`. A thread takes messages
    off the socket as they come, so what waits for the store waits here, pickled (a quarter of
    the memory of the spans themselves), and not in the endpoint."""
    from tracing.store.database import SpanStore
    from tracing.store.gc import collector_paused
    from tracing.store.lineage import LineageIndex
    from tracing.store.rollup import MapRollup

    store = SpanStore(path, max_spans, max_age_hours)
    rollup = store.add_listener(MapRollup(store))
    store.add_listener(LineageIndex(store))
    inbox: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    held = _Held()
    threading.Thread(target=_read, args=(connection, inbox, held), name="ripple-span-inbox",
                     daemon=True).start()
    try:
        while True:
            message = inbox.get()
            kind, body = message[:1], message[1:]
            if kind == SPANS:
                held.take(-len(message))
                try:
                    with collector_paused():
                        store.add(pickle.loads(body))
                except Exception:  # one bad batch never stops the writer
                    log.exception("storing spans failed")
            elif kind == SETTLE:
                try:
                    rollup.fold()
                finally:
                    connection.send_bytes(body)
            else:
                return
    finally:
        store.close()


class _Held:
    """Bytes read and not stored yet, and spans dropped because there were too many."""

    def __init__(self) -> None:
        self.bytes = 0
        self.dropped_messages = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self._lock:
            if size > 0 and self.bytes + size > MAX_HELD_BYTES:
                self.dropped_messages += 1
                return False
            self.bytes += size
            return True


def _read(connection: Connection, inbox: queue.SimpleQueue[bytes], held: _Held) -> None:
    while True:
        try:
            message = connection.recv_bytes()
        except (EOFError, OSError):
            inbox.put(CLOSE)
            return
        if message[:1] != SPANS or held.take(len(message)):
            inbox.put(message)
        elif held.dropped_messages == 1 or held.dropped_messages % 100 == 0:
            log.warning("%d batches of spans dropped: more than %d MB wait for the store",
                        held.dropped_messages, MAX_HELD_BYTES >> 20)


def main() -> None:
    path, max_spans, max_age_hours, descriptor = sys.argv[1:5]
    with contextlib.suppress(OSError):
        os.nice(NICE)
    logging.basicConfig(level=logging.WARNING, format="ripple span writer: %(message)s")
    serve(Connection(int(descriptor)), Path(path), int(max_spans), float(max_age_hours))


if __name__ == "__main__":
    main()
