"""The AWS forecast: Lambda's concurrency and scale-out rules applied to a run's arrivals."""

from __future__ import annotations

from typing import Any

from orchestrator.load.collect import Snapshot
from orchestrator.load.forecast import forecast_run
from orchestrator.load.generator import Sample
from orchestrator.load.summary import Run


def burst(events: int, duration_ms: float, trigger: str = "invoke",
          invocation_type: str = "Event") -> Run:
    """`events` root events sent in the same second, each one invocation of `f`."""
    samples, records = [], []
    for n in range(events):
        root = f"1-00000001-{n:024x}"
        samples.append(Sample(n, root, 1000.0, 1000.0 + n / 1e5, 1.0, 202, ""))
        record: dict[str, Any] = {
            "request_id": f"r{n}", "function": "f", "trigger": trigger,
            "invocation_type": invocation_type, "trace_header": f"Root={root};Sampled=1",
            "start": 1000.01 + n / 1e5, "queue_ms": 5.0, "duration_ms": duration_ms,
            "init_ms": None, "billed_ms": int(duration_ms), "memory_mb": 128, "status": "ok"}
        records.append(record)
    return Run("invoke:f", "invoke", True, samples, records, Snapshot(), Snapshot())


def test_a_small_burst_meets_no_throttle() -> None:
    # Given 100 events at once, each running 100 ms
    forecast = forecast_run(burst(100, 100.0))
    # Then AWS would start 100 environments (all cold) and throttle none
    assert forecast["per_function"]["f"] == {"cold_starts": 100, "throttles": 0}
    # And chains take a hop, an INIT and the run: ~40 + 250 + 100 ms at the median
    assert 250 < forecast["summary"]["chain_ms"]["p50"] < 700


def test_a_burst_past_the_account_limit_is_throttled_and_waits() -> None:
    # Given 1,500 async events at once, each running 2 s
    forecast = forecast_run(burst(1500, 2000.0))
    # Then only 1,000 environments start; the other 500 are throttled and run after a 2 s wait
    assert forecast["per_function"]["f"]["cold_starts"] == 1000
    assert forecast["summary"]["throttles"] == 500
    assert forecast["summary"]["chain_ms"]["max"] > 4000
    assert forecast["summary"]["sync_throttled"] == 0


def test_sync_calls_past_the_limit_fail() -> None:
    # Given 1,200 sync calls at once, When forecast, Then 200 get a 429
    forecast = forecast_run(burst(1200, 500.0, invocation_type="RequestResponse"))
    assert forecast["summary"]["sync_throttled"] == 200
