"""What a span store tells the things built on it (the service-map rollup): spans stored,
spans dropped by retention, the store closing. Like OpenTelemetry's `SpanProcessor`, the store
calls the hooks of whoever registered (`SpanStore.add_listener`) and never builds its
consumers, so they can import the store and not the other way round.

The store calls each hook inside a `try`: a listener that raises is logged and skipped, and
the spans stay stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from tracing.spans import Span


class StoreListener:
    """Hooks a span store calls; each does nothing unless overridden."""

    def on_ingest(self, spans: Sequence[Span], watermark: int) -> None:
        """`spans` were committed (a span sent twice may be among them, stored once), with
        rowids above `watermark`. Called under the store's write lock, so a reader that takes
        `SpanStore.write_lock` sees these spans and this call together; keep it quick."""

    def on_retention(self, connection: sqlite3.Connection, oldest_second: int) -> None:
        """Retention dropped spans; none left started before `oldest_second` (epoch). Called
        under the write lock with the writer's `connection`, for deleting what was derived
        from the dropped spans."""

    def on_close(self) -> None:
        """The store is about to close: its connections still work during this call."""


@runtime_checkable
class ServiceMap(Protocol):
    """A listener that answers X-Ray's `Services` for a window (the rollup)."""

    def services(self, start: float, end: float) -> list[dict[str, Any]]: ...
