"""Trace context in X-Ray's and W3C's headers, and Lambda's recursion lineage."""

from __future__ import annotations

import time

from tracing.propagation import (
    RECURSION_LIMIT,
    TraceContext,
    from_headers,
    from_traceparent,
    from_xray,
)

ARN = "arn:aws:lambda:us-east-1:000000000000:function:loop"


def test_new_trace_ids_start_with_the_epoch_seconds() -> None:
    context = TraceContext.new()
    assert abs(int(context.trace_id[:8], 16) - time.time()) < 5
    assert context.xray_trace_id == f"1-{context.trace_id[:8]}-{context.trace_id[8:]}"


def test_xray_header_round_trips_with_lineage() -> None:
    # Given a context two invocations deep into the same function
    context = TraceContext.new().entering(ARN).entering(ARN)
    # When it travels as an X-Amzn-Trace-Id header and is read back
    back = from_xray(context.to_xray())
    # Then ids, sampling and lineage survive
    assert back == context
    assert back is not None and back.invocations_of(ARN) == 2


def test_xray_and_w3c_carry_the_same_ids() -> None:
    context = TraceContext.new()
    from_w3c = from_traceparent(context.to_traceparent())
    assert from_w3c is not None
    assert (from_w3c.trace_id, from_w3c.parent_id) == (context.trace_id, context.parent_id)


def test_w3c_wins_but_xray_lineage_is_kept() -> None:
    deep = TraceContext.new().entering(ARN)
    other = TraceContext.new()
    found = from_headers({"traceparent": other.to_traceparent(), "x-amzn-trace-id": deep.to_xray()})
    assert found is not None and found.trace_id == other.trace_id
    assert found.invocations_of(ARN) == 1


def test_recursion_is_stopped_at_the_17th_invocation() -> None:
    context = TraceContext.new()
    for _ in range(RECURSION_LIMIT):
        assert not context.is_recursion_stopped(ARN)
        context = context.entering(ARN)
    assert context.is_recursion_stopped(ARN)


def test_malformed_headers_are_ignored() -> None:
    assert from_xray("Root=garbage") is None
    assert from_xray("") is None
    assert from_traceparent("00-zz-11-01") is None
    assert from_traceparent(f"00-{'0' * 32}-{'1' * 16}-01") is None
    assert from_headers({}) is None


def test_w3c_flags_are_a_bit_field_whose_low_bit_is_sampled() -> None:
    # Given a caller's trace and span ids
    ids = f"00-{'a' * 32}-{'b' * 16}"
    # When its flags are read (OpenTelemetry sends 03: sampled and random)
    sampled = {flags: getattr(from_traceparent(f"{ids}-{flags}"), "sampled", None)
               for flags in ("00", "01", "02", "03", "ff", "FE")}
    # Then bit 0 alone decides, whatever the other bits say
    assert sampled == {"00": False, "01": True, "02": False, "03": True, "ff": True,
                       "FE": False}
    # And flags that are not two hex digits make the header malformed
    for flags in ("0x", "1", "001", "+1", " 1"):
        assert from_traceparent(f"{ids}-{flags}") is None


def test_a_header_without_a_decision_leaves_it_to_the_receiver() -> None:
    # Given X-Ray headers that say Sampled=1, Sampled=0, Sampled=? and nothing
    root = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8"
    found = {flag: from_xray(f"{root};Sampled={flag}") for flag in ("1", "0", "?")}
    found["none"] = from_xray(root)
    # Then 1 and 0 are decisions, and ? or no flag is one to take (sampled until taken)
    assert all(context is not None for context in found.values())
    assert {flag: (c.sampled, c.decided) for flag, c in found.items() if c} == {
        "1": (True, True), "0": (False, True), "?": (True, False), "none": (True, False)}
    # And each travels on as it came: a decision as itself, an open one as `Sampled=?` (the
    # next hop decides, as a stream batch's worker does)
    assert {flag: c.to_xray().rpartition(";")[2] for flag, c in found.items() if c} == {
        "1": "Sampled=1", "0": "Sampled=0", "?": "Sampled=?", "none": "Sampled=?"}
