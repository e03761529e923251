"""Faults on demand against a running `ripple up` on this machine: kill -9 a worker, an
execution environment, Redis or the endpoint; pause a worker past the point it counts as dead.

The stack's processes are found from the pid `ripple up` writes into its data directory
(`up.pid`) and their command lines. Signals reach only this machine's processes, and every
fault is bounded: a pause always ends with SIGCONT.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil

from orchestrator.errors import RippleError

KINDS = ("worker", "environment", "redis", "endpoint")
PID_FILE = "up.pid"


class ChaosError(RippleError):
    """No running stack to act on, or nothing of the asked kind in it."""


def write_pid(data_dir: Path) -> Path:
    path = data_dir / PID_FILE
    path.write_text(str(os.getpid()))
    return path


def stack_process(data_dir: Path) -> psutil.Process:
    path = data_dir / PID_FILE
    try:
        process = psutil.Process(int(path.read_text()))
        if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
            return process
    except (OSError, ValueError, psutil.Error):
        pass
    raise ChaosError(f"no running `ripple up` found for {data_dir} (no live pid in {path}); "
                     "start one, or pass the --data-dir it uses")


def kind_of(process: psutil.Process) -> str | None:
    """worker, environment, redis, endpoint, or None for anything else (the zygote)."""
    try:
        command = " ".join(process.cmdline())
        parent = process.parent()
        parent_command = " ".join(parent.cmdline()) if parent else ""
    except psutil.Error:
        return None
    if "redis-server" in command:
        return "redis"
    if "orchestrator.endpoint.app" in command:
        return "endpoint"
    if "orchestrator.cli worker" in command:
        return "worker"
    if "awslambdaric" in command or ("workers.sandbox.zygote" in command
                                     and "workers.sandbox.zygote" in parent_command):
        return "environment"  # a Popen environment, or a child forked from the zygote
    return None


def processes(data_dir: Path, kind: str) -> list[psutil.Process]:
    """The stack's live processes of one kind, oldest first."""
    found = [process for process in stack_process(data_dir).children(recursive=True)
             if kind_of(process) == kind]
    return sorted(found, key=lambda process: process.create_time())


def kill(data_dir: Path, kind: str) -> psutil.Process:
    """kill -9 the oldest process of `kind`; returns it."""
    found = processes(data_dir, kind)
    if not found:
        raise ChaosError(f"no {kind} process is running in this stack")
    victim = found[0]
    victim.send_signal(signal.SIGKILL)
    return victim


def pause(data_dir: Path, seconds: float) -> psutil.Process:
    """SIGSTOP a worker for `seconds` (it stops beating: its messages are given back), then
    SIGCONT it, whatever happens meanwhile."""
    found = processes(data_dir, "worker")
    if not found:
        raise ChaosError("no worker process is running in this stack")
    victim = found[0]
    victim.send_signal(signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        victim.send_signal(signal.SIGCONT)
    return victim
