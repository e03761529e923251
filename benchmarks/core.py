"""The hot path against raw Celery on the same Redis, in interleaved rounds (issue 12).

1. Worker drain: N async no-ops queued while no worker runs, then W workers drain them; ripple
   vs raw Celery (solo pool, late acks, prefetch 1), per worker process, W = 1 and 2.
2. End to end: ripple through the Invoke API with `ripple load` (closed loop, Event) vs raw
   Celery with an `apply_async` producer, both with 2 workers; CPU per invocation per role.
3. Warm sync latency p50/p99: the Invoke API and the API Gateway stage vs a raw Celery round
   trip and a bare handler call (an environment driven directly).
4. Tracing on vs off: end-to-end throughput through the Invoke API with ripple's default
   sampler (10 new traces a second, then 5%, per process) and with every trace recorded
   (`always_on`); the invokes leave the decision to ripple, as `ripple load`'s do. Each
   round starts the arms' stacks afresh, up at once (a Redis database each), and loads them
   in turn in chunks of a fraction of a second, the order mirrored every chunk, from one
   sender pool that stays up (`senders.py`): this machine's speed drifts by 10-20% within
   seconds, and a drift must fall on every arm alike. A second tracing-off arm shows how far
   two identical arms differ. The every-trace arm then runs against "off" in chunks of its
   own, so its deferred work never falls in the chunks of the arms the goal compares.

The drain's events are queued by this process, decided by ripple's default sampler as the
endpoint would decide them.

Every figure is a ratio against its baseline in the same round; rounds alternate which side
goes first. Run: python benchmarks/core.py [--rounds 3] [--tasks 10000]. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
)
from benchmarks.harness import warm_latencies  # noqa: E402
from benchmarks.senders import Senders  # noqa: E402
from orchestrator.process.redis_server import EmbeddedRedis  # noqa: E402
from orchestrator.settings import Settings  # noqa: E402
from tracing.sampling import default_sampler  # noqa: E402


def wait_until(condition: Callable[[], bool], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish")
        time.sleep(0.005)


def drain_rate(done: Callable[[], int], total: int, start: Callable[[], object]) -> float:
    """Events/s between 5% done and all done, once `start()` set the workers going."""
    start()
    wait_until(lambda: done() >= total // 20)
    first, begun = done(), time.perf_counter()
    wait_until(lambda: done() >= total)
    return (total - first) / (time.perf_counter() - begun)


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


# Tracing's arms, two stacks each: each stack is a few percent faster or slower for as long as
# it runs, and each condition's pair is read as one (`pooled`), so one stack's draw moves it
# half as far. "off again" against "off" (and "on again" against "on") is the machine's own
# spread, against which a round's tracing cost can be read. The arm that records every trace
# runs in a phase of its own after them, against "off" again: its deferred work (span batches
# posted, decoded and stored after the chunk that made them) is ten times the default
# sampler's, and measurably slowed whichever arm's chunk came next. (In the mirrored order the
# chunks after an "on" chunk are mostly "on" chunks: what tracing defers is counted as its own.)
TRACING_ARMS: dict[str, dict[str, Any]] = {
    "off": {"tracing": False}, "off again": {"tracing": False}, "on": {}, "on again": {}}
EVERY_ARM: dict[str, Any] = {"sampler": "always_on"}
TRACING_CHUNK = 1000  # invokes an arm gets in one go


def tracing_rounds(url: str, work: Path, rounds: int, tasks: int, every_tasks: int
                   ) -> list[dict[str, ArmLoad]]:
    """Each round starts every arm's stack afresh, all up at once on a Redis database each,
    and loads them in turn in chunks of `TRACING_CHUNK` invokes, the order mirrored every
    chunk (A B C C B A ...), `tasks` per arm. A drift of the machine's speed, which lasts
    seconds, then falls on every arm alike; fresh stacks each round draw again the few percent
    by which two identical stacks differ for as long as they run. Then the every-trace arm and
    "off" take `every_tasks` each the same way ("every" and "off beside every" in the loads).
    Returns each round's loads."""
    runs: list[dict[str, ArmLoad]] = []
    with Senders() as senders:
        for round_number in range(rounds):
            with contextlib.ExitStack() as running:
                stacks: dict[str, Stack] = {}
                arms = {**TRACING_ARMS, "every": EVERY_ARM}
                for index, (arm, options) in enumerate(arms.items(), start=1):
                    stack = running.enter_context(Stack(database(url, index), work,
                                                        workers=2, **options))
                    running.callback(senders.forget, stack.endpoint)
                    deploy_noop(stack.endpoint, work)
                    stack.warm()
                    stacks[arm] = stack
                for stack in stacks.values():  # the senders' connections opened, kept busy
                    load_chunk(senders, stack, 100)
                flip = round_number % 2 == 1
                found = chunked_loads(senders, {arm: stacks[arm] for arm in TRACING_ARMS},
                                      tasks, reverse=flip)
                every = chunked_loads(senders, {"off": stacks["off"], "every": stacks["every"]},
                                      every_tasks, reverse=flip)
                runs.append({**found, "both off": pooled(found["off"], found["off again"]),
                             "both on": pooled(found["on"], found["on again"]),
                             "every": every["every"], "off beside every": every["off"]})
            rate = {arm: load.rate for arm, load in runs[-1].items()}
            print(f"tracing round {round_number + 1}: off {rate['both off']:,.0f}/s, on "
                  f"{rate['both on']:,.0f}/s ({1 - rate['both on'] / rate['both off']:+.1%}); "
                  f"off again against off {1 - rate['off again'] / rate['off']:+.1%}, on again "
                  f"against on {1 - rate['on again'] / rate['on']:+.1%}; every trace "
                  f"{rate['every']:,.0f}/s against off {rate['off beside every']:,.0f}/s "
                  f"({1 - rate['every'] / rate['off beside every']:+.1%})", flush=True)
            on, off = runs[-1]["both on"], runs[-1]["both off"]  # which role a costly round was
            print("  on's extra CPU, ms per invocation: " + ", ".join(
                f"{role} {on.cpu[role] - off.cpu[role]:+.3f}" for role in on.cpu)
                + f"; {on.spans:.2f} spans stored per invocation", flush=True)
    return runs


