"""Request throttling as API Gateway does it: a token bucket per usage-plan key (REST) and
per route, refilled at `rate_limit` tokens a second and holding at most `burst_limit`; and a
usage plan's quota, counted per key and calendar period (UTC).

The buckets live in the stage's process, which is the one place every request passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orchestrator.spec.api_access import Quota, Throttle


@dataclass
class TokenBucket:
    rate: float
    burst: int
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)
        self.updated = -1.0

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        if self.updated >= 0:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Throttles:
    """The buckets by what they meter (`key:<api key>`, `route:<api> <route key>`); a bucket
    is made anew when its limits change with a redeploy."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, metered: str, throttle: Throttle) -> bool:
        bucket = self._buckets.get(metered)
        if bucket is None or (bucket.rate, bucket.burst) != (throttle.rate_limit,
                                                            throttle.burst_limit):
            bucket = self._buckets[metered] = TokenBucket(throttle.rate_limit,
                                                          throttle.burst_limit)
        return bucket.take(self.clock())


class Quotas:
    """Requests counted per key and period; a new period starts a new count."""

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.now = now
        self._used: dict[str, tuple[str, int]] = {}

    def allow(self, metered: str, quota: Quota) -> bool:
        period = period_of(self.now(), quota.period)
        kept_period, used = self._used.get(metered, (period, 0))
        used = used if kept_period == period else 0
        if used >= quota.limit:
            return False
        self._used[metered] = (period, used + 1)
        return True


def period_of(moment: datetime, period: str) -> str:
    """The calendar period a moment falls in: `2026-11-28`, `2026-W48`, `2026-11`."""
    if period == "DAY":
        return moment.strftime("%Y-%m-%d")
    if period == "WEEK":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return moment.strftime("%Y-%m")
