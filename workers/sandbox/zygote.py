"""The template environment (a zygote): `python -m workers.sandbox.zygote <fd>`.

It imports what an environment needs — awslambdaric, boto3/botocore with warm service models,
the OpenTelemetry SDK, the OTLP/HTTP exporter and the botocore instrumentation — starts no
thread, and then forks one child per request from its worker over a SOCK_SEQPACKET socket:

    worker → {"op": "spawn", "handler", "cwd", "env"} + [stdout write end, lifeline read end]
    template → {"pid"} + [pidfd]
    worker → {"op": "status", "pid"};  template → {"status": Popen-style code or null}

The child's exit status can only be collected by its parent, so the template reaps children
when asked; the worker watches liveness through the pidfd. The template exits when the
worker's end of the socket closes.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Any

import boto3  # noqa: F401  (loaded once, shared by every child)
import botocore.session

from workers.sandbox import bootstrap, warm

MAX_MESSAGE = 1 << 20


def preloaded() -> list[str]:
    """Top-level packages already imported here: a function that ships its own copy of one of
    them (a vendored boto3) must not run from the template. ripple's own packages do not count:
    each child forgets them before it imports the function."""
    ignored = sys.stdlib_module_names | bootstrap.RIPPLE_PACKAGES | {"__main__"}
    return sorted({name.split(".")[0] for name in sys.modules} - ignored)


def serve(channel: socket.socket) -> None:
    while True:
        message, fds, _, _ = socket.recv_fds(channel, MAX_MESSAGE, 4)
        if not message:
            return
        request: dict[str, Any] = json.loads(message)
        if request["op"] == "spawn":
            _spawn(channel, request, fds)
        elif request["op"] == "status":
            for fd in fds:
                os.close(fd)
            reply = {"status": _status(int(request["pid"]))}
            channel.send(json.dumps(reply).encode())


def _spawn(channel: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    stdout, lifeline = fds
    pid = os.fork()
    if pid == 0:
        channel.close()
        bootstrap.become_environment(request, stdout, lifeline)
    os.close(stdout)
    os.close(lifeline)
    pidfd = os.pidfd_open(pid)
    try:
        socket.send_fds(channel, [json.dumps({"pid": pid}).encode()], [pidfd])
    finally:
        os.close(pidfd)


def _status(pid: int) -> int | None:
    """The child's exit code (negative: the signal that killed it); None while it runs."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status) if done else None


def main() -> None:
    channel = socket.socket(fileno=int(sys.argv[1]))
    warm.botocore_session(botocore.session.get_session())
    warm.opentelemetry()
    channel.send(json.dumps({"ready": os.getpid(), "preloaded": preloaded()}).encode())
    serve(channel)


if __name__ == "__main__":
    main()
