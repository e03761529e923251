"""`ripple up`'s own output: what is up and where, not a log line per process, and at Ctrl-C
one line, not one per process or Celery's own."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Ripple, start_ripple, stop_ripple, wait_for


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


def test_ctrl_c_says_ripple_stopped_in_one_line(tmp_path: Path) -> None:
    # Given a ripple of its own, up
    stack = start_ripple(tmp_path, "--workers", "2")
    wait_for(lambda: "Ctrl-C stops." in stack.log.read_text())
    # When it is stopped with Ctrl-C
    stop_ripple(stack)
    # Then it says so once, with no line per process and no "worker: Warm shutdown"
    after = stack.log.read_text().partition("Ctrl-C stops.")[2]
    assert stack.process.returncode is not None
    assert "ripple stopped" in after
    assert "Warm shutdown" not in after and "stopping" not in after, after
