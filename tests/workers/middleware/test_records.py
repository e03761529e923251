"""Lambda's log lines around an invocation's output."""

from __future__ import annotations

from workers.environments.outcome import Outcome
from workers.environments.output import LOG_EVENT_BYTES, CappedOutput
from workers.middleware.records import log_text


def test_a_truncated_output_keeps_start_end_and_report_around_it() -> None:
    # Given an invocation that printed 1 MB, capped as it was read
    output = CappedOutput()
    for n in range(1024):
        output.append(b"%04d" % n + b"." * 1019 + b"\n")
    outcome = Outcome("req-1", b"null", duration_ms=12.5, init_ms=80.0, max_memory_mb=60,
                      output=output.text(), init_output="imported\n")
    # When its log entry is written
    text = log_text("req-1", outcome, 128)
    # Then it is START, the head, the marker, the tail, END and REPORT, within the cap
    lines = text.splitlines()
    assert lines[:3] == ["imported", "START RequestId: req-1 Version: $LATEST", "0000" + "." * 1019]
    assert f"... [ripple: output truncated, {1024 * 1024 - LOG_EVENT_BYTES} bytes dropped] ..." \
        in lines
    assert lines[-3] == "1023" + "." * 1019
    assert lines[-2] == "END RequestId: req-1"
    assert lines[-1].startswith("REPORT RequestId: req-1\tDuration: 12.50 ms\t")
    assert "Init Duration: 80.00 ms" in lines[-1]
    assert len(text.encode()) < LOG_EVENT_BYTES + 1024
