"""`--forecast`: the run's arrivals replayed through Lambda's concurrency and scaling rules and
AWS's typical per-hop latencies — the throttles and chain latency the same load would meet on
AWS.

Each trace's invocations are replayed in order. A hop's parent is the invocation of the same
trace that was running when the hop was queued; on AWS the hop arrives the parent's call time
plus a delivery latency drawn for its trigger. It runs for its measured duration in a warm
environment of its function if one is free, else in a new one (cold: INIT added) if the
account's concurrency and the function's scale-out rate allow, else it is throttled: a sync
call fails (429), an async event waits in Lambda's queue until an environment frees.

Rules and numbers, and where they come from:
- Account concurrency 1,000 per Region by default: AWS Lambda Developer Guide, "Lambda quotas".
- Scale-out: each function gains at most 1,000 concurrent executions every 10 seconds: AWS
  Lambda Developer Guide, "Lambda scaling behavior" (the rule since November 2023).
- DynamoDB Streams to the function: p50 ~213 ms, p99 ~552 ms (issue 11's figures; Lambda polls
  a shard 4 times a second: Developer Guide, "Using Lambda with DynamoDB").
- S3 notification to the function: p50 ~250 ms, p99 ~1,000 ms: an estimate; S3's User Guide
  ("Amazon S3 Event Notifications") says "typically ... in seconds", and lukehoban/lambdaperf
  measured S3 close to DynamoDB Streams and wavier.
- Async Invoke (an Event) to start: p50 ~40 ms, p99 ~150 ms; a sync Invoke adds ~15/40 ms;
  API Gateway (HTTP API) ~10/30 ms: estimates from Lambda's internal queue and published
  integration overheads, not AWS guarantees.
- INIT of a Python function on a new environment: p50 ~250 ms: an estimate, used when the run
  recorded no cold start of that function itself.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import defaultdict
from typing import Any

from orchestrator.load.collect import root_of
from orchestrator.load.summary import Run, end_of, percentile, spread

ACCOUNT_CONCURRENCY = 1000
SCALE_OUT = 1000  # new environments per function per SCALE_WINDOW
SCALE_WINDOW = 10.0
HOP_MS = {"dynamodb": (213.0, 552.0), "s3": (250.0, 1000.0), "event": (40.0, 150.0),
          "sync": (15.0, 40.0), "http": (10.0, 30.0)}
INIT_MS = 250.0


def draw_ms(rng: random.Random, p50: float, p99: float) -> float:
    """A latency from the lognormal with this median and 99th percentile."""
    sigma = math.log(p99 / p50) / 2.326
    return p50 * math.exp(rng.gauss(0, sigma))


class Function:
    def __init__(self, init_ms: float) -> None:
        self.busy: list[float] = []  # end times of running environments (heap)
        self.free = 0  # idle warm environments
        self.created: list[float] = []  # creation times, for the scale-out window
        self.init_ms = init_ms
        self.throttles = self.cold = 0

    def release(self, now: float) -> None:
        while self.busy and self.busy[0] <= now:
            heapq.heappop(self.busy)
            self.free += 1


class Account:
    def __init__(self, init: dict[str, float]) -> None:
        self.functions: dict[str, Function] = defaultdict(lambda: Function(INIT_MS))
        for name, value in init.items():
            self.functions[name] = Function(value)

    def running(self) -> int:
        return sum(len(f.busy) for f in self.functions.values())

    def start(self, name: str, arrive: float, duration: float, sync: bool) -> float | None:
        """When the invocation ends on AWS, or None when a sync call is throttled."""
        function = self.functions[name]
        now = arrive
        throttled = False
        while True:
            for each in self.functions.values():
                each.release(now)
            if function.free:
                function.free -= 1
                heapq.heappush(function.busy, now + duration)
                function.throttles += throttled
                return now + duration
            recent = sum(1 for made in function.created if made > now - SCALE_WINDOW)
            if self.running() < ACCOUNT_CONCURRENCY and recent < SCALE_OUT:
                function.created.append(now)
                function.cold += 1
                function.throttles += throttled
                end = now + function.init_ms / 1000 + duration
                heapq.heappush(function.busy, end)
                return end
            throttled = True
            if sync:
                function.throttles += 1
                return None
            frees = [f.busy[0] for f in self.functions.values() if f.busy]
            window = min((made + SCALE_WINDOW for made in function.created
                          if made > now - SCALE_WINDOW), default=now + 1)
            now = max(now + 0.001, min(frees + [window]))


def trigger_hop(record: dict[str, Any], kind: str) -> str:
    trigger = record.get("trigger", "invoke")
    if trigger in ("s3", "dynamodb", "http"):
        return trigger
    return "sync" if record.get("invocation_type") == "RequestResponse" else "event"


def forecast_run(run: Run, seed: int = 11) -> dict[str, Any]:
    rng = random.Random(seed)
    init: dict[str, list[float]] = defaultdict(list)
    for record in run.records:
        if record.get("init_ms"):
            init[record["function"]].append(float(record["init_ms"]))
    account = Account({name: percentile(values, .5) for name, values in init.items()})
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in run.records:
        traces[root_of(record["trace_header"])].append(record)
    sent = {sample.root: sample.sent for sample in run.samples}
    jobs = []  # (local queued time, root, record)
    for root, records in traces.items():
        for record in records:
            queued = float(record["start"]) - max(0.0, float(record["queue_ms"])) / 1000
            jobs.append((queued, root, record))
    jobs.sort(key=lambda job: job[0])
    aws_start: dict[str, float] = {}  # request id -> start on AWS
    ends: dict[str, float] = {}
    failed = 0
    for queued, root, record in jobs:
        parents = [r for r in traces[root] if r is not record
                   and float(r["start"]) <= queued <= end_of(r) and r["request_id"] in aws_start]
        if parents:
            parent = max(parents, key=lambda r: float(r["start"]))
            call = aws_start[parent["request_id"]] + (queued - float(parent["start"]))
        else:
            call = sent.get(root, queued)
        hop = trigger_hop(record, run.kind)
        arrive = call + draw_ms(rng, *HOP_MS[hop]) / 1000
        end = account.start(record["function"], arrive, float(record["duration_ms"]) / 1000,
                            sync=hop in ("sync", "http"))
        if end is None:
            failed += 1
            continue
        aws_start[record["request_id"]] = end - float(record["duration_ms"]) / 1000
        ends[root] = max(ends.get(root, 0.0), end)
    chains = [(ends[root] - sent[root]) * 1000 for root in ends if root in sent]
    return {"summary": {"chain_ms": spread(chains), "throttles": sum(
                f.throttles for f in account.functions.values()), "sync_throttled": failed},
            "per_function": {name: {"cold_starts": f.cold, "throttles": f.throttles}
                             for name, f in sorted(account.functions.items())},
            "rules": {"account_concurrency": ACCOUNT_CONCURRENCY,
                      "scale_out_per_10s": SCALE_OUT, "hop_ms_p50_p99": HOP_MS}}
