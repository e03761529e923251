"""Trace ids in W3C's and X-Ray's spellings."""

from __future__ import annotations

import pytest

from tracing.trace_ids import TraceIdError, w3c_trace_id, xray_trace_id


def test_trace_ids_convert_between_w3c_and_xray() -> None:
    w3c = "6553f1000123456789abcdef01234567"
    assert xray_trace_id(w3c) == "1-6553f100-0123456789abcdef01234567"
    assert w3c_trace_id(xray_trace_id(w3c)) == w3c
    assert xray_trace_id(xray_trace_id(w3c)) == xray_trace_id(w3c)
    assert w3c_trace_id(w3c.upper()) == w3c
    for bad in ("", "1-6553f100-0123", "xyz", "2-6553f100-0123456789abcdef01234567"):
        with pytest.raises(TraceIdError):
            xray_trace_id(bad)
        with pytest.raises(TraceIdError):
            w3c_trace_id(bad)
