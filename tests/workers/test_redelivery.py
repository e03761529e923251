"""A message whose worker was killed -9 runs again within 2 x its function's timeout, not after
kombu's hour."""

from __future__ import annotations

import time
from typing import Any

import psutil

from orchestrator.process import chaos as faults
from tests.conftest import Deploy, Ripple, wait_for

TIMEOUT_S = 5
HANDLER = "import time\n\ndef handler(event, context):\n    time.sleep(1.5)\n    return event\n"


def running_environment(ripple: Ripple) -> psutil.Process | None:
    found = faults.processes(ripple.data_dir, "environment")
    return found[0] if found else None


def records(ripple: Ripple, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ripple.api("GET", "/_ripple/api/invocations",
                                             params={"function": name})
    return found


def test_a_killed_workers_event_runs_again_within_twice_the_timeout(
        ripple: Ripple, deploy: Deploy, lambda_client: Any) -> None:
    # Given an async event running in a worker, its function's timeout 5 s
    name = deploy(HANDLER, timeout=TIMEOUT_S)
    wait_for(lambda: running_environment(ripple) is None, timeout=30)  # no other test's run
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
    environment = wait_for(lambda: running_environment(ripple), timeout=30, interval=0.02)
    worker = next(process for process in environment.parents()  # past the template it forked from
                  if faults.kind_of(process) == "worker")
    # When that worker is killed -9 in the middle of the handler
    worker.kill()
    killed = time.time()
    # Then the event runs again, from its start, within 2 x the timeout of the kill
    record = wait_for(lambda: next(iter(records(ripple, name)), None), timeout=60)
    assert record["status"] == "ok", record
    started_after = record["start"] - killed
    print(f"run again {started_after:.2f} s after the kill")
    assert 0 < started_after <= 2 * TIMEOUT_S, started_after
