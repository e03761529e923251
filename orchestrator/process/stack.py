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
from pathlib import Path

import httpx

from orchestrator.errors import RippleError
from orchestrator.process.chaos import write_pid
from orchestrator.process.redis_server import EmbeddedRedis
from orchestrator.process.supervisor import ChildSpec, Supervisor
from orchestrator.settings import Settings

log = logging.getLogger("ripple.up")
HEALTH_TIMEOUT_SECONDS = 60
REDIS_WATCH_SECONDS = 0.2


class StackError(RippleError):
    """The stack did not come up."""


def worker_count(value: str) -> int:
    if value == "auto":
        return os.cpu_count() or 1
    count = int(value)
    if count < 1:
        raise ValueError("--workers must be at least 1 (or auto)")
    return count


class Stack:
    def __init__(self, settings: Settings, workers: int = 1, log_dir: Path | None = None) -> None:
        self.settings = settings
        self.workers = workers
        self.log_dir = log_dir
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
            self.redis = EmbeddedRedis(data_dir)
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
        for index in range(1, self.workers + 1):
            self.supervisor.add(ChildSpec(
                f"worker-{index}",
                [python, "-m", "orchestrator.cli", "worker",
                 "--concurrency", str(self.settings.worker_concurrency)],
                env=env, log_path=self._log(f"worker-{index}")))
        self.supervisor.start()
        self._watch = threading.Thread(target=self._supervise, name="ripple-supervisor",
                                       daemon=True)
        self._watch.start()

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
