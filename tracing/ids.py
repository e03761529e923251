"""Trace ids in X-Ray's form, whose first 4 bytes are the epoch seconds, and W3C's hex."""

from __future__ import annotations

import os
import time


def new_trace_id() -> str:
    """A W3C trace id (32 hex) that X-Ray accepts: epoch seconds, then 96 random bits."""
    return f"{int(time.time()):08x}{os.urandom(12).hex()}"


def xray_trace_id(trace_id: str) -> str:
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def xray_header(trace_id: str | None = None, parent_id: str | None = None) -> str:
    """An `X-Amzn-Trace-Id` value, as Lambda passes it in `_X_AMZN_TRACE_ID`."""
    root = xray_trace_id(trace_id or new_trace_id())
    return f"Root={root};Parent={parent_id or os.urandom(8).hex()};Sampled=1"
