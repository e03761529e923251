"""A worker's background duties: heartbeat (with the messages it holds), delayed invocations,
reaping idle environments, and giving back what a worker that died held: its own queue, to the
shared queue, and its unacknowledged messages, to theirs (`workers.redelivery`)."""

from __future__ import annotations

import logging
import threading
import time

from redis import Redis

from orchestrator import keys
from orchestrator.invocations.dispatch import CLAIM_LIMIT, Dispatcher
from orchestrator.invocations.ledger import Ledger
from workers.drain import give_back_stranded, taken_tags
from workers.environments.pool import EnvironmentPool
from workers.redelivery import DEAD_AFTER_SECONDS, Redelivery, beat, held_tags

log = logging.getLogger("ripple.worker")

# The longest the loop sleeps. It wakes sooner when the next delayed invocation is due, or when
# this process delays one; one delayed by another process is sent at most this late.
TICK_SECONDS = 0.25
HEARTBEAT_SECONDS = 1.0
REAP_SECONDS = 1.0
WORKER_DEAD_SECONDS = DEAD_AFTER_SECONDS


class Housekeeping(threading.Thread):
    def __init__(self, worker_id: str, redis: Redis, dispatcher: Dispatcher,
                 pool: EnvironmentPool, slots: int) -> None:
        super().__init__(name="ripple-housekeeping", daemon=True)
        self.worker_id = worker_id
        self.redis = redis
        self.dispatcher = dispatcher
        self.pool = pool
        self.slots = slots
        self.redelivery = Redelivery(redis)
        self.ledger = Ledger(redis)
        self.stopping = threading.Event()

    def run(self) -> None:
        self.redis.sadd(keys.WORKER_QUEUES, self.worker_id)
        self.redis.hset(keys.WORKER_SLOTS, self.worker_id, self.slots)
        next_beat = next_reap = 0.0
        scheduled = self.dispatcher.scheduled
        while not self.stopping.is_set():
            scheduled.clear()  # before send_due reads when the next one is due
            sent = 0
            try:
                now = time.monotonic()
                if now >= next_beat:
                    beat(self.redis, self.worker_id, held_tags() + taken_tags())
                    next_beat = now + HEARTBEAT_SECONDS
                if now >= next_reap:
                    self.pool.reap()
                    self.rescue_dead_workers()
                    self.redelivery.give_back()
                    self.ledger.recover()
                    next_reap = now + REAP_SECONDS
                give_back_stranded(self.redis)
                sent = self.dispatcher.send_due()
            except Exception:  # Redis restarting: keep trying, never die
                log.exception("housekeeping tick failed")
                self.stopping.wait(1.0)
            if sent < CLAIM_LIMIT:  # else more are due now
                scheduled.wait(max(0.0, min(TICK_SECONDS, min(next_beat, next_reap)
                                            - time.monotonic(),
                                            self.dispatcher.due_at - time.time())))

    def rescue_dead_workers(self) -> int:
        """Move invocations queued for workers that stopped beating onto the shared queue."""
        moved = 0
        beats = self.redis.hgetall(keys.WORKERS)
        now = time.time()
        members: set[bytes] = self.redis.smembers(keys.WORKER_QUEUES)  # type: ignore[assignment]
        for raw in members:
            worker = raw.decode()
            seen = beats.get(raw)
            if worker == self.worker_id or (seen and now - float(seen) < WORKER_DEAD_SECONDS):
                continue
            queue = keys.worker_queue(worker)
            while self.redis.lmove(queue, keys.QUEUE_ASYNC, "RIGHT", "LEFT") is not None:
                moved += 1
            for handoff in self.redis.scan_iter(match=keys.handoff_queues(worker)):
                while self.redis.lmove(handoff, keys.QUEUE_SYNC, "RIGHT", "LEFT") is not None:
                    moved += 1
            self.redis.hdel(keys.WORKERS, worker)
            self.redis.hdel(keys.WORKER_SLOTS, worker)
            self.redis.srem(keys.WORKER_QUEUES, worker)
            self.redis.delete(keys.held(worker))
        if moved:
            log.warning("moved %d invocations from stopped workers to the shared queue", moved)
        return moved

    def stop(self) -> None:
        self.stopping.set()
        self.dispatcher.scheduled.set()
        try:
            self.redis.hdel(keys.WORKERS, self.worker_id)
            self.redis.hdel(keys.WORKER_SLOTS, self.worker_id)
        except Exception:
            log.debug("could not remove the heartbeat", exc_info=True)
