"""Rate profiles: when an open-loop run's events are due."""

from __future__ import annotations

import pytest

from orchestrator.load import LoadError
from orchestrator.load.schedule import Profile


def test_a_constant_rate_spaces_events_evenly() -> None:
    # Given 200 events/s, When 5 events are planned
    offsets = list(Profile.parse("200").offsets(count=5))
    # Then they are 5 ms apart from the start
    assert offsets == pytest.approx([0.0, 0.005, 0.010, 0.015, 0.020])


def test_a_duration_bounds_the_events() -> None:
    # Given 100 events/s for 2 s, When planned, Then there are 200, all inside the 2 s
    offsets = list(Profile.parse("100").offsets(duration=2.0))
    assert len(offsets) == 200 and offsets[-1] < 2.0


def test_a_ramp_sends_its_integral_then_holds() -> None:
    # Given a ramp from 0 to 100/s over 10 s, then 100/s held, for 12 s
    offsets = list(Profile.parse("0..100@10,100").offsets(duration=12.0))
    # Then the ramp sends its area (500 events) and the hold 100/s for 2 s
    in_ramp = [offset for offset in offsets if offset < 10]
    assert abs(len(in_ramp) - 500) <= 2
    assert abs(len(offsets) - 700) <= 3
    # And the rate grows: the last second of the ramp holds ~9x the second one
    second = sum(1 for offset in offsets if 1 <= offset < 2)
    tenth = sum(1 for offset in offsets if 9 <= offset < 10)
    assert tenth > 6 * second


@pytest.mark.parametrize("text", ["", "fast", "10..200", "0", "5@0,10"])
def test_a_bad_rate_says_how_to_write_one(text: str) -> None:
    # When a rate cannot be read, Then the error names it
    with pytest.raises(LoadError, match="--rate"):
        Profile.parse(text)
