"""The autoscaler of `ripple up --workers auto`: every half second it reads the queues from
Redis, asks `autoscaler.decide`, applies the decision to the stack's workers, logs it as one line
and appends it to the `ripple:scaling` stream (what `GET /_ripple/api/scaling` and load reports
read). A worker removed gets a warm shutdown: Celery finishes what it holds, its unstarted
messages go back to their queues, and what was routed to its own queue is moved to the shared
one by the other workers (it stopped beating)."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from typing import Any, Protocol

from redis import Redis

from orchestrator import keys
from orchestrator.process.autoscaler import Decision, Memory, Observation, Policy, decide

log = logging.getLogger("ripple.scaling")

TICK_SECONDS = 0.5
DECISIONS_KEPT = 10_000
SAMPLE = 200  # the oldest queued messages looked at to find functions at their limit
HEARTBEAT_FRESH_SECONDS = 10


class Workers(Protocol):
    """What the autoscaler scales: `ripple up`'s own worker processes."""

    @property
    def workers(self) -> int: ...

    def add_worker(self) -> None: ...

    def remove_worker(self) -> None: ...


class QueueObserver:
    """What the queues hold now, read from Redis in two round trips."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def observe(self, workers: int, now: float) -> Observation:
        own: set[bytes] = self.redis.smembers(keys.WORKER_QUEUES)  # type: ignore[assignment]
        queues = [keys.QUEUE_SYNC, keys.QUEUE_ASYNC,
                  *(keys.worker_queue(worker.decode()) for worker in own)]
        pipe = self.redis.pipeline(transaction=False)
        for queue in queues:
            pipe.llen(queue)
        for queue in queues:
            pipe.lindex(queue, -1)  # kombu pushes on the left and pops on the right
        pipe.hlen("unacked")  # kombu's: delivered and not yet acknowledged
        pipe.hvals(keys.WORKERS)
        answers = pipe.execute()
        lengths, oldest = answers[:len(queues)], answers[len(queues):2 * len(queues)]
        running, beats = answers[-2], answers[-1]
        wall = time.time()
        ages = [wall - enqueued for raw in oldest if raw and (enqueued := _enqueued(raw))]
        live = sum(1 for seen in beats if wall - float(seen) < HEARTBEAT_FRESH_SECONDS)
        queued = sum(int(length) for length in lengths)
        return Observation(time=now, workers=workers, queued=queued,
                           oldest_age=max(ages, default=0.0), running=int(running),
                           blocked=self._blocked(queued, wall),
                           other_workers=max(0, live - workers))

    def _blocked(self, queued: int, wall: float) -> int:
        """Of the queued invocations, about how many are for functions at their reserved
        concurrency (from the oldest few hundred of the shared queues)."""
        if not queued:
            return 0
        sample: list[bytes] = []
        for queue in (keys.QUEUE_SYNC, keys.QUEUE_ASYNC):
            sample += self.redis.lrange(queue, -SAMPLE, -1)  # type: ignore[arg-type,operator]
        if not sample:
            return 0
        counts: dict[str, int] = {}
        for raw in sample:
            name = _function_name(raw)
            counts[name] = counts.get(name, 0) + 1
        blocked = 0
        for name, count in counts.items():
            config = self.redis.hget(keys.FUNCTIONS, name)
            reserved = json.loads(config).get("reserved_concurrency") if config else None
            if reserved is not None and \
                    int(self.redis.zcount(keys.concurrency(name), wall, "+inf")) >= reserved:
                blocked += count
        return round(queued * blocked / len(sample))


class Autoscaler(threading.Thread):
    def __init__(self, workers: Workers, redis: Redis, policy: Policy) -> None:
        super().__init__(name="ripple-autoscaler", daemon=True)
        self.pool = workers
        self.redis = redis
        self.policy = policy
        self.observer = QueueObserver(redis)
        self.memory = Memory()
        self.stopping = threading.Event()

    def run(self) -> None:
        published = False
        while not self.stopping.wait(TICK_SECONDS):
            try:
                if not published:
                    publish_state(self.redis, self.pool.workers, self.policy.min_workers,
                                  self.policy.max_workers)
                    published = True
                self.tick()
            except Exception:  # Redis restarting: the workers stay as they are meanwhile
                log.debug("autoscaler tick failed", exc_info=True)

    def tick(self) -> Decision | None:
        seen = self.observer.observe(self.pool.workers, time.monotonic())
        self.memory, decision = decide(self.policy, self.memory, seen)
        if decision is None:
            return None
        for _ in range(decision.to_workers - decision.from_workers):
            self.pool.add_worker()
        for _ in range(decision.from_workers - decision.to_workers):
            self.pool.remove_worker()
        record(self.redis, decision)
        publish_state(self.redis, self.pool.workers, self.policy.min_workers,
                      self.policy.max_workers)
        return decision

    def stop(self) -> None:
        self.stopping.set()


def record(redis: Redis, decision: Decision) -> None:
    """One line on `ripple up`'s output and one entry in the decisions stream."""
    log.info("workers %d -> %d: %s", decision.from_workers, decision.to_workers, decision.reason)
    redis.xadd(keys.SCALING, {"time": f"{time.time():.3f}", "from": decision.from_workers,
                              "to": decision.to_workers, "reason": decision.reason},
               maxlen=DECISIONS_KEPT, approximate=True)


def publish_state(redis: Redis, workers: int, minimum: int, maximum: int) -> None:
    redis.hset(keys.SCALING_STATE, mapping={"workers": workers, "min": minimum, "max": maximum})


def _envelope(raw: bytes) -> dict[str, Any]:
    return json.loads(raw)  # type: ignore[no-any-return]


def _enqueued(raw: bytes) -> float:
    """When a queued task message's invocation was queued (0 when it cannot be read)."""
    try:
        args = json.loads(base64.b64decode(_envelope(raw)["body"]))[0]
        return float(args[0]["enqueued"])
    except (ValueError, KeyError, IndexError, TypeError):
        return 0.0


def _function_name(raw: bytes) -> str:
    """The function a queued task message invokes (its argsrepr is `(name)`)."""
    try:
        return str(_envelope(raw)["headers"]["argsrepr"]).strip("()")
    except (ValueError, KeyError, TypeError):
        return ""
