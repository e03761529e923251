"""A worker's background duties: heartbeat, delayed invocations, reaping idle environments."""

from __future__ import annotations

import logging
import threading
import time

from redis import Redis

from orchestrator import keys
from orchestrator.dispatch import Dispatcher
from workers.pool import EnvironmentPool

log = logging.getLogger("ripple.worker")

TICK_SECONDS = 0.02
HEARTBEAT_SECONDS = 2.0
REAP_SECONDS = 5.0


class Housekeeping(threading.Thread):
    def __init__(self, worker_id: str, redis: Redis, dispatcher: Dispatcher,
                 pool: EnvironmentPool) -> None:
        super().__init__(name="ripple-housekeeping", daemon=True)
        self.worker_id = worker_id
        self.redis = redis
        self.dispatcher = dispatcher
        self.pool = pool
        self.stopping = threading.Event()

    def run(self) -> None:
        next_beat = next_reap = 0.0
        while not self.stopping.is_set():
            try:
                now = time.monotonic()
                if now >= next_beat:
                    self.redis.hset(keys.WORKERS, self.worker_id, time.time())
                    next_beat = now + HEARTBEAT_SECONDS
                if now >= next_reap:
                    self.pool.reap()
                    next_reap = now + REAP_SECONDS
                self.dispatcher.send_due()
            except Exception:  # Redis restarting: keep trying, never die
                log.exception("housekeeping tick failed")
                self.stopping.wait(1.0)
            self.stopping.wait(TICK_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        try:
            self.redis.hdel(keys.WORKERS, self.worker_id)
        except Exception:
            log.debug("could not remove the heartbeat", exc_info=True)