@dataclass(frozen=True)
class ArmLoad:
    """One arm's load in a tracing round."""

    rate: float  # events/s: its chunks' invokes over their time, first send to last run
    cpu: dict[str, float]  # CPU ms per invocation per role of ripple's processes, settled
    spans: float  # spans stored per invocation


def pooled(first: ArmLoad, second: ArmLoad) -> ArmLoad:
    """Two arms of the same kind as one: their invokes over their time, their mean CPU. Each
    stack is a few percent faster or slower for as long as it runs (in 10 rounds of four
    identical stacks, 1.2% one standard deviation, beside 1.5% from the chunks' own noise), and
    a pair's mean varies less than either."""
    return ArmLoad(2 / (1 / first.rate + 1 / second.rate),
                   {role: (first.cpu[role] + second.cpu[role]) / 2 for role in first.cpu},
                   (first.spans + second.spans) / 2)


def chunked_loads(senders: Senders, stacks: dict[str, Stack], tasks: int, reverse: bool
                  ) -> dict[str, ArmLoad]:
    """`tasks` invokes per stack in mirrored chunks. Redis serves every stack, so its CPU is
    counted during each stack's chunks only; every other role's over the whole call, once the
    spans are stored."""
    if tasks < 1:  # no invokes, no time to divide them by
        raise ValueError(f"each arm needs at least one invoke, not {tasks}")
    order = list(stacks)[::-1] if reverse else list(stacks)
    seconds = dict.fromkeys(stacks, 0.0)
    redis_seconds = dict.fromkeys(stacks, 0.0)
    spans_before = {arm: stack.settle() for arm, stack in stacks.items()}
    before = {arm: stack.cpu() for arm, stack in stacks.items()}
    chunks = max(1, tasks // TRACING_CHUNK)
    size = tasks // chunks
    for chunk in range(chunks):
        for arm in order if chunk % 2 == 0 else order[::-1]:
            redis_before = stacks[arm].redis_cpu()
            seconds[arm] += load_chunk(senders, stacks[arm], size)
            redis_seconds[arm] += stacks[arm].redis_cpu() - redis_before
    stored = {arm: stack.settle() - spans_before[arm] for arm, stack in stacks.items()}
    loads = {}
    sent = size * chunks
    for arm, stack in stacks.items():
        used = {role: seconds_used - before[arm][role]
                for role, seconds_used in stack.cpu().items()}
        used["redis"] = redis_seconds[arm]
        loads[arm] = ArmLoad(sent / seconds[arm],
                             {role: value * 1000 / sent for role, value in used.items()},
                             stored[arm] / sent)
    return loads


def load_chunk(senders: Senders, stack: Stack, size: int) -> float:
    """Seconds from sending `size` invokes to the last of them counted as run."""
    counted, begun = stack.invocations(), time.perf_counter()
    senders.send(stack.endpoint, size)
    wait_until(lambda: stack.invocations() - counted >= size)
    return time.perf_counter() - begun


def database(url: str, index: int) -> str:
    """`url` (redis://…/0) with another database number."""
    return f"{url.rsplit('/', 1)[0]}/{index}"


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
                pair = [lambda w=workers: raw.drain(args.tasks, w),
                        lambda w=workers: ripple_drain(url, work, args.tasks, w)]
                results = [run() for run in (pair[::-1] if flip else pair)]
                raw_rate, ripple_rate = results[::-1] if flip else results
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
