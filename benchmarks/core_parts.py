"""The two sides `benchmarks/core.py` runs on one Redis: raw Celery and a ripple stack."""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import psutil
import redis

from benchmarks.harness import ROOT, cpu_seconds, percentile
from orchestrator import keys

__all__ = ["RawCelery", "Stack", "deploy_noop", "percentile", "spread", "wait_until"]

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
NOOP = "def handler(event, context):\n    return None\n"


def spread(values: list[float], digits: int = 0) -> str:
    """The median, and the range in brackets."""
    form = f"{{:,.{digits}f}}"
    return (f"{form.format(statistics.median(values))} "
            f"[{form.format(min(values))}-{form.format(max(values))}]")


def wait_until(condition: Callable[[], object], timeout: float = 600) -> None:
    """Poll `condition` every 5 ms until it holds; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish")
        time.sleep(0.005)


class RawCelery:
    """The baseline: a no-op Celery task, solo pool, late acks, prefetch 1."""

    def __init__(self, url: str, work: Path) -> None:
        self.url = url
        self.work = work
        (work / "rawapp.py").write_text(RAW_CELERY)
        sys.path.insert(0, str(work))
        os.environ["REDIS_URL"] = url
        import rawapp  # type: ignore[import-not-found]

        self.app = rawapp
        self.client = redis.Redis.from_url(url)

    def _workers(self, count: int) -> list[subprocess.Popen[bytes]]:
        env = {**os.environ, "REDIS_URL": self.url, "PYTHONPATH": str(self.work)}
        return [subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "rawapp", "worker", "--pool=solo",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", f"raw{index}-{time.monotonic_ns()}@%h"],
            env=env, cwd=self.work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for index in range(count)]

    def _done(self) -> int:
        return int(self.client.get("bench:done") or 0)  # type: ignore[arg-type]

    def drain(self, tasks: int, workers: int) -> float:
        """Tasks/s of `workers` workers draining `tasks` queued before they started."""
        self.client.set("bench:done", 0)
        for _ in range(tasks):
            self.app.noop.apply_async()
        procs = self._workers(workers)
        try:
            wait_until(lambda: self._done() >= tasks // 20)
            first, begun = self._done(), time.perf_counter()
            wait_until(lambda: self._done() >= tasks)
            return (tasks - first) / (time.perf_counter() - begun)
        finally:
            _stop(procs)

    def end_to_end(self, tasks: int, workers: int) -> float:
        """Tasks/s from the first `apply_async` to the last task done, workers warm."""
        procs = self._workers(workers)
        try:
            self.client.set("bench:done", 0)
            self.app.noop.apply_async()
            wait_until(lambda: self._done() >= 1)
            self.client.set("bench:done", 0)
            begun = time.perf_counter()
            for _ in range(tasks):
                self.app.noop.apply_async()
            wait_until(lambda: self._done() >= tasks)
            return tasks / (time.perf_counter() - begun)
        finally:
            _stop(procs)

    def round_trips(self, count: int) -> list[float]:
        """Milliseconds of `count` sequential send-and-wait-for-the-reply no-ops."""
        procs = self._workers(2)
        try:
            latencies = []
            for index in range(count + 100):
                reply = f"bench:reply:{index}"
                begun = time.perf_counter()
                self.app.noop.apply_async(args=[reply])
                self.client.blpop([reply], timeout=30)
                if index >= 100:
                    latencies.append((time.perf_counter() - begun) * 1000)
            return latencies
        finally:
            _stop(procs)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Stack:
    """ripple's endpoint (with its stage) and `workers` workers on Redis `url`, emptied first."""

    count = 0

    def __init__(self, url: str, work: Path, workers: int, tracing: bool = True,
                 sampler: str | None = None) -> None:
        Stack.count += 1
        self.url = url
        self.client = redis.Redis.from_url(url)
        self.port, self.api_port = _free_port(), _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "REDIS_URL": url, "RIPPLE_ENDPOINT": self.endpoint,
                    "RIPPLE_DATA_DIR": str(work / f"stack{Stack.count}"),
                    "RIPPLE_API_PORT": str(self.api_port),
                    # never a user's 4317 and 2000: the receivers a running `ripple up` holds
                    "RIPPLE_OTLP_GRPC_PORT": str(_free_port()),
                    "RIPPLE_XRAY_DAEMON_PORT": str(_free_port())}
        if not tracing:
            self.env["OTEL_SDK_DISABLED"] = "true"
        if sampler is not None:  # instead of ripple's default (`ripple load` leaves it to them)
            self.env["OTEL_TRACES_SAMPLER"] = sampler
        self.initial_workers = workers
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Stack:
        self.client.flushdb()
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "orchestrator.endpoint.app", "--port", str(self.port)],
            env=self.env, cwd=ROOT))
        try:
            wait_until(self._serving, timeout=60)
        except BaseException:
            _stop(self.procs)
            raise
        self.add_workers(self.initial_workers)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        _stop(self.procs[1:])  # the workers first: they send their last spans to the endpoint
        _stop(self.procs[:1])

    def _serving(self) -> bool:
        """The endpoint answers and reaches Redis (workers may not have started yet)."""
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            connection.request("GET", "/_ripple/health")
            health = json.loads(connection.getresponse().read())
            return bool(health.get("endpoint") == health.get("redis") == "ok")
        except (OSError, ValueError):
            return False

    def add_workers(self, count: int) -> None:
        self.procs += [subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "worker"],
                                        env=self.env, cwd=ROOT) for _ in range(count)]

    def invocations(self) -> int:
        return int(self.client.hget(keys.counters("noop"), "invocations") or 0)  # type: ignore[arg-type]

    def warm(self, count: int = 40) -> None:
        """Invoke the no-op until every worker has a warm environment for it, and, with
        tracing on, until those invocations' spans are stored: the workers' batchers, the
        receiver and the span writer process have started (one-time costs, as cold starts
        are, which a short round would otherwise count against tracing)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        for _ in range(count):
            connection.request("POST", "/2015-03-31/functions/noop/invocations", body=b"{}")
            connection.getresponse().read()
        connection.close()
        self.settle()

    def settle(self) -> int:
        """With tracing on, wait until the spans of what ran so far are stored (the workers
        export every 0.5 s; a read of the trace routes waits for the span writer), and
        answer how many spans are stored (0 with tracing off)."""
        if self.env.get("OTEL_SDK_DISABLED") == "true":
            return 0
        time.sleep(0.7)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        connection.request("GET", "/_ripple/api/tracing")
        figures = json.loads(connection.getresponse().read())
        connection.close()
        return int(figures["spans"])

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far: endpoint, workers, their environments, Redis."""
        return {**cpu_seconds(self.procs), "redis": self.redis_cpu()}

    def redis_cpu(self) -> float:
        """The Redis server's CPU seconds so far (every stack on it counts)."""
        times = psutil.Process(int(self.client.info("server")["process_id"])).cpu_times()
        return float(times.user + times.system)


def deploy_noop(endpoint: str, work: Path, route: bool = False) -> None:
    """The no-op function `noop` (with `GET /noop` on the stage when `route`)."""
    code = work / "noop"
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text(NOOP)
    events = "\n    events:\n      - http: {method: GET, path: /noop}" if route else ""
    (work / "bench.yaml").write_text(
        f"functions:\n  noop:\n    handler: app.handler\n    code: ./noop{events}\n")
    subprocess.run([sys.executable, "-m", "orchestrator.cli", "deploy", str(work / "bench.yaml")],
                   env={**os.environ, "RIPPLE_ENDPOINT": endpoint}, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
