"""The processes that send a load run's events, and the samples they send back.

Several processes, each with threads holding one keep-alive `http.client` connection: against
a no-op target one process sends ~10,800 requests/s this way and ~2,000/s with `httpx.Client`
(measured on this 2-core machine; httpx's per-request machinery is the difference), and
`processes` scale the ceiling with the cores (`ripple load --ceiling` measures it). Open loop
(a rate profile): every event has a due time and is sent then, whatever the answers before
it; lateness is recorded, so a generator that cannot keep up says so instead of slowing down
unnoticed.
Closed loop (`concurrency`): each thread sends its next event when its previous one answered.

Processes are spawned, not forked: the parent holds threads (the live display) by then.
Ctrl-C reaches only the parent, which sets `stop`; the children finish the request they hold,
send their last samples and exit.
"""

from __future__ import annotations

import http.client
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from orchestrator.load.connection import Connection
from orchestrator.load.schedule import Profile
from orchestrator.load.targets import Builder, Target, trace_header

FLUSH_SECONDS = 0.2


class Sample(NamedTuple):
    n: int
    root: str  # the X-Ray root id the event started
    due: float  # epoch s it was due (open loop) or sent (closed loop)
    sent: float  # epoch s the request left
    latency_ms: float
    status: int  # HTTP status, 0 when no answer came
    error: str  # "" when all went well; "Unhandled", "Throttled", "HTTP 500", an exception


@dataclass(frozen=True)
class Plan:
    target: str
    endpoint: str
    stage: str = ""
    payload: str | None = None
    key: str = "{n}-{uuid}"
    invocation_type: str = "Event"
    rate: str | None = None  # open loop when set
    concurrency: int = 0  # closed loop when rate is None
    count: int | None = None
    duration: float | None = None
    processes: int = 2
    connections: int = 64  # open loop: most requests in flight at once, all processes

    def builder(self) -> Builder:
        return Builder(Target.parse(self.target), self.endpoint, self.stage, self.payload,
                       self.key, self.invocation_type)


def classify(status: int, function_error: str | None) -> str:
    if status == 429:
        return "Throttled"
    if status >= 400:
        return f"HTTP {status}"
    return function_error or ""


def send(connection: Connection, builder: Builder, n: int, due: float) -> Sample:
    root, header = trace_header()
    request = builder.build(n, header)
    parts = urlsplit(request.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    sent = time.time()
    begun = time.perf_counter()
    try:
        status, function_error = connection.request(request.method, path, request.headers,
                                                    request.body)
        error = classify(status, function_error)
    except (OSError, http.client.HTTPException) as failure:
        status, error = 0, type(failure).__name__
    return Sample(n, root, due or sent, sent, (time.perf_counter() - begun) * 1000, status, error)


def _events(plan: Plan, index: int, start: float) -> Iterator[tuple[int, float]]:
    """This process's share of the events: (n, due epoch), every `processes`-th one."""
    if plan.rate is None:
        return
    offsets = Profile.parse(plan.rate).offsets(plan.count, plan.duration)
    for n, offset in enumerate(offsets):
        if n % plan.processes == index:
            yield n, start + offset


def run_process(plan: Plan, index: int, go: Event, stop: Event, start_at: Any,
                samples: multiprocessing.Queue[Any]) -> None:
    """One generator process: wait for `go`, send until done or `stop`, report samples."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    builder = plan.builder()
    samples.put(("ready", index))
    go.wait()
    start = start_at.value
    lock = threading.Lock()
    pending: list[Sample] = []
    deadline = start + plan.duration if plan.duration else float("inf")
    if plan.rate is not None:
        due = _events(plan, index, start)
        threads = max(1, plan.connections // plan.processes)
    else:
        threads = plan.concurrency // plan.processes + (index < plan.concurrency % plan.processes)
        share = None if plan.count is None else \
            plan.count // plan.processes + (index < plan.count % plan.processes)
        numbers = (n for n in range(index, 10**12, plan.processes))
        taken = [0]

    def next_event() -> tuple[int, float] | None:
        with lock:
            if stop.is_set():
                return None
            if plan.rate is not None:
                return next(due, None)
            if (share is not None and taken[0] >= share) or time.time() >= deadline:
                return None
            taken[0] += 1
            return next(numbers), 0.0

    def sender() -> None:
        connection = Connection(builder.base_url)
        try:
            while (event := next_event()) is not None:
                n, when = event
                while when and (wait := when - time.time()) > 0:
                    if stop.wait(min(wait, 0.5)):
                        return
                sample = send(connection, builder, n, when)
                with lock:
                    pending.append(sample)
        finally:
            connection.close()

    workers = [threading.Thread(target=sender, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    while any(worker.is_alive() for worker in workers):
        workers[0].join(FLUSH_SECONDS) if workers[0].is_alive() else time.sleep(FLUSH_SECONDS)
        with lock:
            batch, pending[:] = list(pending), []
        if batch:
            samples.put(("samples", batch))
    with lock:
        if pending:
            samples.put(("samples", list(pending)))
    samples.put(("done", index))


class Generator:
    """Runs a plan's processes; `run` calls `on_samples` with each batch as it arrives and
    `on_tick` about every `FLUSH_SECONDS`, and returns when every process is done."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self._go = context.Event()
        self._start_at = context.Value("d", 0.0)
        self._samples: multiprocessing.Queue[Any] = context.Queue()
        self._processes = [context.Process(
            target=run_process, args=(plan, index, self._go, self.stop, self._start_at,
                                      self._samples), daemon=True)
            for index in range(plan.processes)]
        self.started = 0.0
        self._interrupts = 0

    def run(self, on_samples: Callable[[list[Sample]], None],
            on_tick: Callable[[], None] = lambda: None) -> None:
        for process in self._processes:
            process.start()
        ready = 0
        previous = signal.getsignal(signal.SIGINT)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._interrupted)
        try:
            while ready < len(self._processes):
                kind, _ = self._samples.get(timeout=60)
                ready += kind == "ready"
            self.started = self._start_at.value = time.time() + 0.05
            self._go.set()
            done = 0
            while done < len(self._processes):
                try:
                    kind, payload = self._samples.get(timeout=FLUSH_SECONDS)
                except queue.Empty:
                    kind, payload = "", None
                except KeyboardInterrupt:  # stop sending; keep what the processes still report
                    if self.stop.is_set():
                        raise
                    self.stop.set()
                    continue
                if kind == "samples":
                    on_samples(payload)
                done += kind == "done"
                on_tick()
                if not any(process.is_alive() for process in self._processes) and \
                        self._samples.empty():
                    break
        finally:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, previous)
            self.stop.set()
            for process in self._processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.terminate()
                    process.join()
            self._samples.close()
            self._samples.join_thread()

    @property
    def interrupted(self) -> bool:
        return self._interrupts > 0

    def _interrupted(self, signum: int, frame: Any) -> None:
        """The first Ctrl-C stops sending (a partial summary follows); a second one aborts."""
        self._interrupts += 1
        if self._interrupts > 1:
            raise KeyboardInterrupt
        self.stop.set()
