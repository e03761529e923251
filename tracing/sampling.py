"""ripple's default sampler, Lambda's own rule (X-Ray's default): the first new trace each second,
then 5% of the rest. An idle process saves up its reservoir, up to a burst of 100 new traces.

A trace kept for the share stands for 1/rate traces: its deciding span carries that as
`ripple.sampling.weight`, so the service map's counts (`tracing.store.rollup`) stay estimates of
every request rather than of the recorded ones. A debugging session or a demo stays within the
saved-up burst, so every chain in it is recorded; a load test keeps its map, its latencies and a
sample of whole traces at a small share of the cost of recording them all. (ripple's reservoir
was 10 a second once: in a load of 2,000 events/s that came and went, it recorded a third more
traces than Lambda's 1 a second, and paid for them, for no better map.)

Setting the standard `OTEL_TRACES_SAMPLER` (e.g. `always_on`) replaces this sampler.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.types import Attributes

WEIGHT = "ripple.sampling.weight"
BURST = 100  # new traces an idle process saves up (a reservoir of 0 saves none)
_LOW_BITS = (1 << 64) - 1


class ReservoirSampler(Sampler):
    """Up to `per_second` traces a second, saved up while idle for a burst of `burst(per_second)`
    (a script or a test run that fires a hundred events at once is recorded whole), then
    `rate` of the others (by trace id, as `TraceIdRatioBased` decides), each weighted 1/rate
    (rounded)."""

    def __init__(self, per_second: int, rate: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.rate = rate
        self.weight = round(1 / rate) if rate > 0 else 0
        self._bound = round(rate * (_LOW_BITS + 1))
        self._capacity = float(burst(per_second))
        self._clock = clock
        self._tokens = self._capacity
        self._filled_at = clock()
        self._lock = threading.Lock()
        self._kept = SamplingResult(Decision.RECORD_AND_SAMPLE)
        self._weighted = SamplingResult(Decision.RECORD_AND_SAMPLE, {WEIGHT: self.weight})
        self._dropped = SamplingResult(Decision.DROP)

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str,
                      kind: SpanKind | None = None, attributes: Attributes = None,
                      links: Sequence[Link] | None = None,
                      trace_state: TraceState | None = None) -> SamplingResult:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity,
                               self._tokens + (now - self._filled_at) * self.per_second)
            self._filled_at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return self._kept
        if trace_id & _LOW_BITS < self._bound:
            return self._weighted if self.weight > 1 else self._kept
        return self._dropped

    def get_description(self) -> str:
        return (f"ReservoirSampler{{{self.per_second}/s, bursts of {self._capacity:g}, "
                f"then {self.rate:g}}}")


def burst(per_second: int) -> int:
    """How many new traces a process with a reservoir of `per_second` saves up while idle."""
    return max(per_second, BURST) if per_second > 0 else 0


def default_sampler(per_second: int, rate: float) -> Sampler:
    """Follow a caller's decision; decide a root with `ReservoirSampler`."""
    return ParentBased(ReservoirSampler(per_second, rate))


def weight_of(result: SamplingResult) -> int:
    """How many traces a kept root stands for (1 unless the sampler said otherwise)."""
    found = result.attributes.get(WEIGHT, 1) if result.attributes else 1
    return found if isinstance(found, int) and found > 1 else 1

