"""`ripple up`: Redis (embedded unless REDIS_URL is set), the endpoint (with the API Gateway
stage alongside it) and workers, supervised. The embedded Redis is supervised like every other
child: if it dies it is started again on its port from its AOF, and its clients (the endpoint,
the workers) reconnect by themselves; meanwhile the endpoint answers AWS-shaped 503s."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from redis import Redis
from redis.exceptions import RedisError

from orchestrator.errors import RippleError
from orchestrator.process.autoscaler import Policy
from orchestrator.process.chaos import write_pid
from orchestrator.process.redis_server import EmbeddedRedis
from orchestrator.process.scaling import Autoscaler, publish_state
from orchestrator.process.supervisor import ChildSpec, Supervisor
from orchestrator.settings import Settings

log = logging.getLogger("ripple.up")
HEALTH_TIMEOUT_SECONDS = 60
REDIS_WATCH_SECONDS = 0.2


class StackError(RippleError):
    """The stack did not come up."""


@dataclass(frozen=True)
class WorkerBounds:
    """`--workers`: a fixed count (min == max, not scaled) or `auto[:MIN-MAX]`."""

    min: int
    max: int
    auto: bool = False


def worker_bounds(value: str) -> WorkerBounds:
    """`N`, `auto` (1 to one per core) or `auto:MIN-MAX`."""
    text = value.strip().lower()
    if text == "auto" or text.startswith("auto:"):
        low, high = (1, max(1, os.cpu_count() or 1)) if text == "auto" else _range(text[5:])
        return WorkerBounds(low, high, auto=True)
    try:
        count = int(text)
    except ValueError:
        raise StackError(f"--workers {value!r}: expected a number, auto or auto:MIN-MAX "
                         "(e.g. auto:1-4)") from None
    if count < 1:
        raise StackError("--workers must be at least 1 (or auto)")
    return WorkerBounds(count, count)


def _range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        bounds = int(low), int(high)
    except ValueError:
        raise StackError(f"--workers auto:{text}: expected auto:MIN-MAX, e.g. auto:1-4") from None
    if not 1 <= bounds[0] <= bounds[1]:
        raise StackError(f"--workers auto:{text}: need 1 <= MIN <= MAX")
    return bounds


class Stack:
    def __init__(self, settings: Settings, workers: int | WorkerBounds = 1,
                 log_dir: Path | None = None) -> None:
        self.settings = settings
        self.bounds = workers if isinstance(workers, WorkerBounds) else \
            WorkerBounds(workers, workers)
        self.workers = self.bounds.min
        self.log_dir = log_dir
        self.autoscaler: Autoscaler | None = None
        self._redis: Redis | None = None
        self._env: dict[str, str] = {}
        self._worker_names: list[str] = []
        self._next_worker = 1
        self.redis: EmbeddedRedis | None = None
        self.supervisor = Supervisor()
        self.redis_url = settings.redis_url
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None
        self.redis_restarts = 0

    @property
    def endpoint(self) -> str:
        return f"http://{_client_host(self.settings.host)}:{self.settings.port}"

    def start(self) -> None:
        data_dir = self.settings.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        write_pid(data_dir)  # how `ripple chaos` finds this stack
        if not self.redis_url:
            self.redis = EmbeddedRedis(data_dir, self.settings.redis_port)
            self.redis_url = self.redis.start()
        env = {
            **os.environ,
            "REDIS_URL": self.redis_url,
            "RIPPLE_DATA_DIR": str(data_dir),
            "RIPPLE_ENDPOINT": self.endpoint,
            "RIPPLE_CLOCK_SPEED": str(self.settings.clock_speed),
            "RIPPLE_ACCOUNT_CONCURRENCY": str(self.settings.account_concurrency),
        }
        python = sys.executable
        self.supervisor.add(ChildSpec(
            "endpoint",
            [python, "-m", "orchestrator.endpoint.app", "--host", self.settings.host,
             "--port", str(self.settings.port), "--api-port", str(self.settings.api_port)],
            env=env, log_path=self._log("endpoint")))
        self._env = env
        for _ in range(self.workers):
            self._add_worker_spec()
        self.supervisor.start()
        self._watch = threading.Thread(target=self._supervise, name="ripple-supervisor",
                                       daemon=True)
        self._watch.start()
        self._redis = Redis.from_url(self.redis_url)
        if self.bounds.auto:
            self.autoscaler = Autoscaler(self, self._redis, self._policy())
            self.autoscaler.start()
        else:  # `GET /_ripple/api/scaling` says what a fixed stack runs too
            try:
                publish_state(self._redis, self.workers, self.bounds.min, self.bounds.max)
            except RedisError:
                log.warning("could not record the worker count in Redis", exc_info=True)

    def _policy(self) -> Policy:
        settings = self.settings
        return Policy(min_workers=self.bounds.min, max_workers=self.bounds.max,
                      slots_per_worker=settings.worker_concurrency,
                      queue_per_worker=settings.scale_up_queue_per_worker,
                      age_seconds=settings.scale_up_age_seconds,
                      up_after_seconds=settings.scale_up_after_seconds,
                      idle_seconds=settings.scale_down_idle_seconds,
                      account_concurrency=settings.account_concurrency)

    def _add_worker_spec(self) -> None:
        name = f"worker-{self._next_worker}"
        self._next_worker += 1
        self.supervisor.add(ChildSpec(
            name, [sys.executable, "-m", "orchestrator.cli", "worker",
                   "--concurrency", str(self.settings.worker_concurrency)],
            env=self._env, log_path=self._log(name)))
        self._worker_names.append(name)

    def add_worker(self) -> None:
        """One more worker process (started at once: the stack is running)."""
        self._add_worker_spec()
        self.workers += 1

    def remove_worker(self) -> None:
        """Retire the newest worker with a warm shutdown: it finishes what it holds first."""
        name = self._worker_names.pop()
        self.supervisor.retire(name, self.settings.worker_drain_seconds)
        self.workers -= 1

    def _supervise(self) -> None:
        redis_watch = threading.Thread(target=self._watch_redis, name="ripple-redis-watch",
                                       daemon=True)
        redis_watch.start()
        self.supervisor.run_forever(self._stop)

    def _watch_redis(self) -> None:
        """Start the embedded Redis again whenever it dies (same port, same password, its AOF)."""
        while self.redis is not None and not self._stop.wait(REDIS_WATCH_SECONDS):
            if self.redis.alive():
                continue
            log.warning("the embedded Redis exited (code %s); starting it again from its AOF",
                        self.redis.process.returncode if self.redis.process else None)
            try:
                self.redis.start()
                self.redis_restarts += 1
            except RippleError:
                log.exception("could not restart the embedded Redis; trying again")
                self._stop.wait(1.0)

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"{self.endpoint}/_ripple/health", timeout=2)
                if answer.status_code == 200:
                    return
                last = answer.text
            except httpx.HTTPError as error:
                last = str(error)
            time.sleep(0.1)
        raise StackError(f"ripple did not become healthy within {timeout:.0f} s ({last}); "
                         f"see the logs under {self.log_dir or 'the terminal'}")

    def wait(self) -> None:
        """Block until Ctrl-C, SIGTERM, or stop() from another thread."""
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass

    def stop(self) -> None:
        self._stop.set()  # before Redis stops: the watch must not start it again
        if self.autoscaler is not None:
            self.autoscaler.stop()
            self.autoscaler.join(timeout=5)
        if self._redis is not None:
            self._redis.close()
        if self._watch is not None:
            self._watch.join(timeout=5)
        self.supervisor.stop()
        if self.redis is not None:
            self.redis.stop()

    def _log(self, name: str) -> Path | None:
        return self.log_dir / f"{name}.log" if self.log_dir else None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
