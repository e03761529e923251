"""Errors of the tracing subsystem: the OTLP receiver and the span store."""

from __future__ import annotations

from orchestrator.errors import RippleError


class TracingError(RippleError):
    """Trace data that ripple cannot read: says what was wrong and where (`field`)."""

    def __init__(self, reason: str, field: str = "") -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {reason}" if field else reason)
