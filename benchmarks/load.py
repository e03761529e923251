"""Issue 11's load figures, each against a baseline in the same run.

1. The generator's ceiling: `ripple load`'s sending processes (samples, trace headers,
   templates) against a no-op HTTP target, vs a bare keep-alive `http.client` loop in the same
   number of processes and threads (the floor for a Python client) and vs `httpx.Client`.
2. Fan-out 1 -> 1,000: one event whose handler invokes a no-op 1,000 times (async, boto3), from
   the event's send to the last invocation's end, vs the same 1,000 invocations sent directly
   by `ripple load` (first send to last end), on one ripple with 2 workers.

Run: python benchmarks/load.py [--fanout 1000] [--seconds 3]. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import start_stack, stop_stack  # noqa: E402
from orchestrator.cli.load import execute  # noqa: E402
from orchestrator.load.ceiling import NoOpServer, measure  # noqa: E402
from orchestrator.load.collect import Stack  # noqa: E402
from orchestrator.load.generator import Plan  # noqa: E402
from orchestrator.process.redis_server import EmbeddedRedis  # noqa: E402

FAN = """
import json, os
import boto3

client = boto3.client("lambda")

def handler(event, context):
    for index in range(int(event["count"])):
        client.invoke(FunctionName="leaf", InvocationType="Event", Payload=b"{}")
"""
LEAF = "def handler(event, context):\n    return None\n"
PATH = "/2015-03-31/functions/noop/invocations"


def bare_loop(url: str, threads: int, seconds: float, use_httpx: bool,
              counts: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    host, port = url.split("//")[1].split(":")
    stop, total, lock = time.time() + seconds, [0], threading.Lock()

    def run() -> None:
        sent = 0
        if use_httpx:
            with httpx.Client(base_url=url, trust_env=False) as client:
                while time.time() < stop:
                    client.post(PATH, content=b"{}", headers={"X-Amz-Invocation-Type": "Event"})
                    sent += 1
        else:
            connection = http.client.HTTPConnection(host, int(port))
            while time.time() < stop:
                connection.request("POST", PATH, body=b"{}",
                                   headers={"X-Amz-Invocation-Type": "Event"})
                connection.getresponse().read()
                sent += 1
        with lock:
            total[0] += sent

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    counts.put(total[0])


def bare(processes: int, concurrency: int, seconds: float, use_httpx: bool) -> float:
    context = multiprocessing.get_context("spawn")
    counts = context.Queue()
    with NoOpServer() as url:
        procs = [context.Process(target=bare_loop, args=(url, concurrency // processes, seconds,
                                                         use_httpx, counts))
                 for _ in range(processes)]
        for proc in procs:
            proc.start()
        total = sum(counts.get(timeout=seconds + 60) for _ in procs)
        for proc in procs:
            proc.join()
    return total / seconds


def fan_out(endpoint: str, count: int) -> tuple[float, float, int, int]:
    """ms from send to the last leaf's end: through one fan-out event, and sent directly."""
    stack = Stack(endpoint)
    payload = f'{{"count": {count}}}'
    warm = Plan(target="invoke:fan", endpoint=endpoint, payload='{"count": 8}', rate="1",
                count=1, processes=1)
    execute(warm, stack, 120, quiet=True)
    through = execute(Plan(target="invoke:fan", endpoint=endpoint, payload=payload, rate="1",
                           count=1, processes=1), stack, 300, quiet=True).summary()
    direct = execute(Plan(target="invoke:leaf", endpoint=endpoint, payload="{}", rate="5000",
                          count=count, processes=2), stack, 300, quiet=True).summary()
    leaves = through["per_function"].get("leaf", {}).get("invocations", 0)
    return through["chain_ms"]["max"], direct["duration_s"] * 1000, leaves, direct["succeeded"]


def deploy(endpoint: str, work: Path) -> None:
    for name, source in (("fan", FAN), ("leaf", LEAF)):
        (work / name).mkdir(exist_ok=True)
        (work / name / "app.py").write_text(source)
    (work / "load.yaml").write_text(
        "functions:\n  fan: {handler: app.handler, code: ./fan, timeout: 300}\n"
        "  leaf: {handler: app.handler, code: ./leaf}\n")
    subprocess.run([sys.executable, "-m", "orchestrator.cli", "deploy", str(work / "load.yaml")],
                   env={**os.environ, "RIPPLE_ENDPOINT": endpoint}, check=True, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fanout", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    p, c, s = args.processes, args.concurrency, args.seconds
    ours = measure(p, c, s)["requests_per_s"]
    floor = bare(p, c, s, use_httpx=False)
    with_httpx = bare(p, c, s, use_httpx=True)
    work = Path(tempfile.mkdtemp(prefix="ripple-load-"))
    server = EmbeddedRedis(work / "redis")
    url = server.start()
    try:
        procs = start_stack(url, work / "data", 4573, 2)
        try:
            endpoint = "http://127.0.0.1:4573"
            deploy(endpoint, work)
            through, direct, leaves, sent = fan_out(endpoint, args.fanout)
        finally:
            stop_stack(procs)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n## Generator ceiling (no-op target, {p} processes, {c} in flight, {s:.0f} s)")
    print(f"bare http.client keep-alive loop      {floor:9,.0f} requests/s")
    print(f"ripple load generator                 {ours:9,.0f} requests/s   "
          f"(ratio {ours / floor:.2f})")
    print(f"bare httpx.Client loop                {with_httpx:9,.0f} requests/s   "
          f"(ratio {with_httpx / floor:.2f})")
    print(f"\n## Fan-out 1 -> {args.fanout:,} (2 workers, no-op leaves)")
    print(f"sent directly by ripple load          {direct:9,.0f} ms to the last end "
          f"({sent:,} succeeded)")
    print(f"one event fanning out (boto3 invokes)  {through:9,.0f} ms to the last end "
          f"({leaves:,} leaves)   (ratio {through / direct:.2f})")


if __name__ == "__main__":
    main()
