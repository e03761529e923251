"""A bounded soak: async and sync invocations at a steady rate for a fixed time (30 minutes by
default), sampling the resident memory of the endpoint, the workers (with their environments)
and Redis. Flat memory is the goal; the figures are first, last and peak, and the growth per
hour fitted over the second half (after warm-up). Baseline in the same run: the idle stack's
memory before the load starts.

Run: python benchmarks/soak.py [--minutes 30] [--rate 50]. Loopback only; it stops by itself
and stops the stack it started. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.chaos import deploy, start, stop  # noqa: E402

ROLES = ("endpoint", "workers", "redis")


def memory_mb(up: psutil.Process) -> dict[str, float]:
    """Resident memory (MB) by role; a worker counts with its template and environments."""
    totals = dict.fromkeys(ROLES, 0.0)
    for process in up.children(recursive=True):
        try:
            command = " ".join(process.cmdline())
            rss = process.memory_info().rss / 1e6
        except psutil.Error:
            continue
        if "redis-server" in command:
            totals["redis"] += rss
        elif "orchestrator.endpoint" in command:
            totals["endpoint"] += rss
        else:
            totals["workers"] += rss
    return totals


def growth_per_hour(samples: list[tuple[float, float]]) -> float:
    """MB per hour, a least-squares slope over the second half of the samples."""
    half = samples[len(samples) // 2:]
    if len(half) < 2:
        return 0.0
    times = [t for t, _ in half]
    values = [v for _, v in half]
    slope = statistics.linear_regression(times, values).slope
    return slope * 3600


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=50.0, help="invocations per second")
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    args = parser.parse_args()
    if args.minutes > 120:
        raise SystemExit("--minutes is bounded at 120")
    work = Path(tempfile.mkdtemp(prefix="ripple-soak-"))
    (work / "data").mkdir()
    up, url = start(work / "data")
    samples: dict[str, list[tuple[float, float]]] = {role: [] for role in ROLES}
    sent = errors = 0
    try:
        deploy(url, work)
        stack = psutil.Process(up.pid)
        time.sleep(5)
        idle = memory_mb(stack)
        stop_at = time.monotonic() + args.minutes * 60
        stopping = threading.Event()

        def load() -> None:
            nonlocal sent, errors
            interval = 1.0 / args.rate
            next_at = time.monotonic()
            with httpx.Client(timeout=30) as client:
                while not stopping.is_set() and time.monotonic() < stop_at:
                    kind = "RequestResponse" if sent % 10 == 0 else "Event"
                    try:
                        answer = client.post(f"{url}/2015-03-31/functions/work/invocations",
                                             headers={"X-Amz-Invocation-Type": kind},
                                             content=f'{{"n": {sent}}}')
                        errors += answer.status_code >= 400
                    except httpx.HTTPError:
                        errors += 1
                    sent += 1
                    next_at += interval
                    time.sleep(max(0.0, next_at - time.monotonic()))

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        started = time.monotonic()
        while time.monotonic() < stop_at:
            time.sleep(min(args.sample, max(0.0, stop_at - time.monotonic())))
            now = time.monotonic() - started
            for role, value in memory_mb(stack).items():
                samples[role].append((now, value))
            print(f"{now / 60:5.1f} min  sent {sent:,}  errors {errors}  " + "  ".join(
                f"{role} {samples[role][-1][1]:.0f} MB" for role in ROLES), flush=True)
        stopping.set()
        loader.join(timeout=30)
        ledger = httpx.get(f"{url}/_ripple/api/ledger", timeout=30).json().get("work", {})
    finally:
        stop(up)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n## Soak: {args.minutes:g} min at {args.rate:g}/s (1 in 10 sync), {sent:,} sent, "
          f"{errors} errors; ledger: accepted {ledger.get('accepted')}, succeeded "
          f"{ledger.get('succeeded')}, in flight {ledger.get('in_flight')}, lost "
          f"{len(ledger.get('lost', []))}")
    print(f"{'role':10} {'idle MB':>8} {'first MB':>9} {'last MB':>8} {'peak MB':>8} "
          f"{'MB/hour (2nd half)':>19}")
    for role in ROLES:
        values = [value for _, value in samples[role]]
        if not values:
            continue
        print(f"{role:10} {idle[role]:8.0f} {values[0]:9.0f} {values[-1]:8.0f} "
              f"{max(values):8.0f} {growth_per_hour(samples[role]):19.1f}")


if __name__ == "__main__":
    main()
