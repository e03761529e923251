"""Lambda's billed duration: what every REPORT line and invocation record carries."""

from __future__ import annotations

import math


def billed_ms(duration_ms: float, init_ms: float | None = None, granularity_ms: int = 1) -> int:
    """Duration plus INIT (billed since August 2025), rounded up to the granularity."""
    total = duration_ms + (init_ms or 0.0)
    return max(granularity_ms, math.ceil(total / granularity_ms) * granularity_ms)
