"""How an execution environment's process starts: forked from this worker's template
environment (a zygote that has imported awslambdaric, boto3 and OpenTelemetry already), or
spawned with `python -m awslambdaric` when the template is off, cannot start, or the function
ships its own copy of a package the template preloaded.

A forked environment is the template's child, not the worker's: the worker watches it through
a pidfd and asks the template for its exit status once the pidfd says it has exited.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from orchestrator.errors import RippleError

log = logging.getLogger("ripple.worker")
ROOT = Path(__file__).resolve().parents[2]  # the repository: `-m workers...` from there
TEMPLATE_MODULE = "workers.sandbox.zygote"
START_TIMEOUT_SECONDS = 20.0
REPLY_TIMEOUT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 30.0  # after the template failed to start, before trying again
_MAX_MESSAGE = 1 << 16


class TemplateError(RippleError):
    """The template environment could not start or answer; environments fall back to Popen."""


class SandboxProcess(Protocol):
    """The process of one execution environment, however it was started."""

    pid: int
    stdout: int  # the read end of its stdout and stderr
    exits_on_request: bool  # whether request_exit makes it flush and exit by itself

    def poll(self) -> int | None:
        """Its exit code (negative: the signal that killed it), None while it runs."""

    def wait(self, timeout: float) -> int | None:
        """Like poll, after waiting up to `timeout` seconds for it to exit."""

    def request_exit(self) -> None:
        """Ask it to flush its telemetry and exit (an idle environment's clean stop)."""

    def close(self) -> None:
        """Release what the worker holds for it, once it has exited."""


class PopenProcess:
    """`python -S -m awslambdaric <handler>`, the worker's own child: without `site`, its
    sys.path is the code directory, the sandbox's PYTHONPATH (the runtime's packages) and the
    standard library, not the worker's virtualenv."""

    def __init__(self, handler: str, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-m", "awslambdaric", handler], cwd=cwd, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        assert self.process.stdout is not None
        self.pid = self.process.pid
        self.stdout = self.process.stdout.fileno()
        self.exits_on_request = False

    def poll(self) -> int | None:
        return self.process.poll()

    def wait(self, timeout: float) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.process.wait(timeout)
        return None

    def request_exit(self) -> None:
        pass  # no telemetry inside: nothing to flush

    def close(self) -> None:
        if self.process.stdout is not None:
            self.process.stdout.close()


class ForkedProcess:
    """An environment forked by the template."""

    def __init__(self, template: Template, pid: int, pidfd: int, stdout: int,
                 lifeline: int) -> None:
        self.template = template
        self.pid = pid
        self.stdout = stdout
        self.exits_on_request = True
        self._pidfd = pidfd
        self._lifeline: int | None = lifeline
        self._code: int | None = None

    def poll(self) -> int | None:
        return self.wait(0)

    def wait(self, timeout: float) -> int | None:
        if self._code is None and select.select([self._pidfd], [], [], timeout)[0]:
            code = self.template.status(self.pid)
            # Unknown only if the template died and took the status with it.
            self._code = code if code is not None else -9
        return self._code

    def request_exit(self) -> None:
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None

    def close(self) -> None:
        self.request_exit()
        for fd in (self._pidfd, self.stdout):
            with contextlib.suppress(OSError):
                os.close(fd)


class Template:
    """This worker's template process: started on first need, restarted if it died."""

    def __init__(self) -> None:
        self.preloaded: frozenset[str] = frozenset()
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: socket.socket | None = None
        self._lock = threading.Lock()
        self._failed_at = -RETRY_AFTER_SECONDS

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def ensure_started(self) -> None:
        """Start the template unless it runs; TemplateError if it cannot."""
        with self._lock:
            self._ensure_started()

    def spawn(self, handler: str, cwd: Path, env: dict[str, str]) -> ForkedProcess:
        """Fork a new environment; TemplateError if the template cannot."""
        out_read, out_write = os.pipe()
        life_read, life_write = os.pipe()
        try:
            with self._lock:
                channel = self._ensure_started()
                request = {"op": "spawn", "handler": handler, "cwd": str(cwd), "env": env}
                reply, fds = self._ask(channel, request, [out_write, life_read])
        except BaseException:
            for fd in (out_read, life_write):
                os.close(fd)
            raise
        finally:
            os.close(out_write)
            os.close(life_read)
        if len(fds) != 1:
            raise TemplateError(f"the template answered a spawn without a pidfd: {reply}")
        return ForkedProcess(self, int(reply["pid"]), fds[0], out_read, life_write)

    def status(self, pid: int) -> int | None:
        """The exit code of an environment that has exited; None if the template cannot say."""
        try:
            with self._lock:
                if self._channel is None:
                    return None
                reply, _ = self._ask(self._channel, {"op": "status", "pid": pid}, [])
        except TemplateError:
            return None
        code = reply.get("status")
        return int(code) if code is not None else None

    def stop(self) -> None:
        with self._lock:
            self._discard()

    def _ensure_started(self) -> socket.socket:
        if self._process is not None and self._process.poll() is None and self._channel:
            return self._channel
        self._discard()
        if time.monotonic() - self._failed_at < RETRY_AFTER_SECONDS:
            raise TemplateError("the template environment failed to start a moment ago")
        try:
            return self._start()
        except TemplateError:
            self._failed_at = time.monotonic()
            self._discard()
            raise

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", TEMPLATE_MODULE, str(theirs.fileno())],
                pass_fds=[theirs.fileno()], cwd=ROOT, env=template_environment(),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        except OSError as error:
            ours.close()
            raise TemplateError(f"could not start the template environment: {error}") from error
        finally:
            theirs.close()
        self._channel = ours
        ready, _ = self._receive(ours, START_TIMEOUT_SECONDS)
        self.preloaded = frozenset(ready.get("preloaded", ()))
        log.info("template environment %s ready", self._process.pid)
        return ours

    def _ask(self, channel: socket.socket, request: dict[str, Any],
             fds: list[int]) -> tuple[dict[str, Any], list[int]]:
        try:
            socket.send_fds(channel, [json.dumps(request).encode()], fds)
        except OSError as error:
            self._discard()
            raise TemplateError(f"the template environment is gone: {error}") from error
        return self._receive(channel, REPLY_TIMEOUT_SECONDS)

    def _receive(self, channel: socket.socket, timeout: float) -> tuple[dict[str, Any], list[int]]:
        channel.settimeout(timeout)
        try:
            message, fds, _, _ = socket.recv_fds(channel, _MAX_MESSAGE, 1)
        except OSError as error:  # socket.timeout included
            self._discard()
            raise TemplateError(f"the template environment did not answer: {error}") from error
        if not message:
            self._discard()
            raise TemplateError("the template environment exited")
        return json.loads(message), fds

    def _discard(self) -> None:
        if self._channel is not None:
            self._channel.close()  # the template exits when its socket closes
            self._channel = None
        if self._process is not None:
            try:
                self._process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


def template_environment() -> dict[str, str]:
    """The template's variables: as few as a sandbox's, none of the orchestrator's."""
    python_bin = str(Path(sys.executable).parent)
    return {"PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8",
            "TZ": ":UTC", "PYTHONUNBUFFERED": "1"}


_shared: tuple[int, Template] | None = None
_shared_lock = threading.Lock()


def shared_template() -> Template:
    """This worker process's template (a new one after a fork)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared[0] != os.getpid():
            _shared = (os.getpid(), Template())
            atexit.register(_stop_shared, os.getpid())
        return _shared[1]


def _stop_shared(owner: int) -> None:
    """At exit, reap this process's template instead of leaving it to the interpreter's
    teardown (which warns of a child still running and a socket left open)."""
    if _shared is not None and _shared[0] == owner == os.getpid():
        _shared[1].stop()


def ships_preloaded(code_dir: Path, preloaded: frozenset[str]) -> bool:
    """True when the function's code brings its own copy of a package the template imported."""
    try:
        names = {name.removesuffix(".py") for name in os.listdir(code_dir)}
    except OSError:
        return False
    return bool(names & preloaded)


def launch(handler: str, code_dir: Path, env: dict[str, str], use_template: bool) -> SandboxProcess:
    """The environment's process: from the template when possible, else with Popen."""
    if use_template:
        template = shared_template()
        try:
            template.ensure_started()
            if not ships_preloaded(code_dir, template.preloaded):
                return template.spawn(handler, code_dir, env)
        except TemplateError as error:
            log.warning("starting the environment without the template: %s", error)
    return PopenProcess(handler, code_dir, env)
