"""`SpanBatcher`: spans queued as their parts and posted in batches, as OTLP/JSON, from a daemon
thread. It is the SDK's `BatchSpanProcessor` for spans that never were SDK spans
(`tracing.recorder.DocumentRecorder`): no `ReadableSpan` or lock per span, and the span's
document is built by the batcher's thread, off the path that recorded it. A worker records
four spans per invocation; building their documents in line cost about 50 µs of each
invocation, queueing their parts costs a few.

`BatchedSpans` is the `SpanProcessor` that puts the process's live SDK spans in the same
batches, so a process has one queue, one thread and one connection for its spans. Like every
exporter, the batcher never raises into the code that records: a full queue drops the span and
counts it, as a failed post does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from tracing.otlp import json_format as otlp_json
from tracing.store.gc import collector_paused

log = logging.getLogger("ripple.tracing")
# Spans. A burst of invocations must not overflow the queue (the SDK's default of 2,048 drops
# a third of a burst's spans on this kind of machine).
QUEUE_SIZE = 65_536
DELAY_SECONDS = 0.5
BATCH_SIZE = 2_048
Scope = tuple[str, str]  # instrumentation scope: name, version
Build = Callable[..., dict[str, Any]]  # a span's document, from the parts queued
Post = Callable[[bytes, int], object]  # an encoded export request and how many spans it holds


class SpanBatcher:
    def __init__(self, post: Post, resource: Mapping[str, Any], *,
                 close: Callable[[], object] = lambda: None, queue_size: int = QUEUE_SIZE,
                 delay: float = DELAY_SECONDS, batch_size: int = BATCH_SIZE) -> None:
        self._post = post
        self._close = close
        self._resource = dict(resource)
        self._queue: deque[tuple[Scope, Build, tuple[Any, ...]]] = deque()
        self._queue_size = queue_size
        self._delay = delay
        self._batch_size = batch_size
        self.dropped = 0  # never sent: the queue was full, or the span could not be encoded
        self._warned_at = 0.0
        self._wake = threading.Event()
        self._sent = threading.Condition()
        self._flushes = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="ripple-span-batches",
                                        daemon=True)
        self._thread.start()

    def add(self, scope: Scope, build: Build, *parts: Any) -> None:
        """Queue one span, whose document `build(*parts)` makes later; never blocks (a full
        queue drops it)."""
        queue = self._queue
        if len(queue) >= self._queue_size:
            self._drop()
            return
        queue.append((scope, build, parts))
        if len(queue) >= self._batch_size:
            self._wake.set()

    def _drop(self) -> None:
        self.dropped += 1
        if time.monotonic() - self._warned_at > 60:  # a full queue says so once a minute
            self._warned_at = time.monotonic()
            log.warning("span queue full: %d spans dropped so far", self.dropped)

    def flush(self, timeout: float = 30.0) -> bool:
        """Post everything queued before the call; False if that took over `timeout`."""
        deadline = time.monotonic() + timeout
        with self._sent:
            # The round under way may have started before the call: wait for the one after.
            target = self._flushes + 2
            while self._flushes < target and not self._stopping:
                self._wake.set()
                if not self._sent.wait(deadline - time.monotonic()):
                    return False
            return True

    def shutdown(self, timeout: float = 30.0) -> None:
        """Post what is queued, then stop the thread and close what posts."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        self._close()

    def _run(self) -> None:
        while True:
            self._wake.wait(self._delay)
            self._wake.clear()
            with self._sent:
                started = self._flushes + 1
            while self._queue:
                try:
                    with collector_paused():  # thousands of acyclic documents at once
                        body, count = self._encode(min(len(self._queue), self._batch_size))
                    self._post(body, count)
                except Exception:  # the thread outlives a batch it could not send
                    log.exception("could not send a batch of spans")
            with self._sent:
                self._flushes = started
                self._sent.notify_all()
            if self._stopping:
                return

    def _encode(self, count: int) -> tuple[bytes, int]:
        """The next `count` spans as one export request, and how many it holds."""
        scopes: dict[Scope, list[dict[str, Any]]] = {}
        take = self._queue.popleft
        for _ in range(count):
            scope, build, parts = take()
            found = scopes.get(scope)
            if found is None:
                found = scopes[scope] = []
            try:
                found.append(build(*parts))
            except Exception:  # one unencodable span does not cost its batch
                self._drop()
                count -= 1
                log.exception("could not encode a span")
        return orjson.dumps({"resourceSpans": [otlp_json.export_request(self._resource,
                                                                        scopes)]}), count


class BatchedSpans(SpanProcessor):
    """Live SDK spans into a `SpanBatcher`, encoded as they end."""

    def __init__(self, batcher: SpanBatcher) -> None:
        self.batcher = batcher

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is None or not span.context.trace_flags.sampled:
            return
        scope = span.instrumentation_scope
        self.batcher.add((scope.name, scope.version or "") if scope else ("", ""),
                         otlp_json.span_document_of, span)

    def shutdown(self) -> None:
        self.batcher.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.batcher.flush(timeout_millis / 1000)
