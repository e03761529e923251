"""A load run's figures: the summary `--json` prints, from the generator's samples, the
invocation records of the traces the run started, and the ledger and counters before and after.

chain_ms of an event is from the moment its request left the generator to the end of the last
invocation its trace holds (the root's and every descendant's records carry the trace's root
id), which is what no request-timing load tool can see for an async pipeline.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from orchestrator.invocations.billing import cost_usd, gb_seconds
from orchestrator.load.collect import Snapshot, Tick, root_of
from orchestrator.load.generator import Sample

ROOT_TRIGGERS = {"invoke": ("invoke",), "s3": ("s3",), "ddb": ("dynamodb",), "http": ("http",)}


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def spread(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 0.5), 3), "p90": round(percentile(values, 0.9), 3),
            "p99": round(percentile(values, 0.99), 3), "max": round(max(values, default=0.0), 3)}


def end_of(record: dict[str, Any]) -> float:
    return float(record["start"]) + float(record["duration_ms"]) / 1000


def concurrency_max(records: list[dict[str, Any]]) -> int:
    """The most invocations running at once, from their start and end times."""
    edges = sorted([(float(r["start"]), 1) for r in records] + [(end_of(r), -1) for r in records])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


@dataclass
class Run:
    """Everything measured in one run; `summary()` is the JSON, the rest feeds the report."""

    target: str
    kind: str
    asynchronous: bool
    samples: list[Sample]
    records: list[dict[str, Any]]
    before: Snapshot
    after: Snapshot
    ticks: list[Tick] = field(default_factory=list)
    scaling: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False

    def root_functions(self) -> set[str]:
        triggers = ROOT_TRIGGERS[self.kind]
        if self.kind == "invoke":
            return {self.target.split(":", 1)[1]}
        return {r["function"] for r in self.records if r["trigger"] in triggers}

    def delta(self, functions: set[str], field_name: str, source: str = "ledger") -> int:
        after = self.after.ledger if source == "ledger" else self.after.counters
        before = self.before.ledger if source == "ledger" else self.before.counters
        return sum(int((after.get(name) or {}).get(field_name, 0))
                   - int((before.get(name) or {}).get(field_name, 0)) for name in functions)

    def chains(self) -> dict[str, float]:
        """Per root id: ms from the request leaving to the end of its last invocation."""
        ends: dict[str, float] = {}
        for record in self.records:
            root = root_of(record["trace_header"])
            ends[root] = max(ends.get(root, 0.0), end_of(record))
        return {sample.root: (ends[sample.root] - sample.sent) * 1000
                for sample in self.samples if sample.root in ends}

    def outcomes(self) -> dict[str, int]:
        """sent = succeeded + failed + dead_lettered + in_flight, as the ledger has it for async
        events, as the answers have it for the rest."""
        sent = len(self.samples)
        refused = sum(1 for s in self.samples if s.status == 0 or s.status >= 300)
        accepted = sent - refused
        roots = self.root_functions()
        if self.asynchronous and self.delta(roots, "accepted") == accepted:
            return {"sent": sent, "succeeded": self.delta(roots, "succeeded"),
                    "failed": refused + self.delta(roots, "expired")
                    + self.delta(roots, "stopped"),
                    "dead_lettered": self.delta(roots, "failed"),
                    "in_flight": self.delta(roots, "in_flight")}
        if self.asynchronous:
            return self.outcomes_by_record(roots)
        failed = sum(1 for s in self.samples if s.error)
        return {"sent": sent, "succeeded": sent - failed, "failed": failed,
                "dead_lettered": 0, "in_flight": 0}

    def outcomes_by_record(self, roots: set[str]) -> dict[str, int]:
        """Async events the ledger cannot tell apart from others' (the same functions invoked
        by someone else meanwhile, an S3 put that notifies several, an answer lost after the
        event was queued), one by one from this run's records: succeeded when each root
        function has an ok record of its trace; failed when refused and never run; in flight
        when accepted and not run yet; run with errors only, in flight (retries to come) as far
        as the ledger has that many more in flight, else dead-lettered."""
        ran: dict[str, set[str]] = defaultdict(set)
        ok: dict[str, set[str]] = defaultdict(set)
        for record in self.records:
            if record["function"] in roots:
                root = root_of(record["trace_header"])
                ran[root].add(record["function"])
                if record["status"] == "ok":
                    ok[root].add(record["function"])
        counts = {"sent": len(self.samples), "succeeded": 0, "failed": 0, "dead_lettered": 0,
                  "in_flight": 0}
        errored = 0
        for sample in self.samples:
            if roots and ok[sample.root] >= roots:
                counts["succeeded"] += 1
            elif ran[sample.root]:
                errored += 1
            elif sample.status == 0 or sample.status >= 300:
                counts["failed"] += 1
            else:
                counts["in_flight"] += 1
        in_flight = sum(int((self.after.ledger.get(name) or {}).get("in_flight", 0))
                        for name in roots)
        retrying = min(errored, max(0, in_flight - counts["in_flight"]))
        counts["in_flight"] += retrying
        counts["dead_lettered"] = errored - retrying
        return counts

    def request_errors(self) -> dict[str, int]:
        """What went wrong with the requests that did not go well, most frequent first:
        "Throttled", "HTTP 500", "Unhandled", or the exception when no answer came."""
        counted = Counter(sample.error for sample in self.samples if sample.error)
        return dict(counted.most_common())

    def per_function(self) -> dict[str, dict[str, Any]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in self.records:
            grouped[record["function"]].append(record)
        result = {}
        for name, records in sorted(grouped.items()):
            durations = [float(r["duration_ms"]) for r in records]
            waits = [max(0.0, float(r["queue_ms"])) for r in records]
            result[name] = {
                "invocations": len(records), "concurrency_max": concurrency_max(records),
                "cold_starts": sum(1 for r in records if r.get("init_ms") is not None),
                "throttles": self.delta({name}, "throttles", "counters"),
                "p50_ms": round(percentile(durations, 0.5), 3),
                "p99_ms": round(percentile(durations, 0.99), 3),
                "queue_wait_p50_ms": round(percentile(waits, 0.5), 3),
                "queue_wait_p99_ms": round(percentile(waits, 0.99), 3)}
        return result

    def cost(self, chains: int) -> dict[str, float]:
        by_architecture: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        for record in self.records:
            entry = by_architecture[record.get("architecture") or "x86_64"]
            entry[0] += 1
            entry[1] += gb_seconds(int(record["billed_ms"]), int(record["memory_mb"]))
        priced = [cost_usd(int(n), gb_s, arch) for arch, (n, gb_s) in by_architecture.items()]
        requests = sum(p["requests"] for p in priced)
        compute = sum(p["compute"] for p in priced)
        total = requests + compute
        sent = len(self.samples)
        return {"requests": requests, "compute": compute, "total": total,
                "per_million": total / sent * 1_000_000 if sent else 0.0,
                "per_1000_chains": total / chains * 1000 if chains else 0.0}

    def window(self) -> tuple[float, float]:
        """First request sent, last completion (an answer, or the end of a record)."""
        if not self.samples:
            return 0.0, 0.0
        first = min(s.sent for s in self.samples)
        last = max(s.sent + s.latency_ms / 1000 for s in self.samples)
        roots = self.root_functions()
        if self.asynchronous:
            last = max([last, *(end_of(r) for r in self.records if r["function"] in roots)])
        return first, last

    def workers(self) -> dict[str, Any]:
        seen = [tick.workers for tick in self.ticks] or [int(self.scaling.get("workers", 0))]
        return {"min": min(seen), "max": max(seen),
                "decisions": list(self.scaling.get("decisions", []))}

    def summary(self) -> dict[str, Any]:
        outcomes = self.outcomes()
        first, last = self.window()
        duration = max(last - first, 1e-9) if self.samples else 0.0
        chains = self.chains()
        throttled = sum(1 for s in self.samples if s.status == 429) + \
            self.delta(self.root_functions(), "throttles", "counters")
        return {"target": self.target, **outcomes, "throttled": throttled,
                "duration_s": round(duration, 3),
                "throughput_per_s": round(outcomes["succeeded"] / duration, 2) if duration else 0.0,
                "latency_ms": spread([s.latency_ms for s in self.samples]),
                "chain_ms": spread(list(chains.values())),
                "per_function": self.per_function(), "workers": self.workers(),
                "cost_usd": self.cost(len(chains))}
