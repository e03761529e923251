"""Lambda's price list: billed duration, GB-seconds and cost per invocation."""

from __future__ import annotations

import math

REQUEST_PRICE = 0.20 / 1_000_000
GB_SECOND_PRICE = {"x86_64": 0.0000166667, "arm64": 0.0000133334}


def billed_ms(duration_ms: float, init_ms: float | None = None, granularity_ms: int = 1) -> int:
    """Duration plus INIT (billed since August 2025), rounded up to the granularity."""
    total = duration_ms + (init_ms or 0.0)
    return max(granularity_ms, math.ceil(total / granularity_ms) * granularity_ms)


def gb_seconds(billed: int, memory_mb: int) -> float:
    return memory_mb / 1024 * billed / 1000


def cost(requests: int, gb_s: float, architecture: str = "x86_64") -> float:
    return requests * REQUEST_PRICE + gb_s * GB_SECOND_PRICE[architecture]
