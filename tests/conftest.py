"""Shared fixtures: a real ripple (embedded Redis, endpoint, Celery workers) for the session."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import httpx
import pytest
import yaml
from botocore.config import Config
from redis import Redis

from orchestrator.process.redis_server import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[1]
# Lambda's timers run 600x faster: the 1 and 2 minute retry delays take 0.1 and 0.2 s.
CLOCK_SPEED = "600"


@pytest.fixture(autouse=True)
def _close_aws_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every boto3 client a test makes is closed after it: its pooled sockets would otherwise be
    left to the garbage collector, a ResourceWarning (an error here) in some later test."""
    made: list[Any] = []
    create = botocore.session.Session.create_client

    def create_and_keep(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        made.append(create(self, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(botocore.session.Session, "create_client", create_and_keep)
    yield
    for client in made:
        client.close()


def free_port() -> int:
    """A port nothing listens on, below Linux's ephemeral range (32768-60999), where the
    outgoing connections of a busy test run would otherwise take it before a server binds."""
    for _ in range(100):
        port = random.randrange(20000, 32768)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # a crowded range: any free port
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any ripple or Redis settings, plus `extra`."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("RIPPLE_") and key != "REDIS_URL"}
    env.update(extra)
    return env


@dataclass
class Ripple:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    stage_url: str = ""  # the API Gateway stage ("" when started with --api-port 0)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = httpx.request(method, self.url + path, timeout=30, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def counters(self, name: str) -> dict[str, int]:
        function = self.api("GET", f"/_ripple/api/functions/{name}")
        return function["counters"]  # type: ignore[no-any-return]

    def logs(self, name: str) -> str:
        page = self.api("GET", f"/_ripple/api/functions/{name}/logs", params={"limit": 1000})
        return "".join(entry["text"] for entry in page["entries"])

    def deploy_one(self, name: str, source: str, folder: Path, **config: object) -> None:
        """Deploy one function (`app.handler` in `source`) from a spec under `folder`, with the
        `ripple deploy` a user runs."""
        code = folder / name
        code.mkdir(parents=True)
        (code / "app.py").write_text(source)
        extra = "".join(f", {key}: {value}" for key, value in config.items())
        spec = folder / f"{name}.yaml"
        spec.write_text(f"functions:\n  {name}: {{handler: app.handler, code: ./{name}{extra}}}\n")
        deployed = self.cli("deploy", str(spec))
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    def cli(self, *args: str, check: bool = False,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = clean_environment(RIPPLE_ENDPOINT=self.url)
        return subprocess.run([sys.executable, "-m", "orchestrator.cli", *args], env=env,
                              capture_output=True, text=True, timeout=timeout, check=check)


def start_ripple(data_dir: Path, *args: str, **env: str) -> Ripple:
    """`ripple up` on ports of its own, healthy; tried again (on other ports) when one it
    was given turned out to be taken by the time it bound."""
    for attempt in range(3):
        try:
            return _start_ripple(data_dir, *args, **env)
        except PortTaken:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class PortTaken(RuntimeError):
    """`ripple up` exited because a port it was told to use was taken meanwhile."""


def _start_ripple(data_dir: Path, *args: str, **env: str) -> Ripple:
    port = free_port()
    log = data_dir / "up.log"
    if "--api-port" not in args:  # never the default 3000: stacks run side by side
        args = (*args, "--api-port", str(free_port()))
    api_port = args[args.index("--api-port") + 1]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli", "up", "--port", str(port),
             "--data-dir", str(data_dir), *args],
            env=clean_environment(**{"RIPPLE_CLOCK_SPEED": CLOCK_SPEED,
                                     # the tests look for the traces they caused, in bursts
                                     # beyond the default sampler's reservoir; its own tests
                                     # pass OTEL_TRACES_SAMPLER="" (tests/tracing/test_sampling)
                                     "OTEL_TRACES_SAMPLER": "always_on",
                                     # never 4317 and 2000: stacks run side by side
                                     "RIPPLE_OTLP_GRPC_PORT": str(free_port()),
                                     "RIPPLE_XRAY_DAEMON_PORT": str(free_port()), **env}),
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
    ripple = Ripple(f"http://127.0.0.1:{port}", data_dir, process, log,
                    f"http://127.0.0.1:{api_port}" if api_port != "0" else "")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            printed = log.read_text()
            error = PortTaken if "address already in use" in printed else RuntimeError
            raise error(f"ripple up exited {process.returncode}:\n{printed}")
        try:
            if httpx.get(ripple.url + "/_ripple/health", timeout=2).status_code == 200:
                return ripple
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_ripple(ripple)
    raise RuntimeError(f"ripple did not become healthy:\n{log.read_text()}")


def stop_ripple(ripple: Ripple) -> None:
    if ripple.process.poll() is None:
        ripple.process.send_signal(signal.SIGINT)
        try:
            ripple.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(ripple.process.pid, signal.SIGKILL)
            ripple.process.wait()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    """A client on an embedded Redis of this test's own (no ripple running on it)."""
    server = EmbeddedRedis(tmp_path)
    client = Redis.from_url(server.start())
    yield client
    client.close()
    server.stop()


@pytest.fixture(scope="session")
def ripple(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ripple]:
    stack = start_ripple(tmp_path_factory.mktemp("ripple"), "--workers", "2", "--concurrency", "4")
    yield stack
    stop_ripple(stack)


@pytest.fixture
def lambda_client(ripple: Ripple) -> Any:
    return boto3.client(
        "lambda", endpoint_url=ripple.url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120),
    )


Deploy = Callable[..., str]


@pytest.fixture
def deploy(ripple: Ripple, tmp_path: Path) -> Deploy:
    """Deploy one inline handler (`source` is app.py) under a unique name; returns the name."""

    def _deploy(source: str, name: str | None = None, others: dict[str, str] | None = None,
                resources: dict[str, Any] | None = None, **config: Any) -> str:
        """`others`: more functions (name -> source); `resources`: `buckets:`/`tables:`."""
        name = name or f"fn-{uuid.uuid4().hex[:8]}"
        functions: dict[str, Any] = {}
        extra = [(other, code, {}) for other, code in (others or {}).items()]
        for function, code, settings in [(name, source, config), *extra]:
            folder = tmp_path / function
            folder.mkdir(exist_ok=True)
            (folder / "app.py").write_text(textwrap.dedent(code))
            functions[function] = {"handler": "app.handler", "code": f"./{function}", **settings}
        spec_path = tmp_path / f"{name}.yaml"
        spec_path.write_text(yaml.safe_dump({"functions": functions, **(resources or {})}))
        result = ripple.cli("deploy", str(spec_path))
        assert result.returncode == 0, result.stderr
        return name

    return _deploy


def wait_for(condition: Callable[[], Any], timeout: float = 30, interval: float = 0.05) -> Any:
    """Poll until `condition()` is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")
