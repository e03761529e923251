"""A closed-loop load generator that stays up between loads, so that the loads of several
stacks can alternate in chunks of a fraction of a second (`benchmarks/core.py`'s tracing
rounds).

`ripple load` starts its sending processes anew for every run, a second or more; that puts
seconds between the arms' loads, and this machine's speed drifts by 10-20% within seconds.
The requests are `ripple load`'s own (`Builder`, `trace_header`, `Connection`): async invokes
of the no-op, each a trace root whose sampling ripple decides.
"""

from __future__ import annotations

import http.client
import multiprocessing
import threading
from typing import Any

from orchestrator.load.connection import Connection
from orchestrator.load.targets import Builder, Target, trace_header

SEND, FORGET = "send", "forget"  # the sending processes' commands


def _serve(commands: Any, answers: Any, threads: int) -> None:
    """One sending process: for each (SEND, endpoint, count) command, send `count` invokes
    with `threads` connections kept open per endpoint, and answer how many were not accepted;
    (FORGET, endpoint, 0) closes that endpoint's connections; None stops."""
    connections: dict[str, list[Connection]] = {}
    while (command := commands.get()) is not None:
        kind, endpoint, count = command
        if kind == FORGET:
            for connection in connections.pop(endpoint, []):
                connection.close()
            continue
        pool = connections.setdefault(endpoint, [Connection(endpoint) for _ in range(threads)])
        answers.put(_load(pool, endpoint, count))
    for connection in (c for pool in connections.values() for c in pool):
        connection.close()


def _load(pool: list[Connection], endpoint: str, count: int) -> int:
    """`count` invokes, one closed loop per connection of `pool`: how many were refused."""
    builder = Builder(Target.parse("invoke:noop"), endpoint)
    lock = threading.Lock()
    left, failed = [count], [0]

    def send(connection: Connection) -> None:
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
                n = left[0]
            request = builder.build(n, trace_header()[1])
            path = request.url.removeprefix(endpoint)
            status = 0
            for _ in range(2):  # once more on a new connection: the server let the old one go
                try:
                    status, _ = connection.request(request.method, path, request.headers,
                                                   request.body)
                    break
                except (OSError, http.client.HTTPException):
                    continue
            if status != 202:
                with lock:
                    failed[0] += 1

    running = [threading.Thread(target=send, args=(connection,)) for connection in pool]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return failed[0]


class Senders:
    """`processes` sending processes, `concurrency` requests in flight in all (as `ripple load
    --concurrency 32` with its 2 processes)."""

    def __init__(self, processes: int = 2, concurrency: int = 32) -> None:
        context = multiprocessing.get_context("spawn")
        self._answers = context.Queue()
        self._commands = [context.Queue() for _ in range(processes)]
        self._processes = [
            context.Process(target=_serve, args=(commands, self._answers,
                                                 concurrency // processes), daemon=True)
            for commands in self._commands]
        for process in self._processes:
            process.start()

    def send(self, endpoint: str, count: int) -> None:
        """`count` async invokes of `endpoint`'s no-op; returns when all were accepted."""
        shares = [count // len(self._commands) + (index < count % len(self._commands))
                  for index in range(len(self._commands))]
        for commands, share in zip(self._commands, shares, strict=True):
            if share:
                commands.put((SEND, endpoint, share))
        failed = sum(self._answers.get(timeout=600) for share in shares if share)
        assert failed == 0, f"{failed} of {count} invokes were not accepted"

    def forget(self, endpoint: str) -> None:
        """Close the connections to `endpoint` (its stack stops)."""
        for commands in self._commands:
            commands.put((FORGET, endpoint, 0))

    def __enter__(self) -> Senders:
        return self

    def __exit__(self, *exc: object) -> None:
        for commands in self._commands:
            commands.put(None)
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
