"""The OTLP forwarder: best effort, and quiet about a target that is simply not there."""

from __future__ import annotations

import logging
import socket

import pytest

from tests.conftest import wait_for
from tracing.export.forward import Export, Forwarder


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_target_that_is_not_there_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    # Given a forwarder to a port nothing listens on (Compose's Jaeger with its profile off)
    forwarder = Forwarder(f"http://127.0.0.1:{closed_port()}", timeout=1)
    caplog.set_level(logging.WARNING, logger="ripple.tracing.forward")
    # When exports keep failing, even long after the first warning
    for sent in range(1, 4):
        forwarder.submit(Export(b"{}", "application/json"))
        wait_for(lambda: forwarder.dropped == sent, timeout=10)  # noqa: B023
        forwarder._warned_at -= 3600  # a minute and more has passed
    forwarder.close()
    # Then every export is counted as dropped, and it was said once, naming the target
    assert forwarder.dropped == 3 and forwarder.forwarded == 0
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and "unreachable" in warnings[0], warnings
