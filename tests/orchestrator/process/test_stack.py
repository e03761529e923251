"""`ripple up` as a user runs it: supervision, clean stops, data that persists."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx

from tests.conftest import Deploy, Ripple, start_ripple, stop_ripple, wait_for


def worker_pids(ripple: Ripple) -> set[int]:
    workers = ripple.api("GET", "/_ripple/api/status")["workers"]
    return {int(worker.rsplit("-", 1)[1]) for worker in workers}


def test_a_killed_worker_is_restarted_and_invocations_go_on(
        ripple: Ripple, deploy: Deploy, lambda_client) -> None:
    # Given a running ripple with two workers
    name = deploy("def handler(event, context):\n    return 'alive'\n")
    before = wait_for(lambda: worker_pids(ripple) if len(worker_pids(ripple)) == 2 else None)
    # When one worker is killed outright
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    # Then the supervisor starts a new one
    wait_for(lambda: len(worker_pids(ripple) - before) == 1 and victim not in worker_pids(ripple),
             timeout=60)
    # And invocations still work
    answer = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert answer["Payload"].read() == b'"alive"'


def test_functions_and_dead_letters_persist_across_restarts(tmp_path: Path) -> None:
    # Given a ripple with a deployed function
    data = tmp_path / "data"
    data.mkdir()
    first = start_ripple(data)
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    return 'persisted'\n")
    spec = "functions:\n  keep: {handler: app.handler, code: ./code}\n"
    (tmp_path / "ripple.yaml").write_text(spec)
    assert first.cli("deploy", str(tmp_path / "ripple.yaml")).returncode == 0
    # When it is stopped with Ctrl-C and started again on the same data dir
    stop_ripple(first)
    assert first.process.returncode == 0
    second = start_ripple(data)
    try:
        # Then the function is still deployed and runs
        answer = httpx.post(f"{second.url}/2015-03-31/functions/keep/invocations", content=b"{}",
                            timeout=30)
        assert answer.json() == "persisted"
    finally:
        stop_ripple(second)
