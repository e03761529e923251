"""A message whose worker was killed -9 runs again within 2 x its function's timeout, not after
kombu's hour."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import psutil

from orchestrator.process import chaos as faults
from tests.conftest import Deploy, Ripple, wait_for

TIMEOUT_S = 5
HANDLER = """import os, time

def handler(event, context):
    with open(os.environ["MARK"], "a") as mark:  # which process runs it, and when
        mark.write(f"{os.getpid()} {time.time()}\\n")
    time.sleep(1.5)
    return event
"""


def records(ripple: Ripple, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ripple.api("GET", "/_ripple/api/invocations",
                                             params={"function": name})
    return found


def test_a_killed_workers_event_runs_again_within_twice_the_timeout(
        ripple: Ripple, deploy: Deploy, lambda_client: Any, tmp_path: Path) -> None:
    # Given an async event running in a worker, its function's timeout 5 s
    mark = tmp_path / "runs"
    name = deploy(HANDLER, timeout=TIMEOUT_S, environment={"MARK": str(mark)})
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
    wait_for(lambda: mark.exists() and mark.read_text().endswith("\n"), timeout=30,
             interval=0.02)
    environment = psutil.Process(int(mark.read_text().split()[0]))
    worker = next(process for process in environment.parents()  # past the template it forked from
                  if faults.kind_of(process) == "worker")
    # When that worker is killed -9 in the middle of the handler
    os.kill(worker.pid, 9)
    killed = time.time()
    # Then the event runs again, from its start, within 2 x the timeout of the kill
    record = wait_for(lambda: next(iter(records(ripple, name)), None), timeout=60)
    assert record["status"] == "ok", record
    runs = [float(line.split()[1]) for line in mark.read_text().splitlines()]
    assert len(runs) == 2, runs
    print(f"run again {runs[1] - killed:.2f} s after the kill")
    assert 0 < runs[1] - killed <= 2 * TIMEOUT_S, runs[1] - killed
