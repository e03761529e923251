"""Puts invocations on the queues: now (a Celery task) or later (the delayed set).

A sync invocation goes straight to a worker thread that has just run its function version and
is waiting for the next one, when one is (`workers.drain`'s hand-off). Otherwise an invocation
goes to the own queue of a worker that has an idle environment for its function version, when
one does (warm affinity, as Lambda prefers a warm sandbox); otherwise to the shared queue,
where the first free worker takes it. Either way the message names the shared
queue as its home, so an unacknowledged one is restored there if its worker dies.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time
from typing import Any

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from orchestrator import keys
from orchestrator.invocations.envelope import task_message
from orchestrator.invocations.message import InvocationRequest
from tracing.hops import dispatch_context
from tracing.propagation import RECURSION_LIMIT

log = logging.getLogger("ripple.dispatch")

INVOKE_TASK = "ripple.invoke"
# Queue a message: a sync one straight to a worker thread waiting for it (KEYS[7] lists them),
# else to a worker with a warm environment (KEYS[1] lists them), else to the shared queue. A new
# async event is also accepted into the delivery ledger (KEYS[4], KEYS[5]), and is queued twice
# when `ripple chaos` asks for duplicates (KEYS[6] holds the fraction).
_SEND = f"""
if ARGV[3] ~= '' then
  redis.call('HINCRBY', KEYS[4], 'accepted', 1)
  redis.call('HSET', KEYS[5], ARGV[3], ARGV[4] .. '|' .. ARGV[1])
end
local copies = 1
local duplicate = redis.call('GET', KEYS[6])
if duplicate and tonumber(ARGV[5]) < tonumber(duplicate) then copies = 2 end
if ARGV[6] == '1' then
  for _ = 1, 4 do
    local token = redis.call('LPOP', KEYS[7])
    if not token then break end
    local worker = string.match(token, '{keys.HANDOFF_TOKEN_WORKER}')
    if worker and redis.call('HEXISTS', KEYS[2], worker) == 1 then
      redis.call('LPUSH', ARGV[2] .. token, ARGV[1])
      return worker
    end
  end
end
for _ = 1, 4 do
  local worker = redis.call('LPOP', KEYS[1])
  if not worker then break end
  if redis.call('HEXISTS', KEYS[2], worker) == 1 then
    for _ = 1, copies do redis.call('LPUSH', ARGV[2] .. worker, ARGV[1]) end
    return worker
  end
end
for _ = 1, copies do redis.call('LPUSH', KEYS[3], ARGV[1]) end
return false
"""
# Claim what is due (up to CLAIM_LIMIT), and say when the next one left is due.
_CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {due, first[2] or false}
"""
CLAIM_LIMIT = 200
# A claimed message that was not sent within this long is sent again by another worker.
CLAIM_SECONDS = 30


