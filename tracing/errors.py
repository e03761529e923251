"""The tracing subsystem's one error root.

`tracing/` is a library that imports nothing of ripple (ripple's processes, environments and
tests all load it), so its root stands beside `orchestrator.errors.RippleError` instead of
under it. Telemetry never raises into an invocation: these reach only the caller that handed
tracing bad data (an OTLP export, a filter expression, a trace id), as a 400.
"""

from __future__ import annotations


class TracingError(Exception):
    """Trace data that ripple cannot read: says what was wrong and where (`field`)."""

    def __init__(self, reason: str, field: str = "") -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {reason}" if field else reason)
