"""A worker's one entry point: `run_worker`, what `ripple worker` (and so `ripple up`) runs."""

from __future__ import annotations

from orchestrator import keys
from orchestrator.settings import Settings


def run_worker(settings: Settings, concurrency: int | None = None,
               loglevel: str = "WARNING") -> None:
    """Run a Celery worker on ripple's queues (shared, and its own for warm affinity) until it
    is stopped; `concurrency` invocations at once, each in its own environment."""
    import warnings

    from celery.platforms import SecurityWarning

    from workers import tasks  # registers the task; its runtime starts with the worker
    from workers.celery_app import configure

    # What `ripple up` prints is ripple's: no banner, no "worker: Warm shutdown (MainProcess)"
    # per worker at Ctrl-C, and no lecture per worker when run as root (a container's usual
    # user); the worker's own errors still show at `loglevel`.
    warnings.filterwarnings("ignore", category=SecurityWarning)
    _quiet_shutdown()

    count = concurrency or settings.worker_concurrency
    pool = "solo" if count == 1 else "threads"
    tasks.SLOTS = count
    configure(settings).worker_main([
        "--quiet", "worker", f"--pool={pool}", f"--concurrency={count}", f"--loglevel={loglevel}",
        "-Q", f"{keys.QUEUE_SYNC},{keys.QUEUE_ASYNC},{keys.worker_queue(tasks.WORKER_ID)}",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"ripple-{tasks.WORKER_ID}@%h",
        *(["-E"] if settings.task_events else []),
    ])


def _quiet_shutdown() -> None:
    """Celery's signal handlers, without the line each prints when the worker stops."""
    import functools

    from celery.apps import worker

    for name in ("install_worker_int_handler", "install_worker_term_handler",
                 "install_worker_term_hard_handler"):
        handler = getattr(worker, name)
        if isinstance(handler, functools.partial):
            setattr(worker, name, functools.partial(handler, verbose=False))
