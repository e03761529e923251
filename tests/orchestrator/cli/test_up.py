"""`ripple up`'s own output: what is up and where, not a log line per process."""

from __future__ import annotations

from tests.conftest import Ripple, wait_for


def test_ripple_up_says_what_is_up_without_a_line_per_process(ripple: Ripple) -> None:
    # Given the session's ripple, started with `ripple up`
    # When its output is read once it has said everything
    output = wait_for(lambda: text if "Ctrl-C stops." in (text := ripple.log.read_text())
                      else None)
    before, _, summary = output.partition("ripple is up")
    # Then it says what is up and where
    assert f"endpoint      {ripple.url}" in summary and "workers       " in summary
    # And no line per process it started came before that
    assert "started endpoint" not in before and "started worker" not in before, before
