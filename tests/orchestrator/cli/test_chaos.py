"""`ripple chaos` against a running stack: kills, pauses and duplicates, then the ledger."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT, clean_environment, start_ripple, stop_ripple

HANDLER = "def handler(event, context):\n    return event\n"


def test_chaos_kills_and_duplicates_and_the_ledger_still_reconciles(tmp_path: Path) -> None:
    # Given a ripple with a deployed function
    data = tmp_path / "data"
    data.mkdir()
    ripple = start_ripple(data, "--workers", "2")
    try:
        ripple.deploy_one("echo", HANDLER, tmp_path)
        sent = []

        def send() -> None:
            for number in range(150):
                try:
                    answer = httpx.post(f"{ripple.url}/2015-03-31/functions/echo/invocations",
                                        headers={"X-Amz-Invocation-Type": "Event"},
                                        content=f'{{"n": {number}}}', timeout=10)
                    if answer.status_code == 202:
                        sent.append(number)
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)

        sender = threading.Thread(target=send)
        sender.start()
        # When chaos kills a worker and an environment and duplicates half the events
        result = ripple.cli("chaos", "--kill", "worker", "--kill", "environment", "--every", "1",
                            "--duration", "3", "--duplicate", "0.5", "--data-dir", str(data),
                            timeout=180)
        sender.join(timeout=60)
        # Then it says what it did, stops by itself, and the ledger reconciles with duplicates
        assert result.returncode == 0, result.stdout + result.stderr
        assert "killed worker (pid" in result.stdout
        assert "50% of async events delivered twice" in result.stdout
        ledger = ripple.api("GET", "/_ripple/api/ledger")["echo"]
        assert ledger["lost"] == [] and ledger["reconciles"], ledger
        assert ledger["accepted"] >= len(sent) > 0
        assert ledger["duplicates"] > 0
        # And the duplication has ended by itself
        time.sleep(0.5)
        assert httpx.get(f"{ripple.url}/_ripple/health", timeout=5).status_code == 200
    finally:
        stop_ripple(ripple)


def test_chaos_refuses_an_unknown_fault_and_a_missing_stack(tmp_path: Path) -> None:
    # Given no ripple running on this data dir
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "orchestrator.cli", *args], cwd=ROOT,
                              env=clean_environment(), capture_output=True, text=True,
                              timeout=60)

    # When chaos is asked for a fault it does not know, or with no stack to act on
    unknown = run("chaos", "--kill", "disk", "--data-dir", str(tmp_path))
    missing = run("chaos", "--kill", "worker", "--data-dir", str(tmp_path))
    # Then each says why, and nothing is done
    assert unknown.returncode == 2 and "--kill disk: one of worker" in unknown.stderr
    assert missing.returncode == 1 and "no running `ripple up` found" in missing.stderr
