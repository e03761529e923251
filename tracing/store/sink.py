"""`SpanSink`: where received spans go. The span store itself in tests and embedded uses; the
store's writer process (`SpanWriter`) in the endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tracing.spans import Span


class SpanSink(Protocol):
    def add(self, spans: Sequence[Span]) -> int:
        """Take spans for storing; how many were taken."""
        ...

    def settle(self) -> bool:
        """Return once every span taken before the call can be read back, the service map
        included; False when that did not happen in time."""
        ...
