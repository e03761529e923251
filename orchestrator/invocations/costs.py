"""What a set of invocation records would cost on Lambda, per function and per trace (the whole
chain an event caused: every record carrying its trace id), with `billing`'s prices.

Each record is one billed request: its `billed_ms` (duration plus INIT, rounded up to 1 ms) at
its `memory_mb` and `architecture`. A what-if memory size keeps each billed duration as measured
and recomputes GB-seconds at the other size: a handler that is CPU-bound would run faster with
more memory on Lambda (CPU grows with memory), so the what-if is an upper bound there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.invocations.billing import (
    FREE_GB_SECONDS,
    FREE_REQUESTS,
    GB_SECOND_USD,
    REQUEST_USD,
    cost_usd,
    gb_seconds,
)

TOP_TRACES = 10


@dataclass
class Tally:
    invocations: int = 0
    errors: int = 0
    cold_starts: int = 0
    billed_ms: int = 0
    init_ms: float = 0.0
    memory_mb: int = 0  # the last record's (the function's configured size)
    architecture: str = "x86_64"
    gb_seconds_by_architecture: dict[str, float] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)

    def add(self, record: dict[str, Any], memory_mb: int | None) -> None:
        memory = memory_mb or int(record.get("memory_mb") or 128)
        architecture = str(record.get("architecture") or "x86_64")
        billed = int(record.get("billed_ms") or 0)
        self.invocations += 1
        self.errors += record.get("status") == "error"
        self.cold_starts += record.get("init_ms") is not None
        self.billed_ms += billed
        self.init_ms += float(record.get("init_ms") or 0.0)
        self.memory_mb, self.architecture = memory, architecture
        spent = self.gb_seconds_by_architecture
        spent[architecture] = spent.get(architecture, 0.0) + gb_seconds(billed, memory)
        self.functions.add(str(record.get("function", "")))

    @property
    def gb_seconds(self) -> float:
        return sum(self.gb_seconds_by_architecture.values())

    def cost(self, free_tier: bool = False) -> dict[str, float]:
        return priced(self.invocations, self.gb_seconds_by_architecture, free_tier)

    def describe(self, free_tier: bool = False) -> dict[str, Any]:
        return {"invocations": self.invocations, "errors": self.errors,
                "cold_starts": self.cold_starts, "billed_ms": self.billed_ms,
                "init_ms": round(self.init_ms, 3), "memory_mb": self.memory_mb,
                "architecture": self.architecture, "gb_seconds": self.gb_seconds,
                "cost_usd": self.cost(free_tier)}


def priced(requests: int, gb_s_by_architecture: dict[str, float],
           free_tier: bool = False) -> dict[str, float]:
    """`billing.cost_usd` over architectures: the free tier's GB-seconds come off the dearer
    x86_64 compute first (AWS's free tier covers both together)."""
    if len(gb_s_by_architecture) <= 1:
        architecture, spent = next(iter(gb_s_by_architecture.items()), ("x86_64", 0.0))
        return cost_usd(requests, spent, architecture, free_tier)
    free = FREE_GB_SECONDS if free_tier else 0.0
    compute = 0.0
    for architecture in sorted(gb_s_by_architecture, key=lambda name: -GB_SECOND_USD.get(
            name, GB_SECOND_USD["x86_64"])):
        spent = gb_s_by_architecture[architecture]
        taken = min(free, spent)
        free -= taken
        compute += (spent - taken) * GB_SECOND_USD.get(architecture, GB_SECOND_USD["x86_64"])
    charged_requests = max(0, requests - FREE_REQUESTS) if free_tier else requests
    requests_usd = charged_requests * REQUEST_USD
    return {"requests": requests_usd, "compute": compute, "total": requests_usd + compute}


def trace_root(trace_header: str) -> str:
    """The X-Ray trace id (`Root=`) of an `X-Amzn-Trace-Id` header, or ''."""
    for part in trace_header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "Root":
            return value.lower()
    return ""


def summarize(records: Iterable[dict[str, Any]], memory_mb: int | None = None,
              free_tier: bool = False, top: int = TOP_TRACES) -> dict[str, Any]:
    """Per function, per trace (the `top` dearest, and their count) and in total."""
    functions: dict[str, Tally] = {}
    traces: dict[str, Tally] = {}
    total = Tally()
    for record in records:
        functions.setdefault(str(record.get("function", "")), Tally()).add(record, memory_mb)
        root = trace_root(str(record.get("trace_header") or ""))
        if root:
            traces.setdefault(root, Tally()).add(record, memory_mb)
        total.add(record, memory_mb)
    dearest = sorted(traces.items(), key=lambda item: -item[1].cost()["total"])[:top]
    chains = len(traces)
    return {
        "memory_mb": memory_mb,
        "what_if": (f"billed durations as measured, GB-seconds recomputed at {memory_mb} MB"
                    if memory_mb else None),
        "free_tier": free_tier,
        "functions": {name: functions[name].describe() for name in sorted(functions)},
        "traces": {
            "count": chains,
            "per_chain_usd": (sum(tally.cost()["total"] for tally in traces.values()) / chains
                              if chains else 0.0),
            "top": [{"trace_id": root, **tally.describe(),
                     "functions": sorted(tally.functions)} for root, tally in dearest],
        },
        "total": {key: value for key, value in total.describe(free_tier).items()
                  if key not in ("memory_mb", "architecture")},
    }
