"""The token buckets behind usage plans and route throttles, and usage plan quotas, on
clocks the test turns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orchestrator.endpoint.apigateway.throttling import Quotas, Throttles, period_of
from orchestrator.spec.api_access import Quota, Throttle


def test_a_burst_then_the_steady_rate() -> None:
    # Given 2 requests a second with a burst of 3, on a stopped clock
    now = [100.0]
    throttles = Throttles(clock=lambda: now[0])
    limit = Throttle(rate_limit=2, burst_limit=3)
    # When four requests come at once: the burst passes, the fourth does not
    assert [throttles.allow("key:a", limit) for _ in range(4)] == [True, True, True, False]
    # And another key has its own bucket
    assert throttles.allow("key:b", limit)
    # When half a second passes: one more token
    now[0] += 0.5
    assert [throttles.allow("key:a", limit) for _ in range(2)] == [True, False]
    # When a long time passes: never more than the burst
    now[0] += 60
    assert [throttles.allow("key:a", limit) for _ in range(4)] == [True, True, True, False]


def test_new_limits_start_a_new_bucket() -> None:
    throttles = Throttles(clock=lambda: 0.0)
    assert throttles.allow("route:x", Throttle(rate_limit=1, burst_limit=1))
    assert not throttles.allow("route:x", Throttle(rate_limit=1, burst_limit=1))
    # A redeploy with a bigger burst is felt at once
    assert throttles.allow("route:x", Throttle(rate_limit=1, burst_limit=5))


def test_a_quota_counts_per_key_and_period() -> None:
    # Given 2 requests a day, late on 28 November
    now = [datetime(2026, 11, 28, 23, 59, tzinfo=UTC)]
    quotas = Quotas(now=lambda: now[0])
    daily = Quota(limit=2, period="DAY")
    # When a key makes three requests: the third is over
    assert [quotas.allow("key:a", daily) for _ in range(3)] == [True, True, False]
    assert quotas.allow("key:b", daily)  # another key counts apart
    # When the day turns: a new count
    now[0] += timedelta(minutes=2)
    assert quotas.allow("key:a", daily)


def test_periods_are_calendar_periods() -> None:
    moment = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert [period_of(moment, period) for period in ("DAY", "WEEK", "MONTH")] == [
        "2026-11-28", "2026-W48", "2026-11"]
