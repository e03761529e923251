"""When an open-loop run sends its events: a rate profile with ramps.

`--rate 200` is constant; `--rate 10..200@30,200` ramps linearly from 10/s to 200/s over 30 s
and then holds 200/s; segments are `RATE` or `FROM..TO`, each `@SECONDS` long except the last,
which lasts until the run's count or duration is reached.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from orchestrator.load import LoadError

_SEGMENT = re.compile(r"(\d+(?:\.\d+)?)(?:\.\.(\d+(?:\.\d+)?))?(?:@(\d+(?:\.\d+)?)s?)?")


@dataclass(frozen=True)
class Segment:
    start: float  # events/s at the segment's start
    end: float  # events/s at its end
    seconds: float  # math.inf for the last


@dataclass(frozen=True)
class Profile:
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, text: str) -> Profile:
        segments = []
        parts = [part.strip() for part in text.split(",") if part.strip()]
        for index, part in enumerate(parts):
            match = _SEGMENT.fullmatch(part)
            last = index == len(parts) - 1
            if not match or (not last and match[3] is None):
                raise LoadError(f"--rate {text!r}: use RATE, or segments like "
                                "'10..200@30,200' (from..to@seconds, the last without @)")
            start = float(match[1])
            end = float(match[2]) if match[2] else start
            seconds = float(match[3]) if match[3] else math.inf
            if last and seconds == math.inf and start != end:
                raise LoadError(f"--rate {text!r}: a ramp needs @SECONDS; hold a rate after it "
                                "('10..200@30,200')")
            if max(start, end) <= 0 or seconds <= 0:
                raise LoadError(f"--rate {text!r}: rates and lengths must be above 0")
            segments.append(Segment(start, end, seconds))
        if not segments:
            raise LoadError("--rate needs a rate, e.g. --rate 200")
        return cls(tuple(segments))

    @property
    def peak(self) -> float:
        return max(max(segment.start, segment.end) for segment in self.segments)

    def offsets(self, count: int | None = None, duration: float | None = None) -> Iterator[float]:
        """Seconds from the run's start at which events 0, 1, 2, … are due: event k is due when
        the integral of the rate reaches k. Ends at `count` events or `duration` seconds (or
        when a finite profile ends)."""
        produced, begun = 0, 0.0
        for segment in self.segments:
            accumulated = 0.0  # events due since the segment began (fractional)
            slope = (segment.end - segment.start) / segment.seconds \
                if segment.seconds != math.inf else 0.0
            while count is None or produced < count:
                target = accumulated + (1.0 if produced or accumulated else 0.0)
                elapsed = _time_for(segment.start, slope, target)
                if elapsed is None or elapsed > segment.seconds:
                    break
                at = begun + elapsed
                if duration is not None and at >= duration:
                    return
                yield at
                produced += 1
                accumulated = target
            if segment.seconds == math.inf or (count is not None and produced >= count):
                return
            begun += segment.seconds


def _time_for(rate: float, slope: float, events: float) -> float | None:
    """Seconds until `events` are due at a rate starting at `rate` growing by `slope` per s."""
    if slope == 0:
        return events / rate if rate > 0 else None
    # rate*t + slope*t^2/2 = events
    disc = rate * rate + 2 * slope * events
    if disc < 0:
        return None
    return (-rate + math.sqrt(disc)) / slope
