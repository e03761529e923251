"""Puts invocations on the queues: now (a Celery task) or later (the delayed set)."""

from __future__ import annotations

import time

from celery import Celery
from redis import Redis

from orchestrator import keys
from orchestrator.invocation import InvocationRequest

_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 200)
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due
"""
# A claimed message that was not sent within this long is sent again by another worker.
CLAIM_SECONDS = 30


class Dispatcher:
    def __init__(self, celery: Celery, redis: Redis) -> None:
        self.celery = celery
        self.redis = redis
        self._claim = redis.register_script(_CLAIM_DUE)

    def send(self, request: InvocationRequest) -> None:
        """Queue an invocation for the next free worker."""
        request.enqueued = time.time()
        queue = keys.QUEUE_SYNC if request.is_sync else keys.QUEUE_ASYNC
        self.celery.send_task(
            "ripple.invoke", args=[request.model_dump(mode="json")], queue=queue,
            task_id=f"{request.request_id}:{request.attempt}",
        )

    def send_later(self, request: InvocationRequest, delay_seconds: float) -> None:
        """Queue an invocation after a (simulated-clock) delay; survives restarts."""
        self.redis.zadd(keys.DELAYED, {request.model_dump_json(): time.time() + delay_seconds})

    def send_due(self) -> int:
        """Move delayed invocations whose time has come onto the queues; returns how many."""
        now = time.time()
        due = self._claim(keys=[keys.DELAYED], args=[now, now + CLAIM_SECONDS])
        for member in due:
            self.send(InvocationRequest.model_validate_json(member))
            self.redis.zrem(keys.DELAYED, member)
        return len(due)
