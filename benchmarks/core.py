"""Issue 2's figures, side by side in one run on one Redis.

1. Throughput: raw Celery no-op tasks vs ripple async no-op invocations through the Invoke API,
   end to end (first send to last completion), 2 workers each.
2. Warm sync invoke latency through the Invoke API vs a bare handler call (an environment
   invoked directly, no HTTP, no Celery) and a raw Celery round trip.
3. Cold start (spawn to handler ready) vs a bare `python -c pass`.

Run: python benchmarks/core.py [--tasks 3000] [--latency 2000]. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import percentile, start_stack, stop_stack, warm_latencies  # noqa: E402
from orchestrator.functions.config import FunctionConfig  # noqa: E402
from orchestrator.process.redis_server import EmbeddedRedis  # noqa: E402
from orchestrator.settings import Settings  # noqa: E402
from workers.environments.environment import Environment  # noqa: E402

RAW_CELERY = textwrap.dedent("""
    import os, redis
    from celery import Celery
    app = Celery("raw", broker=os.environ["REDIS_URL"])
    app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True,
                    worker_prefetch_multiplier=1, task_ignore_result=True,
                    worker_hijack_root_logger=False)
    counter = redis.Redis.from_url(os.environ["REDIS_URL"])

    @app.task(name="noop")
    def noop(reply=None):
        if reply:
            counter.lpush(reply, 1)
        else:
            counter.incr("bench:done")
""")
NOOP_HANDLER = "def handler(event, context):\n    return None\n"


def wait_until(condition, timeout: float = 300) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish")
        time.sleep(0.005)


def raw_celery(url: str, work: Path, tasks: int, workers: int) -> tuple[float, list[float]]:
    (work / "rawapp.py").write_text(RAW_CELERY)
    env = {**os.environ, "REDIS_URL": url, "PYTHONPATH": str(work)}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "rawapp", "worker", "--pool=solo",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"raw{index}@%h"], env=env, cwd=work) for index in range(workers)]
    sys.path.insert(0, str(work))
    os.environ["REDIS_URL"] = url
    import rawapp  # type: ignore[import-not-found]

    client = redis.Redis.from_url(url)
    try:
        time.sleep(3)
        rawapp.noop.apply_async()  # warms the producer connection and the worker
        wait_until(lambda: int(client.get("bench:done") or 0) >= 1)
        client.set("bench:done", 0)
        started = time.perf_counter()
        for _ in range(tasks):
            rawapp.noop.apply_async()
        wait_until(lambda: int(client.get("bench:done") or 0) >= tasks)
        throughput = tasks / (time.perf_counter() - started)
        latencies = []
        for index in range(300):
            reply = f"bench:reply:{index}"
            begun = time.perf_counter()
            rawapp.noop.apply_async(args=[reply])
            client.blpop([reply], timeout=10)
            latencies.append((time.perf_counter() - begun) * 1000)
        return throughput, latencies
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()


def deploy_noop(endpoint: str, work: Path) -> None:
    code = work / "noop"
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text(NOOP_HANDLER)
    (work / "bench.yaml").write_text(
        "functions:\n  noop:\n    handler: app.handler\n    code: ./noop\n")
    subprocess.run([sys.executable, "-m", "orchestrator.cli", "deploy", str(work / "bench.yaml")],
                   env={**os.environ, "RIPPLE_ENDPOINT": endpoint}, check=True, cwd=ROOT)


def invocations(endpoint: str) -> int:
    return int(httpx.get(endpoint + "/_ripple/api/functions/noop").json()["counters"][
        "invocations"])


def cpu_ms(procs: list[psutil.Process], alone: psutil.Process) -> list[float]:
    """CPU time used so far by each process and its children (environments), in ms;
    `alone` is counted without its children (it is the benchmark, parent of them all)."""
    totals = []
    for proc in procs:
        used = 0.0
        members = [proc] if proc == alone else [proc, *proc.children(recursive=True)]
        for member in members:
            try:
                times = member.cpu_times()
                used += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        totals.append(used * 1000)
    return totals


def ripple_direct(endpoint: str, url: str, tasks: int) -> float:
    """Async invocations queued by the dispatcher itself: ripple's worker side alone."""
    from orchestrator.functions.registry import Registry
    from orchestrator.invocations.dispatch import Dispatcher
    from orchestrator.invocations.message import InvocationRequest

    client = redis.Redis.from_url(url)
    function = Registry(client).get("noop")
    assert function is not None
    dispatcher = Dispatcher(client)
    before = invocations(endpoint)
    started = time.perf_counter()
    for _ in range(tasks):
        dispatcher.send(InvocationRequest(function=function))
    wait_until(lambda: invocations(endpoint) - before >= tasks)
    return tasks / (time.perf_counter() - started)


