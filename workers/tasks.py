"""The Celery task that runs invocations, and the worker-wide state it uses."""

from __future__ import annotations

import gc
import os
import socket
import threading
from typing import Any

from celery.exceptions import Reject
from celery.signals import worker_ready, worker_shutdown
from redis import Redis

from orchestrator import keys
from orchestrator.functions.registry import Registry
from orchestrator.invocations.concurrency import ConcurrencyLimiter
from orchestrator.invocations.dead_letters import DeadLetters
from orchestrator.invocations.dispatch import INVOKE_TASK, Dispatcher
from orchestrator.invocations.invoke import SyncInvoker
from orchestrator.invocations.on_failure import OnFailure
from orchestrator.settings import get_settings
from tracing.recorder import recorder
from tracing.setup import configure_tracing
from workers.celery_app import app
from workers.drain import Drain, celery_tag
from workers.environments.code_cache import CodeCache
from workers.environments.pool import EnvironmentPool
from workers.housekeeping import Housekeeping
from workers.invoker import Invoker, Undelivered
from workers.middleware.affinity import WarmAffinity
from workers.middleware.concurrency import ConcurrencyLimit
from workers.middleware.records import Records
from workers.middleware.retries import AsyncRetries
from workers.middleware.spans import Tracing
from workers.streams.poller import PollerContext, StreamPollers

# Names this worker's own queue (warm affinity); unique per process on a machine.
WORKER_ID = f"{socket.gethostname()}-{os.getpid()}"
# Invocations this worker runs at once; `ripple worker` sets it before Celery starts.
SLOTS = 1


class WorkerRuntime:
    """Everything one worker process shares between its task threads."""

    def __init__(self) -> None:
        settings = get_settings()
        self.redis = Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
        registry = Registry(self.redis)
        self.dispatcher = Dispatcher(self.redis)
        self.pool = EnvironmentPool(CodeCache(registry, settings.data_dir / "code"), settings)
        limiter = ConcurrencyLimiter(self.redis, settings.account_concurrency)
        on_failure = OnFailure(registry, self.dispatcher,
                               DeadLetters(self.redis, settings.dlq_retention))
        self.tracing = configure_tracing("ripple-worker", settings.endpoint, None,
                                         (settings.trace_reservoir, settings.trace_rate))
        spans = recorder("ripple.worker") if self.tracing is not None else None
        traced = [Tracing(spans)] if spans is not None else []
        self.invoker = Invoker(self.redis, self.pool, [
            *traced,
            Records(settings),
            AsyncRetries(self.dispatcher, on_failure, settings),
            ConcurrencyLimit(limiter),
            WarmAffinity(WORKER_ID),
        ])
        self.drain = Drain(self.redis, self.invoker, [keys.worker_queue(WORKER_ID),
                                                      keys.QUEUE_SYNC, keys.QUEUE_ASYNC],
                           WORKER_ID)
        self.housekeeping = Housekeeping(WORKER_ID, self.redis, self.dispatcher, self.pool,
                                         SLOTS)
        self.housekeeping.start()
        self.stream_pollers = StreamPollers(WORKER_ID, PollerContext(
            self.redis, registry, SyncInvoker(self.redis, self.dispatcher, limiter), on_failure,
            settings))
        self.stream_pollers.start()

    def shutdown(self) -> None:
        self.stream_pollers.stop()
        self.housekeeping.stop()
        self.pool.shutdown()
        if self.tracing is not None:  # export the last batch before the process goes
            self.tracing[0].shutdown()


_runtime: WorkerRuntime | None = None
_runtime_lock = threading.Lock()


def runtime() -> WorkerRuntime:
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = WorkerRuntime()
        return _runtime


@app.task(name=INVOKE_TASK, bind=True)  # type: ignore[untyped-decorator]
def invoke(task: Any, message: dict[str, Any]) -> None:
    try:  # this message, then (while handlers are fast) the queues' next ones
        runtime().drain.run(message, celery_tag(task.request.id))
    except Undelivered as error:  # not acknowledged: the message is given back to run again
        raise Reject(str(error), requeue=True) from error


@worker_ready.connect  # type: ignore[untyped-decorator]
def _start(**_: Any) -> None:
    runtime()
    # What is built by now lives as long as the worker: out of the cyclic collector's sight,
    # its full collections scan only what invocations made. With four spans recorded per
    # invocation they were a tenth of a worker's CPU in a drain of no-ops.
    gc.freeze()


@worker_shutdown.connect  # type: ignore[untyped-decorator]
def _stop(**_: Any) -> None:
    if _runtime is not None:
        _runtime.shutdown()
