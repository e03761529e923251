"""The hot path against raw Celery on the same Redis, in interleaved rounds (issue 12).

1. Worker drain: N async no-ops queued while no worker runs, then W workers drain them; ripple
   vs raw Celery (solo pool, late acks, prefetch 1), per worker process, W = 1 and 2; each
   side twice a round, in mirrored order (A B B A).
2. End to end: ripple through the Invoke API with `ripple load` (closed loop, Event) vs raw
   Celery with an `apply_async` producer, both with 2 workers; CPU per invocation per role.
3. Warm sync latency p50/p99: the Invoke API and the API Gateway stage vs a raw Celery round
   trip and a bare handler call (an environment driven directly).
4. Tracing on vs off: end-to-end throughput with ripple's default sampler and with every
   trace recorded, two stacks per arm loaded in turn in mirrored chunks (`tracing_rounds.py`).

The drain's events are queued by this process, decided by ripple's default sampler as the
endpoint would decide them.

Every figure is a ratio against its baseline in the same round; rounds alternate which side
goes first. Run: python benchmarks/core.py [--rounds 3] [--tasks 10000]. Not a test.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.core_parts import (  # noqa: E402
    RawCelery,
    Stack,
    deploy_noop,
    percentile,
    spread,
    wait_until,
)
from benchmarks.harness import warm_latencies  # noqa: E402
from benchmarks.tracing_rounds import tracing_rounds  # noqa: E402
from orchestrator.process.redis_server import EmbeddedRedis  # noqa: E402
from orchestrator.settings import Settings  # noqa: E402
from tracing.sampling import default_sampler  # noqa: E402


def drain_rate(done: Callable[[], int], total: int, start: Callable[[], object]) -> float:
    """Events/s between 5% done and all done, once `start()` set the workers going."""
    start()
    wait_until(lambda: done() >= total // 20)
    first, begun = done(), time.perf_counter()
    wait_until(lambda: done() >= total)
    return (total - first) / (time.perf_counter() - begun)


def mirrored(first: Callable[[], float], second: Callable[[], float], flip: bool
             ) -> tuple[float, float]:
    """Each side's rate over two runs in mirrored order (A B B A, or B A A B when `flip`):
    this machine's speed drifts by 10-20% over the seconds a drain takes, and a drift that
    holds for the four runs then falls on both sides alike. Both runs of a side drain as many
    events, so its rate is their events over their time."""
    order = [second, first] if flip else [first, second]
    rates: dict[Callable[[], float], list[float]] = {first: [], second: []}
    for run in order + order[::-1]:
        rates[run].append(run())
    return (2 / sum(1 / rate for rate in rates[first]),
            2 / sum(1 / rate for rate in rates[second]))


def ripple_drain(url: str, work: Path, tasks: int, workers: int) -> float:
    from orchestrator.functions.registry import Registry
    from orchestrator.invocations.dispatch import Dispatcher
    from orchestrator.invocations.message import InvocationRequest

    client = redis.Redis.from_url(url)
    with Stack(url, work, workers=0) as stack:
        deploy_noop(stack.endpoint, work)
        function = Registry(client).get("noop")
        assert function is not None
        dispatcher = Dispatcher(client)
        for _ in range(tasks):
            dispatcher.send(InvocationRequest(function=function))
        before = stack.invocations()
        return drain_rate(lambda: stack.invocations() - before, tasks,
                          lambda: stack.add_workers(workers))


def ripple_end_to_end(url: str, work: Path, tasks: int) -> tuple[float, dict[str, float]]:
    """Throughput through the Invoke API with `ripple load`, and CPU ms per invocation."""
    with Stack(url, work, workers=2) as stack:
        deploy_noop(stack.endpoint, work)
        stack.warm()
        return load_through(stack, tasks)


def load_through(stack: Stack, tasks: int) -> tuple[float, dict[str, float]]:
    """`tasks` async no-ops through `stack`'s Invoke API with `ripple load` (closed loop, 32
    in flight): events/s, and CPU ms per invocation per role."""
    cpu_before = stack.cpu()
    children = os.times()
    result = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "load", "invoke:noop", "--count",
         str(tasks), "--concurrency", "32", "--invocation-type", "Event", "--json"],
        env={**os.environ, "RIPPLE_ENDPOINT": stack.endpoint}, capture_output=True,
        text=True, cwd=ROOT, check=True)
    after = os.times()
    # The CPU of storing this load's spans counts too, and is not left to slow the next arm.
    stack.settle()
    cpu = {role: (used - cpu_before[role]) * 1000 / tasks
           for role, used in stack.cpu().items()}
    cpu["load generator"] = ((after.children_user + after.children_system)
                             - (children.children_user + children.children_system)
                             ) * 1000 / tasks
    summary = json.loads(result.stdout)
    assert summary["succeeded"] == tasks, summary
    return float(summary["throughput_per_s"]), cpu


def sync_latencies(url: str, work: Path, count: int) -> tuple[list[float], list[float]]:
    """Warm sync invokes of the no-op, sequential: through the Invoke API, then the stage."""
    with Stack(url, work, workers=2) as stack:
        deploy_noop(stack.endpoint, work, route=True)
        found = []
        for host, port, method, path in (
                ("127.0.0.1", stack.port, "POST", "/2015-03-31/functions/noop/invocations"),
                ("127.0.0.1", stack.api_port, "GET", "/noop")):
            connection = http.client.HTTPConnection(host, port, timeout=30)
            latencies = []
            for index in range(count + 100):
                begun = time.perf_counter()
                connection.request(method, path, body=b"{}" if method == "POST" else None)
                response = connection.getresponse()
                response.read()
                assert response.status == 200, response.status
                if index >= 100:
                    latencies.append((time.perf_counter() - begun) * 1000)
            connection.close()
            found.append(latencies)
        return found[0], found[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--latency", type=int, default=2000)
    parser.add_argument("--tracing-rounds", type=int, default=10)
    parser.add_argument("--tracing-tasks", type=int, default=8000)
    parser.add_argument("--every-tasks", type=int, default=4000)
    args = parser.parse_args()
    settings = Settings()
    # The drain's events are queued here: decided as the endpoint decides them.
    trace.set_tracer_provider(TracerProvider(
        sampler=default_sampler(settings.trace_reservoir, settings.trace_rate)))
    work = Path(tempfile.mkdtemp(prefix="ripple-bench-"))
    server = EmbeddedRedis(work / "redis")
    url = server.start()
    raw = RawCelery(url, work)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{args.rounds} rounds of {args.tasks:,} events")
    try:
        drains: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
        ends: list[tuple[float, float, dict[str, float]]] = []
        for round_number in range(args.rounds):
            flip = round_number % 2 == 1
            for workers in (1, 2):
                raw_rate, ripple_rate = mirrored(
                    lambda w=workers: raw.drain(args.tasks, w),
                    lambda w=workers: ripple_drain(url, work, args.tasks, w), flip)
                drains[workers].append((raw_rate, ripple_rate))
                print(f"round {round_number + 1} drain, {workers} worker(s): raw Celery "
                      f"{raw_rate:,.0f}/s, ripple {ripple_rate:,.0f}/s = "
                      f"{ripple_rate / raw_rate:.2f}", flush=True)
            raw_e2e = raw.end_to_end(args.tasks, 2)
            ripple_e2e, cpu = ripple_end_to_end(url, work, args.tasks)
            ends.append((raw_e2e, ripple_e2e, cpu))
            print(f"round {round_number + 1} end to end: raw Celery {raw_e2e:,.0f}/s, ripple "
                  f"{ripple_e2e:,.0f}/s = {ripple_e2e / raw_e2e:.2f}", flush=True)
        raw_latency = raw.round_trips(args.latency)
        invoke_latency, stage_latency = sync_latencies(url, work, args.latency)
        bare = warm_latencies(work / "noop", settings, args.latency)
        tracing = tracing_rounds(url, work, args.tracing_rounds, args.tracing_tasks,
                                 args.every_tasks)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print("\n## Worker drain of queued async no-ops (per worker process)")
    for workers, pairs in drains.items():
        ratios = [ripple / base for base, ripple in pairs]
        print(f"{workers} worker(s): raw Celery {spread([b for b, _ in pairs])}/s, ripple "
              f"{spread([r for _, r in pairs])}/s; ratio {spread(ratios, 2)}   (goal >= 0.8 "
              f"in every round: {'met' if min(ratios) >= 0.8 else 'missed'})")
    ratios = [ripple / base for base, ripple, _ in ends]
    print("\n## End to end, 2 workers: Invoke API + ripple load vs apply_async + Celery")
    print(f"raw Celery {spread([b for b, _, _ in ends])}/s, ripple "
          f"{spread([r for _, r, _ in ends])}/s; ratio {spread(ratios, 2)}   (goal >= 0.6)")
    roles = ends[0][2].keys()
    print("CPU ms per invocation: " + ", ".join(
        f"{role} {statistics.median(cpu[role] for _, _, cpu in ends):.2f}" for role in roles)
        + f"; total {statistics.median(sum(cpu.values()) for _, _, cpu in ends):.2f}")
    print("\n## Warm sync latency (ms)                  p50      p99")
    for label, values in (("bare handler call (environment direct)", bare),
                          ("raw Celery round trip", raw_latency),
                          ("ripple Invoke API", invoke_latency),
                          ("ripple API Gateway stage", stage_latency)):
        print(f"{label:40s} {percentile(values, .5):7.2f}  {percentile(values, .99):7.2f}")
    print("(goal with tracing on: p50 <= 3 ms, p99 <= 10 ms)")
    print(f"\n## Tracing on vs off, {len(tracing)} rounds (goal: median <= 5%, no round over 10%)")
    for arm, base, label in (("off again", "off", "off again against off (the machine's own "
                                                  "spread)"),
                             ("on again", "on", "on again against on (the same, tracing on)"),
                             ("both on", "both off", "on, ripple's default sampler (both stacks "
                                                     "against both off)"),
                             ("every", "off beside every",
                              "every trace recorded (always_on), in chunks of its own")):
        costs = [1 - loads[arm].rate / loads[base].rate for loads in tracing]
        extra = [sum(loads[arm].cpu.values()) / sum(loads[base].cpu.values()) - 1
                 for loads in tracing]
        by_role = {role: statistics.median(loads[arm].cpu[role] - loads[base].cpu[role]
                                           for loads in tracing)
                   for role in tracing[0][base].cpu}
        print(f"{label}: cost median {statistics.median(costs):+.1%}, rounds "
              f"{min(costs):+.1%} .. {max(costs):+.1%}; CPU per invocation (ripple's "
              f"processes) {statistics.median(extra):+.1%} [{min(extra):+.1%} .. "
              f"{max(extra):+.1%}]; spans stored per invocation "
              f"{statistics.median(loads[arm].spans for loads in tracing):.2f}; ms more per "
              "invocation than the baseline (median): "
              + ", ".join(f"{role} {more:+.3f}" for role, more in by_role.items()))


if __name__ == "__main__":
    main()