def ripple_async(endpoint: str, tasks: int) -> float:
    def counters() -> int:
        return invocations(endpoint)

    with httpx.Client(base_url=endpoint) as client:  # warm: one env per worker thread
        for _ in range(20):
            client.post("/2015-03-31/functions/noop/invocations", content=b"{}")
    before = counters()
    started = time.perf_counter()
    per_thread = tasks // 4

    def send(_: int) -> None:
        with httpx.Client(base_url=endpoint) as client:
            for _ in range(per_thread):
                client.post("/2015-03-31/functions/noop/invocations", content=b"{}",
                            headers={"X-Amz-Invocation-Type": "Event"})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(4)))
    wait_until(lambda: counters() - before >= per_thread * 4)
    return per_thread * 4 / (time.perf_counter() - started)


def ripple_sync_latency(endpoint: str, count: int) -> list[float]:
    latencies = []
    with httpx.Client(base_url=endpoint) as client:
        for index in range(count + 50):
            begun = time.perf_counter()
            client.post("/2015-03-31/functions/noop/invocations", content=b"{}")
            if index >= 50:
                latencies.append((time.perf_counter() - begun) * 1000)
    return latencies


def cold_starts(work: Path, count: int) -> tuple[list[float], list[float]]:
    function = FunctionConfig(name="noop", handler="app.handler", code_sha256="x")
    ready, bare = [], []
    for index in range(count):
        begun = time.perf_counter()
        env = Environment(function, work / "noop", Settings())
        outcome = env.invoke(f"c{index}", b"{}")
        ready.append(outcome.init_ms or 0.0)
        env.stop()
        begun = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append((time.perf_counter() - begun) * 1000)
    return ready, bare


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--latency", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ripple-bench-"))
    server = EmbeddedRedis(work / "redis")
    url = server.start()
    try:
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        raw_tps, raw_latency = raw_celery(url, work, args.tasks, args.workers)
        procs = start_stack(url, work / "data", 4571, args.workers)
        try:
            endpoint = "http://127.0.0.1:4571"
            deploy_noop(endpoint, work)
            watched = [psutil.Process(proc.pid) for proc in procs]
            watched.append(psutil.Process(server.pid or 0))
            me = psutil.Process()
            watched.append(me)
            cpu_before = cpu_ms(watched, me)
            ripple_tps = ripple_async(endpoint, args.tasks)
            cpu_after = cpu_ms(watched, me)
            per_invocation = [(after - before) / args.tasks
                              for before, after in zip(cpu_before, cpu_after, strict=True)]
            direct_tps = ripple_direct(endpoint, url, args.tasks)
            sync = ripple_sync_latency(endpoint, args.latency)
        finally:
            stop_stack(procs)
        bare = warm_latencies(work / "noop", Settings(), args.latency)
        ready, spawn = cold_starts(work, 20)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n## Throughput (no-op, end to end, {args.workers} workers, {args.tasks} tasks)")
    print(f"raw Celery (solo pool, late acks)  {raw_tps:8.0f} tasks/s")
    print(f"ripple async via Invoke API        {ripple_tps:8.0f} invocations/s")
    print(f"ratio ripple / raw Celery          {ripple_tps / raw_tps:8.2f}   (goal >= 0.8)")
    print(f"ripple async, queued directly      {direct_tps:8.0f} invocations/s   "
          f"(no HTTP: worker side alone, ratio {direct_tps / raw_tps:.2f})")
    endpoint_ms, *rest = per_invocation
    workers_ms, redis_ms, client_ms = sum(rest[:-2]), rest[-2], rest[-1]
    print(f"CPU per invocation (ms): endpoint {endpoint_ms:.2f}, workers + environments "
          f"{workers_ms:.2f}, Redis {redis_ms:.2f}, HTTP client {client_ms:.2f}; total "
          f"{sum(per_invocation):.2f} on {os.cpu_count()} cores")
    print("\n## Warm sync invoke latency (ms)          p50      p99")
    for label, values in (("bare handler call (env direct)", bare),
                          ("raw Celery round trip", raw_latency),
                          ("ripple Invoke API (HTTP)", sync)):
        print(f"{label:38s} {percentile(values, .5):7.2f}  {percentile(values, .99):7.2f}")
    ratio = statistics.median(sync) / statistics.median(raw_latency)
    overhead = percentile(sync, .5) - percentile(bare, .5)
    print(f"ratio ripple / raw Celery p50          {ratio:7.2f}")
    print(f"ripple overhead over bare call p50     {overhead:7.2f} ms"
          "   (goal p50 <= 3 ms, p99 <= 10 ms)")
    print("\n## Cold start (ms)                        p50      max")
    print(f"python -c pass (bare spawn)            {percentile(spawn, .5):7.1f}  {max(spawn):7.1f}")
    print(f"spawn to handler ready (Init Duration) {percentile(ready, .5):7.1f}  {max(ready):7.1f}"
          "   (goal <= 200 ms)")


if __name__ == "__main__":
    threading.excepthook = lambda hook: None  # quiet shutdown of client threads
    main()
