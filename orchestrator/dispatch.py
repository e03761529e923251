"""Puts invocations on the queues: now (a Celery task) or later (the delayed set).

An invocation goes to the own queue of a worker that has an idle environment for its function
version, when one does (warm affinity, as Lambda prefers a warm sandbox); otherwise to the
shared queue, where the first free worker takes it.
"""

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
_TAKE_WARM = """
for _ = 1, 4 do
  local worker = redis.call('LPOP', KEYS[1])
  if not worker then return false end
  if redis.call('HEXISTS', KEYS[2], worker) == 1 then return worker end
end
return false
"""
# A claimed message that was not sent within this long is sent again by another worker.
CLAIM_SECONDS = 30


class Dispatcher:
    def __init__(self, celery: Celery, redis: Redis) -> None:
        self.celery = celery
        self.redis = redis
        self._claim = redis.register_script(_CLAIM_DUE)
        self._take_warm = redis.register_script(_TAKE_WARM)

    def send(self, request: InvocationRequest) -> None:
        """Queue an invocation for a warm worker, else the next free one."""
        request.enqueued = time.time()
        function = request.function
        worker = self._take_warm(keys=[keys.warm(function.name, function.version), keys.WORKERS])
        if worker:
            queue = keys.worker_queue(worker.decode())
        else:
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
