"""What every benchmark shares: a ripple stack (endpoint + workers) on a given Redis, and
percentiles. Benchmarks are scripts, run from the repository: `python benchmarks/NAME.py`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def start_stack(url: str, data_dir: Path, port: int, workers: int = 2,
                env: dict[str, str] | None = None) -> list[subprocess.Popen[bytes]]:
    """The endpoint on 127.0.0.1:`port` and `workers` workers, healthy, on Redis `url`."""
    environment = {**os.environ, "REDIS_URL": url, "RIPPLE_DATA_DIR": str(data_dir),
                   "RIPPLE_ENDPOINT": f"http://127.0.0.1:{port}", **(env or {})}
    procs = [subprocess.Popen([sys.executable, "-m", "orchestrator.endpoint.app", "--port",
                               str(port)], env=environment, cwd=ROOT)]
    procs += [subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "worker"],
                               env=environment, cwd=ROOT) for _ in range(workers)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_ripple/health", timeout=1).status_code == 200:
                return procs
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_stack(procs)
    raise RuntimeError("ripple did not become healthy within 60 s")


def stop_stack(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait()


def cpu_seconds(procs: list[subprocess.Popen[bytes]]) -> dict[str, float]:
    """CPU time (user + system) so far of the endpoint (the first process), its span writer,
    the workers, and the workers' execution environments."""
    totals = {"endpoint": 0.0, "span writer": 0.0, "workers": 0.0, "environments": 0.0}
    for index, proc in enumerate(procs):
        try:
            process = psutil.Process(proc.pid)
            times = process.cpu_times()
            totals["endpoint" if index == 0 else "workers"] += times.user + times.system
            for child in process.children(recursive=True):
                times = child.cpu_times()
                totals["span writer" if index == 0 else "environments"] += (
                    times.user + times.system)
        except psutil.Error:
            continue
    return totals


def warm_latencies(code: Path, settings: Any, count: int) -> list[float]:
    """Milliseconds of `count` warm invocations of `code`'s handler, straight through one
    execution environment's Runtime API (the cost of a bare handler call)."""
    from orchestrator.functions.config import FunctionConfig
    from workers.environments.environment import Environment

    env = Environment(FunctionConfig(name="warm", handler="app.handler", code_sha256="x"),
                      code, settings)
    env.invoke("first", b"{}")
    latencies = []
    for index in range(count):
        begun = time.perf_counter()
        env.invoke(f"w{index}", b"{}")
        latencies.append((time.perf_counter() - begun) * 1000)
    env.stop()
    return latencies
