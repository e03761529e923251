"""`ripple demo --once` on a fresh data dir with no REDIS_URL: the embedded Redis path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, clean_environment, free_port


def test_demo_once_completes_on_the_embedded_redis(tmp_path: Path) -> None:
    # Given no REDIS_URL and an empty data dir
    env = clean_environment()
    # When the demo runs once
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "demo", "--once", "--port", str(free_port()),
         "--api-port", str(free_port()), "--data-dir", str(tmp_path / "data")],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    # Then it succeeds, shows REPORT lines for the fan-out and the dead-lettered failure
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("REPORT RequestId:") >= 11
    assert "attempts: 3" in result.stdout and "RetriesExhausted" in result.stdout
    # And the API Gateway stage answered the HTTP step with work's result
    assert '200 application/json  {"item": 7, "square": 49}' in result.stdout
    assert "Where to look next" in result.stdout
    # And the embedded Redis kept its data under the data dir
    assert (tmp_path / "data" / "redis").is_dir()