class Dispatcher:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._send = redis.register_script(_SEND)
        self._claim = redis.register_script(_CLAIM_DUE)
        self._group: _GroupSend | None = None
        # When the next delayed invocation is due (epoch seconds), as `send_due` last saw it;
        # `scheduled` is set when this process delays one (a waiting `send_due` loop wakes).
        self.due_at = 0.0
        self.scheduled = threading.Event()

    def send(self, request: InvocationRequest, new_hop: bool = True) -> bool:
        """Queue an invocation for a warm worker, else the next free one. A new hop (not a
        retry) gets its PRODUCER span; False when Lambda's recursion limit stopped it."""
        queued = self._prepare(request, new_hop)
        if queued is None:
            return False
        self._send(keys=queued[0], args=queued[1])
        return True

    async def send_async(self, request: InvocationRequest, redis: AsyncRedis) -> bool:
        """`send` from an event loop: the requests of every coroutine sending at the same time
        leave in one pipeline (a group commit), and the loop is never blocked on Redis."""
        queued = self._prepare(request, True)
        if queued is None:
            return False
        if self._group is None or self._group.redis is not redis:
            self._group = _GroupSend(redis)
        await self._group.send(*queued)
        return True

    def _prepare(self, request: InvocationRequest,
                 new_hop: bool) -> tuple[list[str], list[Any]] | None:
        """The keys and arguments of the send script for `request`; None when its recursion
        was stopped (and said so)."""
        request.enqueued = time.time()
        function = request.function
        if new_hop:
            header = dispatch_context(function.name, function.arn, request.trace_header,
                                      enforce_recursion=not request.is_sync)
            if header is None:
                self._recursion_stopped(request)
                return None
            request.trace_header = header
        shared = keys.QUEUE_SYNC if request.is_sync else keys.QUEUE_ASYNC
        message = task_message(INVOKE_TASK, request.attempt_id,
                               [request.model_dump(mode="json")], shared, f"({function.name})")
        accepted = request.request_id if new_hop and not request.is_sync else ""
        return ([keys.warm(function.name, function.environment_key), keys.WORKERS, shared,
                 keys.ledger(function.name), keys.in_flight(function.name),
                 keys.CHAOS_DUPLICATE, keys.handoffs(function.name, function.environment_key)],
                [message, keys.worker_queue(""), accepted, request.enqueued,
                 random.random() if not request.is_sync else 1.0,
                 "1" if request.is_sync else ""])

    def _recursion_stopped(self, request: InvocationRequest) -> None:
        """Lambda's loop detection: the event is dropped, and says so in the logs."""
        name = request.function.name
        text = (f"RECURSION RequestId: {request.request_id} Lambda stopped a recursive "
                f"invocation of {name}: it was invoked {RECURSION_LIMIT} times in one chain "
                f"({request.trace_header or 'new trace'}). "
                f"Event: {request.payload[:256].decode('utf-8', 'replace')}\n")
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(keys.counters(name), "recursion_stopped", 1)
        if not request.is_sync:  # accepted (202, as on Lambda) and settled at once
            pipe.hincrby(keys.ledger(name), "accepted", 1)
            pipe.hincrby(keys.ledger(name), "stopped", 1)
        pipe.xadd(keys.logs(name), {"request_id": request.request_id, "text": text},
                  maxlen=10_000, approximate=True)
        pipe.execute()
        log.warning("stopped a recursive invocation of %s", name)

    def send_later(self, request: InvocationRequest, delay_seconds: float) -> None:
        """Queue an invocation after a (simulated-clock) delay; survives restarts."""
        self.redis.zadd(keys.DELAYED, {request.model_dump_json(): time.time() + delay_seconds})
        self.scheduled.set()

    def send_due(self) -> int:
        """Move delayed invocations whose time has come onto the queues (at most CLAIM_LIMIT);
        returns how many."""
        now = time.time()
        due, next_at = self._claim(keys=[keys.DELAYED], args=[now, now + CLAIM_SECONDS,
                                                               CLAIM_LIMIT])
        self.due_at = float(next_at) if next_at else math.inf
        for member in due:  # retries and throttled events: the same hop, another attempt
            self.send(InvocationRequest.model_validate_json(member), new_hop=False)
            self.redis.zrem(keys.DELAYED, member)
        return len(due)


class _GroupSend:
    """Runs the send script for many coroutines in one pipeline: while one pipeline is on its
    way, the sends that arrive wait for the next, so under load one round trip carries many
    and alone a send waits for nothing. The pipelines leave from a task of their own, so a
    caller that goes away (its request cancelled) strands no one else's send. EVAL, not
    EVALSHA: a Redis that restarted (and forgot its scripts) needs no second try."""

    def __init__(self, redis: AsyncRedis) -> None:
        self.redis = redis
        self._waiting: list[tuple[list[str], list[Any], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def send(self, names: list[str], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((names, args, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            pipe = self.redis.pipeline(transaction=False)
            for names, args, _ in batch:
                pipe.eval(_SEND, len(names), *names, *args)
            try:
                results = await pipe.execute(raise_on_error=False)
            except Exception as error:  # Redis away: every send of the batch fails
                results = [error] * len(batch)
            for (_, _, future), result in zip(batch, results, strict=True):
                if future.done():  # its caller went away
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
