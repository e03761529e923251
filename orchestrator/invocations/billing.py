"""Lambda's billed duration: what every REPORT line and invocation record carries."""

from __future__ import annotations

import math


def billed_ms(duration_ms: float, init_ms: float | None = None, granularity_ms: int = 1) -> int:
    """Duration plus INIT (billed since August 2025), rounded up to the granularity."""
    total = duration_ms + (init_ms or 0.0)
    return max(granularity_ms, math.ceil(total / granularity_ms) * granularity_ms)


REQUEST_USD = 0.20 / 1_000_000
GB_SECOND_USD = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
FREE_REQUESTS = 1_000_000  # a month, with the free tier
FREE_GB_SECONDS = 400_000


def gb_seconds(billed: int, memory_mb: int) -> float:
    """Lambda's compute unit: memory in GB times billed seconds."""
    return memory_mb / 1024 * billed / 1000


def cost_usd(requests: int, gb_s: float, architecture: str = "x86_64",
             free_tier: bool = False) -> dict[str, float]:
    """What `requests` invocations using `gb_s` GB-seconds cost on Lambda: requests, compute and
    their total, in US dollars (with the monthly free tier taken off when asked)."""
    if free_tier:
        requests, gb_s = max(0, requests - FREE_REQUESTS), max(0.0, gb_s - FREE_GB_SECONDS)
    charged = {"requests": requests * REQUEST_USD,
               "compute": gb_s * GB_SECOND_USD.get(architecture, GB_SECOND_USD["x86_64"])}
    return {**charged, "total": charged["requests"] + charged["compute"]}
