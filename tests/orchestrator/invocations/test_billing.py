"""Lambda's billing: billed duration, GB-seconds and cost, against hand computations."""

from __future__ import annotations

import pytest

from orchestrator.invocations.billing import billed_ms, cost_usd, gb_seconds


def test_billed_duration_rounds_up_to_the_millisecond_and_includes_init() -> None:
    # Given durations with and without an INIT phase, Then each is billed rounded up
    assert billed_ms(0.2) == 1
    assert billed_ms(10.01) == 11
    assert billed_ms(10.0, init_ms=120.5) == 131
    assert billed_ms(10.0, granularity_ms=100) == 100


def test_cost_of_a_million_128_mb_invocations_of_100_ms() -> None:
    # Given 1,000,000 invocations of 100 ms billed at 128 MB (AWS's own pricing example shape)
    compute = 1_000_000 * gb_seconds(100, 128)
    # When they are priced
    cost = cost_usd(1_000_000, compute)
    # Then requests cost $0.20 and compute 12,500 GB-s x $0.0000166667
    assert compute == pytest.approx(12_500)
    assert cost["requests"] == pytest.approx(0.20)
    assert cost["compute"] == pytest.approx(12_500 * 0.0000166667)
    assert cost["total"] == pytest.approx(cost["requests"] + cost["compute"])
    # And arm64's GB-second is cheaper, the free tier takes off 1M requests and 400,000 GB-s
    assert cost_usd(1, 1.0, "arm64")["compute"] == pytest.approx(0.0000133334)
    assert cost_usd(1_000_000, compute, free_tier=True)["total"] == 0
