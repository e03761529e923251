"""A small process supervisor for `ripple up`: start children, restart the ones that die, stop all.

Each child runs in its own session, so Ctrl-C in the terminal reaches only the supervisor, which
then stops the children in reverse start order and sweeps their process groups (workers spawn
execution environments as grandchildren).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

log = logging.getLogger("ripple.supervisor")


@dataclass
class ChildSpec:
    """One supervised command; `env` is added on top of the supervisor's own environment."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    log_path: Path | None = None  # append stdout and stderr here instead of inheriting them


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = 0.0
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    """Keeps a group of child processes running until stopped."""

    def __init__(
        self,
        initial_backoff: float = 0.5,
        max_backoff: float = 10.0,
        stable_after: float = 30.0,
        poll_interval: float = 0.2,
    ) -> None:
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after
        self.poll_interval = poll_interval
        self._children: dict[str, _Child] = {}
        self._retiring: dict[str, _Child] = {}  # SIGTERM sent by retire(), not yet exited
        self._started = False
        self._stopping = False
        self._stopped = False
        # Re-entrant: stop() may run from a signal handler that interrupted poll().
        self._lock = threading.RLock()

    @property
    def children(self) -> dict[str, subprocess.Popen[bytes]]:
        return {name: c.process for name, c in self._children.items() if c.process is not None}

    @property
    def restarts(self) -> dict[str, int]:
        return {name: child.restarts for name, child in self._children.items()}

    def add(self, spec: ChildSpec) -> None:
        """Register a child; it is spawned by start(), or right away if already started."""
        with self._lock:
            if spec.name in self._children:
                raise ValueError(f"a child named {spec.name!r} is already supervised")
            child = _Child(spec, delay=self.initial_backoff)
            self._children[spec.name] = child
            if self._started and not self._stopping:
                self._spawn(child)

    def retire(self, name: str, timeout: float) -> None:
        """Stop one child for good, gently: SIGTERM (a Celery worker's warm shutdown: it
        finishes what it holds), then, after `timeout` s, SIGKILL its process group. It is not
        restarted; stop() still sweeps it if it is draining then."""
        with self._lock:
            child = self._children.pop(name)
            if child.process is None or child.process.poll() is not None:
                if child.process is not None:
                    _kill_group(child.process.pid)
                return
            self._retiring[name] = child
            descendants = _descendants(child.process.pid)
            log.info("retiring %s (pid %d)", name, child.process.pid)
            child.process.send_signal(signal.SIGTERM)
        threading.Thread(target=self._drain, args=(child, descendants, timeout),
                         name=f"ripple-retire-{name}", daemon=True).start()

    def _drain(self, child: _Child, descendants: list[psutil.Process], timeout: float) -> None:
        assert child.process is not None
        try:
            child.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not finish within %g s; killing it", child.spec.name, timeout)
        _kill_tree(child.process, descendants)
        with self._lock:
            self._retiring.pop(child.spec.name, None)

    def start(self) -> None:
        """Spawn every registered child, in the order they were added."""
        with self._lock:
            self._started = True
            for child in self._children.values():
                if child.process is None:
                    self._spawn(child)

    def poll(self) -> None:
        """One pass: schedule a restart for each child that exited, and run the restarts due."""
        with self._lock:
            now = time.monotonic()
            for child in self._children.values():
                if self._stopping:
                    return
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        child.restarts += 1
                        self._spawn(child)
                elif child.process is not None and child.process.poll() is not None:
                    self._schedule_restart(child, now)

    def run_forever(self, stop_event: threading.Event | None = None) -> None:
        """Poll until `stop_event` is set or stop() is called, then stop every child."""
        event = stop_event or threading.Event()
        try:
            while not self._stopping and not event.is_set():
                self.poll()
                event.wait(self.poll_interval)
        finally:
            self.stop()

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM the children in reverse start order, wait, then SIGKILL whatever is left."""
        with self._lock:
            if self._stopped:
                return
            self._stopping = True
            running: list[_Child] = []
            for child in [*reversed(self._children.values()), *self._retiring.values()]:
                if child.process is None:
                    continue
                if child.process.poll() is None:
                    running.append(child)
                elif child.restart_at is None:  # exited since the last poll(), not yet swept
                    _kill_group(child.process.pid)
            descendants: dict[str, list[psutil.Process]] = {}
            for child in running:
                assert child.process is not None
                descendants[child.spec.name] = _descendants(child.process.pid)
                log.info("stopping %s (pid %d)", child.spec.name, child.process.pid)
                child.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for child in running:
                assert child.process is not None
                try:
                    child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop within %g s; killing it", child.spec.name, timeout)
                _kill_tree(child.process, descendants[child.spec.name])
            for child in self._children.values():
                child.restart_at = None
            self._stopped = True

    def _spawn(self, child: _Child) -> None:
        spec = child.spec
        env = {**os.environ, **spec.env} if spec.env is not None else None
        child.restart_at = None
        try:
            if spec.log_path is None:
                process = _popen(spec, env, None)
            else:
                spec.log_path.parent.mkdir(parents=True, exist_ok=True)
                with spec.log_path.open("ab") as output:
                    process = _popen(spec, env, output)
        except OSError:
            if child.process is None:
                raise  # a bad command on first start is the user's to fix, not to retry
            log.exception("could not restart %s", spec.name)
            child.restart_at = time.monotonic() + self._next_delay(child)
            return
        child.process = process
        child.started_at = time.monotonic()
        log.info("started %s (pid %d)", spec.name, process.pid)

    def _schedule_restart(self, child: _Child, now: float) -> None:
        assert child.process is not None
        # Orphaned grandchildren of a crashed child must not outlive it.
        _kill_group(child.process.pid)
        if now - child.started_at >= self.stable_after:
            child.delay = self.initial_backoff
        delay = self._next_delay(child)
        log.warning(
            "%s exited with code %s; restarting in %g s",
            child.spec.name,
            child.process.returncode,
            delay,
        )
        child.restart_at = now + delay

    def _next_delay(self, child: _Child) -> float:
        delay = child.delay
        child.delay = min(delay * 2, self.max_backoff)
        return delay


def _popen(
    spec: ChildSpec, env: dict[str, str] | None, output: IO[bytes] | None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        spec.argv,
        env=env,
        cwd=spec.cwd,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        start_new_session=True,
    )


def _descendants(pid: int) -> list[psutil.Process]:
    # Taken while the child is alive: once it exits, its descendants are reparented and lost.
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(pgid, signal.SIGKILL)


def _kill_tree(process: subprocess.Popen[bytes], descendants: list[psutil.Process]) -> None:
    # The group covers grandchildren started later; the snapshot covers ones that left the group.
    _kill_group(process.pid)
    for descendant in descendants:
        with contextlib.suppress(psutil.Error):
            descendant.kill()  # psutil checks the pid was not reused since the snapshot
    process.wait()
