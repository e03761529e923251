"""Issue 11's scaling curve: throughput vs worker processes (1, 2, 4) for a CPU-bound and an
I/O-bound handler, ripple against raw Celery on the same Redis in the same run.

Both sides get the same shape: N worker processes of 4 slots (ripple's threads pool with 4
slots; raw Celery `--pool=threads --concurrency=4`), late acks, prefetch 1, and the tasks queued
by this process straight onto Redis (ripple's Dispatcher, Celery's apply_async), timed from the
first send to the last completion. The handlers: `cpu` spins ~20 ms of pure Python, `io` sleeps
50 ms. Loopback only; a few thousand tasks; about two minutes.

Run: python benchmarks/scaling.py [--workers 1,2,4] [--cpu-tasks 200] [--io-tasks 800].
Not a test: it prints figures (this machine's 2 cores are shared: compare within one run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import start_stack, stop_stack  # noqa: E402
from orchestrator.process.redis_server import EmbeddedRedis  # noqa: E402

SLOTS = 4
SPIN = 500_000  # ~20 ms of CPU for one Python thread here
HANDLERS = {
    "cpu": f"def handler(event, context):\n    return sum(i * i for i in range({SPIN}))\n",
    "io": "import time\n\ndef handler(event, context):\n    time.sleep(0.05)\n",
}
RAW_CELERY = textwrap.dedent(f"""
    import os, time, redis
    from celery import Celery
    app = Celery("rawscale", broker=os.environ["REDIS_URL"])
    app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True,
                    worker_prefetch_multiplier=1, task_ignore_result=True,
                    worker_hijack_root_logger=False)
    done = redis.Redis.from_url(os.environ["REDIS_URL"])

    @app.task(name="cpu")
    def cpu():
        sum(i * i for i in range({SPIN}))
        done.incr("bench:done:cpu")

    @app.task(name="io")
    def io():
        time.sleep(0.05)
        done.incr("bench:done:io")
""")


def wait_until(condition: Callable[[], bool], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish")
        time.sleep(0.005)


def raw_celery(url: str, work: Path, workers: int, tasks: dict[str, int]) -> dict[str, float]:
    (work / "rawscale.py").write_text(RAW_CELERY)
    env = {**os.environ, "REDIS_URL": url, "PYTHONPATH": str(work)}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "rawscale", "worker", "--pool=threads",
         f"--concurrency={SLOTS}", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-n", f"raw{index}@%h"], env=env, cwd=work,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for index in range(workers)]
    sys.path.insert(0, str(work))
    os.environ["REDIS_URL"] = url
    import rawscale  # type: ignore[import-not-found]

    client = redis.Redis.from_url(url)
    try:
        results = {}
        for kind, count in tasks.items():
            task, key = getattr(rawscale, kind), f"bench:done:{kind}"
            client.set(key, 0)
            for _ in range(workers * SLOTS):  # every worker up and warm
                task.apply_async()
            wait_until(lambda: int(client.get(key) or 0) >= workers * SLOTS)  # noqa: B023
            client.set(key, 0)
            started = time.perf_counter()
            for _ in range(count):
                task.apply_async()
            wait_until(lambda: int(client.get(key) or 0) >= count)  # noqa: B023
            results[kind] = count / (time.perf_counter() - started)
        return results
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()


def deploy(endpoint: str, work: Path) -> None:
    spec = "functions:\n"
    for kind, source in HANDLERS.items():
        (work / kind).mkdir(exist_ok=True)
        (work / kind / "app.py").write_text(source)
        spec += f"  {kind}: {{handler: app.handler, code: ./{kind}, timeout: 60}}\n"
    (work / "scaling.yaml").write_text(spec)
    subprocess.run([sys.executable, "-m", "orchestrator.cli", "deploy", str(work / "scaling.yaml")],
                   env={**os.environ, "RIPPLE_ENDPOINT": endpoint}, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def ripple(url: str, work: Path, port: int, workers: int,
           tasks: dict[str, int]) -> dict[str, float]:
    from orchestrator.functions.registry import Registry
    from orchestrator.invocations.dispatch import Dispatcher
    from orchestrator.invocations.message import InvocationRequest

    endpoint = f"http://127.0.0.1:{port}"
    procs = start_stack(url, work / f"data{workers}", port, workers,
                        env={"RIPPLE_WORKER_CONCURRENCY": str(SLOTS)})
    client = redis.Redis.from_url(url)
    try:
        deploy(endpoint, work)
        wait_until(lambda: len(httpx.get(endpoint + "/_ripple/api/status").json()["workers"])
                   >= workers)
        dispatcher, registry = Dispatcher(client), Registry(client)
        results = {}
        for kind, count in tasks.items():
            function = registry.get(kind)
            assert function is not None

            def done() -> int:
                return int(client.hget(f"ripple:counters:{kind}", "invocations") or 0)  # noqa: B023

            before = done()
            for _ in range(workers * SLOTS * 2):  # environments started: no cold start timed
                dispatcher.send(InvocationRequest(function=function))  # noqa: B023
            wait_until(lambda: done() - before >= workers * SLOTS * 2)  # noqa: B023
            before = done()
            started = time.perf_counter()
            for _ in range(count):
                dispatcher.send(InvocationRequest(function=function))  # noqa: B023
            wait_until(lambda: done() - before >= count)  # noqa: B023
            results[kind] = count / (time.perf_counter() - started)
        return results
    finally:
        stop_stack(procs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--cpu-tasks", type=int, default=200)
    parser.add_argument("--io-tasks", type=int, default=800)
    args = parser.parse_args()
    counts = [int(count) for count in args.workers.split(",")]
    tasks = {"cpu": args.cpu_tasks, "io": args.io_tasks}
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        server = EmbeddedRedis(work / "redis")
        url = server.start()
        try:
            rows = []
            for index, workers in enumerate(counts):
                raw = raw_celery(url, work, workers, tasks)
                ours = ripple(url, work, 45_000 + index, workers, tasks)
                rows.append((workers, ours, raw))
                print(f"{workers} worker(s): cpu ripple {ours['cpu']:.0f}/s raw {raw['cpu']:.0f}/s"
                      f" | io ripple {ours['io']:.0f}/s raw {raw['io']:.0f}/s "
                      f"(ideal {workers * SLOTS / 0.05:.0f}/s)", flush=True)
        finally:
            server.stop()
    print(f"\nos.cpu_count() = {os.cpu_count()}; {SLOTS} slots per worker; tasks {tasks}")
    print("| workers | cpu: ripple | cpu: raw Celery | ratio | io: ripple | io: raw Celery "
          "| ratio | io ideal |")
    print("|---|---|---|---|---|---|---|---|")
    for workers, ours, raw in rows:
        print(f"| {workers} | {ours['cpu']:.0f}/s | {raw['cpu']:.0f}/s | "
              f"{ours['cpu'] / raw['cpu']:.2f} | {ours['io']:.0f}/s | {raw['io']:.0f}/s | "
              f"{ours['io'] / raw['io']:.2f} | {workers * SLOTS / 0.05:.0f}/s |")


if __name__ == "__main__":
    main()
