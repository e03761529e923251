"""Trace ids in both of their spellings: W3C's 32 hex digits and X-Ray's
`1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx` (the same 128 bits, the first 32 of them epoch seconds)."""

from __future__ import annotations

import re

from tracing.errors import TracingError

_HEX32 = re.compile(r"[0-9a-f]{32}")
_XRAY = re.compile(r"1-([0-9a-f]{8})-([0-9a-f]{24})")


class TraceIdError(TracingError, ValueError):
    """A trace id that is neither 32 hex digits nor X-Ray's `1-xxxxxxxx-xxxx…`."""

    def __init__(self, trace_id: str) -> None:
        self.trace_id = trace_id
        super().__init__(f"not a trace id: {trace_id!r} (expected 32 hex digits or "
                         "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx)")


def xray_trace_id(trace_id: str) -> str:
    """`1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx` for a W3C trace id (X-Ray ids pass through)."""
    text = trace_id.strip().lower()
    if _XRAY.fullmatch(text):
        return text
    if not _HEX32.fullmatch(text):
        raise TraceIdError(trace_id)
    return f"1-{text[:8]}-{text[8:]}"


def w3c_trace_id(trace_id: str) -> str:
    """The 32-hex W3C trace id for an X-Ray trace id (W3C ids pass through)."""
    text = trace_id.strip().lower()
    match = _XRAY.fullmatch(text)
    if match:
        return match[1] + match[2]
    if not _HEX32.fullmatch(text):
        raise TraceIdError(trace_id)
    return text
