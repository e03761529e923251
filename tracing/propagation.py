"""Trace context as it crosses ripple's hops: X-Ray's `X-Amzn-Trace-Id` (what Lambda passes in
`_X_AMZN_TRACE_ID`) and W3C's `traceparent`, which carry the same ids.

`Lineage` is how Lambda detects recursive loops: one `hash:count` entry per function the chain
has passed through; the 17th invocation of the same function in a chain is stopped.
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import dataclass, field, replace

RECURSION_LIMIT = 16


def new_trace_id() -> str:
    """A W3C trace id (32 hex) that X-Ray accepts: epoch seconds, then 96 random bits."""
    return f"{int(time.time()):08x}{os.urandom(12).hex()}"


def _lineage_key(function_arn: str) -> str:
    return f"{zlib.crc32(function_arn.encode()):08x}"


@dataclass(frozen=True)
class TraceContext:
    trace_id: str  # 32 hex, X-Ray compatible (first 8 hex are epoch seconds)
    parent_id: str  # 16 hex: the span the next hop hangs under
    sampled: bool = True
    lineage: dict[str, int] = field(default_factory=dict)
    # False when the caller left sampling to the receiver (X-Ray's `Sampled=?`, or no
    # `Sampled` at all): the first hop decides, as a root's sampler would (`hops.decided`).
    decided: bool = True
    # How many traces this one stands for, as the sampler that kept it said (X-Ray's fixed
    # rate: 1/rate). Known only where it was decided, whose span records it (`WEIGHT`).
    weight: int = 1

    @classmethod
    def new(cls) -> TraceContext:
        return cls(new_trace_id(), os.urandom(8).hex())

    def child(self, parent_id: str) -> TraceContext:
        return replace(self, parent_id=parent_id)

    def invocations_of(self, function_arn: str) -> int:
        """How many times the chain has invoked this function so far."""
        return self.lineage.get(_lineage_key(function_arn), 0)

    def entering(self, function_arn: str) -> TraceContext:
        """The context one more invocation of `function_arn` deeper in the chain."""
        key = _lineage_key(function_arn)
        return replace(self, lineage={**self.lineage, key: self.lineage.get(key, 0) + 1})

    def is_recursion_stopped(self, function_arn: str) -> bool:
        """True when invoking `function_arn` again would exceed Lambda's recursion limit."""
        return self.invocations_of(function_arn) >= RECURSION_LIMIT

    @property
    def xray_trace_id(self) -> str:
        return f"1-{self.trace_id[:8]}-{self.trace_id[8:]}"

    def to_xray(self) -> str:
        """An `X-Amzn-Trace-Id` value."""
        sampled = int(self.sampled) if self.decided else "?"
        header = f"Root={self.xray_trace_id};Parent={self.parent_id};Sampled={sampled}"
        if self.lineage:
            header += ";Lineage=" + "|".join(f"{k}:{v}" for k, v in sorted(self.lineage.items()))
        return header

    def to_traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.parent_id}-{'01' if self.sampled else '00'}"


def from_xray(header: str) -> TraceContext | None:
    """Parse `Root=1-…-…;Parent=…;Sampled=1;Lineage=…`; None if it carries no valid root.
    Without `Sampled=0` or `1` the context is sampled but not `decided`."""
    fields = dict(part.split("=", 1) for part in header.split(";") if "=" in part)
    root = fields.get("Root", "").strip()
    pieces = root.split("-")
    if len(pieces) != 3 or pieces[0] != "1" or not _hex(pieces[1] + pieces[2], 32):
        return None
    parent = fields.get("Parent", "").strip().lower()
    lineage = {}
    for entry in fields.get("Lineage", "").split("|"):
        key, _, count = entry.partition(":")
        if _hex(key, 8) and count.isdigit():
            lineage[key] = int(count)
    return TraceContext(
        trace_id=(pieces[1] + pieces[2]).lower(),
        parent_id=parent if _hex(parent, 16) else os.urandom(8).hex(),
        sampled=(flag := fields.get("Sampled", "").strip()) != "0",
        lineage=lineage,
        decided=flag in ("0", "1"),
    )


def batch_context(headers: list[str]) -> TraceContext:
    """A new trace for a batch of records, carrying the deepest lineage among them; its
    sampling is left to the worker that runs the batch (`Sampled=?`)."""
    lineage: dict[str, int] = {}
    for header in headers:
        found = from_xray(header) if header else None
        for key, count in (found.lineage if found else {}).items():
            lineage[key] = max(lineage.get(key, 0), count)
    return replace(TraceContext.new(), lineage=lineage, decided=False)


def from_traceparent(header: str) -> TraceContext | None:
    """Parse `version-traceid-parentid-flags`; None if malformed. The flags are a bit field
    (W3C trace-context): bit 0 is `sampled`, the others (OpenTelemetry sends 03, the random
    bit of level 2) say nothing about sampling."""
    parts = header.strip().split("-")
    if len(parts) != 4 or not _hex(parts[1], 32) or not _hex(parts[2], 16):
        return None
    if not _hex(parts[3], 2) or parts[1] == "0" * 32 or parts[2] == "0" * 16:
        return None
    return TraceContext(parts[1].lower(), parts[2].lower(), sampled=bool(int(parts[3], 16) & 1))


def from_headers(headers: dict[str, str]) -> TraceContext | None:
    """The caller's context: W3C first, then X-Ray (keeping X-Ray's Lineage either way)."""
    xray = from_xray(headers.get("x-amzn-trace-id", ""))
    w3c = from_traceparent(headers.get("traceparent", ""))
    if w3c is not None:
        return replace(w3c, lineage=xray.lineage) if xray else w3c
    return xray


_HEX_DIGITS = "0123456789abcdefABCDEF"


def _hex(value: str, length: int) -> bool:
    # str.strip runs in C: 0.18 µs for a trace id, where a generator over its characters took
    # 0.94 (twice per header, on every AWS call the endpoint serves)
    return len(value) == length and not value.strip(_HEX_DIGITS)
