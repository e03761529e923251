"""Draining deep queues without paying Celery's per-message cost for every event.

Celery spends about 1 ms of worker CPU on each message: a BRPOP, kombu's unacked bookkeeping
(a MULTI/EXEC), its request and tracer objects, a hand-off to a pool thread, and the ack (another
MULTI/EXEC). When a handler was fast and the queues hold more, the task takes the next message
itself, in the same Redis round trip that writes the current event's outcome and acknowledges
it, and runs it in the same thread and the same warm environment: one round trip per event.

Every event keeps its own message and its own entry in kombu's unacked hash (written by the Lua
call that pops it, in kombu's format), so delivery stays at-least-once per event exactly as for
Celery's own deliveries: the tags a worker holds go out with its heartbeat (`held_tags`), a
killed worker's are given back by `workers.redelivery`, and a crash runs again only the events
not yet acknowledged. Each event still goes through every middleware on its own: retried,
dead-lettered, logged, traced, counted and settled in the ledger.

Taking stops when a handler ran longer than `FAST_MS` (a slow handler gains nothing from it, and
other workers' slots should share its queue), after `MAX_EVENTS` or `MAX_SECONDS`, when the
queues stay empty, or when the worker is asked to stop (a warm shutdown finishes what it holds).
"Stay empty": after an async event the worker waits up to `WAIT_SECONDS` on its own queue, where
the endpoint sends the next event for the environment it just advertised as warm. Under a steady
stream the next event comes within that moment, and waiting costs nothing, where going back to
Celery costs a delivery; a sync event that reached the shared queue meanwhile waits at most that
long (another idle worker's Celery takes it at once).

After a sync event the caller is answered, and usually sends its next request only then. Waiting
on the own queue would not catch it: Celery's consumer, listening there since before, would.
So the thread offers itself instead: in the round trip that answers the caller, when the queues
are empty, it puts its token on the function version's hand-off list; the dispatcher hands the
next sync event for that version to the first live token (pop and push in one script), onto a
queue only that thread reads. The thread waits up to `WAIT_SECONDS`, then takes what came or
withdraws its offer; a sequential caller's next request skips Celery's delivery (measured: warm
sync p50 3.2 to 2.4 ms on this project's 2-core VM). An offer whose claim failed (Redis away) is
settled by housekeeping (`give_back_stranded`), and a dead worker's hand-off queues go back to
the shared sync queue with its own queue.
"""

from __future__ import annotations

import base64
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from redis import Redis, RedisError
from redis.client import Pipeline

from orchestrator import keys
from orchestrator.invocations.dispatch import INVOKE_TASK
from workers.invoker import Invoker, Undelivered
from workers.middleware import InvocationContext

log = logging.getLogger("ripple.worker")

UNACKED = "unacked"  # kombu's Redis transport's names (Channel.unacked_key, unacked_index_key)
UNACKED_INDEX = "unacked_index"
FAST_MS = 20.0  # a handler at least this slow is run one message at a time
MAX_EVENTS = 200  # taken after one Celery message, before going back to Celery's loop
MAX_SECONDS = 1.0
WAIT_SECONDS = 0.01  # after an async event, for the next one, before going back to Celery
# Pop the first message of the first non-empty queue (KEYS[first..]) and record it as delivered
# and unacknowledged, as kombu's QoS.append does: value [message, exchange, routing key], by tag.
# A message that is not a ripple invocation goes back to the head of its queue, for Celery.
_TAKE_FROM = """
local function take(first)
  for i = first, #KEYS do
    local raw = redis.call('RPOP', KEYS[i])
    if raw then
      local ok, envelope = pcall(cjson.decode, raw)
      local properties = ok and type(envelope) == 'table' and envelope['properties']
      local headers = ok and type(envelope) == 'table' and envelope['headers']
      if type(properties) ~= 'table' or type(headers) ~= 'table'
          or headers['task'] ~= ARGV[2] or type(properties['delivery_tag']) ~= 'string'
          or type(properties['delivery_info']) ~= 'table' then
        redis.call('RPUSH', KEYS[i], raw)
        return false
      end
      local info = properties['delivery_info']
      local tag = properties['delivery_tag']
      redis.call('HSET', KEYS[1], tag, '[' .. raw .. ',' .. cjson.encode(info['exchange'] or '')
                 .. ',' .. cjson.encode(info['routing_key']) .. ']')
      redis.call('ZADD', KEYS[2], ARGV[1], tag)
      return raw
    end
  end
  return false
end
"""
_TAKE = _TAKE_FROM + "return take(3)"
# After a sync event: take the queues' next (KEYS[4..]) or, when they are empty, offer this
# thread for a hand-off (push its token, ARGV[3], onto the function version's list, KEYS[3]).
_TAKE_OR_OFFER = _TAKE_FROM + """
local raw = take(4)
if raw then return raw end
redis.call('LPUSH', KEYS[3], ARGV[3])
redis.call('EXPIRE', KEYS[3], 600)
return false
"""
# The wait is over: take what was handed over (KEYS[4]), else withdraw the offer. The
# dispatcher pops a token and pushes its message in one script, so when the token is gone the
# message is there.
_CLAIM = _TAKE_FROM + """
local raw = take(4)
if raw then return raw end
redis.call('LREM', KEYS[3], 1, ARGV[3])
return false
"""

# Withdraw an offer (ARGV[1], from KEYS[1]) and move what was handed to it (KEYS[2]) to KEYS[3].
_GIVE_BACK = """
redis.call('LREM', KEYS[1], 1, ARGV[1])
local moved = 0
while redis.call('LMOVE', KEYS[2], KEYS[3], 'RIGHT', 'LEFT') do moved = moved + 1 end
return moved
"""

# Tags of the messages this process took itself and has not acknowledged yet.
_held: set[str] = set()
_held_lock = threading.Lock()
# Offers whose claim failed, by token (the list it is on): `give_back_stranded` settles them.
_stranded: dict[str, str] = {}
_stranded_lock = threading.Lock()


def taken_tags() -> list[str]:
    """The delivery tags this process took itself and still holds (for its heartbeat)."""
    with _held_lock:
        return list(_held)


def _hold(tag: str) -> None:
    with _held_lock:
        _held.add(tag)


def _release(tag: str) -> None:
    with _held_lock:
        _held.discard(tag)


def celery_tag(task_id: str) -> str | None:
    """The delivery tag of the Celery message this process is running as task `task_id`."""
    from celery.worker import state

    for request in list(state.active_requests):
        if request.id == task_id and getattr(request, "message", None) is not None:
            return str(request.message.delivery_tag)
    return None


def _stopping() -> bool:
    from celery.worker import state

    return bool(state.should_stop or state.should_terminate)


def _task_args(envelope: dict[str, Any]) -> dict[str, Any]:
    """The invocation message inside a task message (protocol 2, base64 JSON body)."""
    args, _kwargs, _embed = orjson.loads(base64.b64decode(envelope["body"]))
    return dict(args[0])


def _tag(envelope: dict[str, Any]) -> str:
    return str(envelope["properties"]["delivery_tag"])


class Drain:
    """Runs a Celery message's invocation, then the queues' next ones while handlers are fast."""

    def __init__(self, redis: Redis, invoker: Invoker, queues: list[str],
                 worker_id: str | None = None) -> None:
        self.redis = redis
        self.invoker = invoker
        self.queues = queues  # where to take from, in order (this worker's own queue first)
        self.worker_id = worker_id  # None: no hand-offs, a sync event goes back to Celery
        self._slots = itertools.count()
        self._thread = threading.local()  # its slot, and the offer it has out

    def run(self, message: dict[str, Any], tag: str | None) -> int:
        """Invoke `message` (Celery's delivery, acknowledged here too once its outcome is
        written, so a crash later does not run it again), then as many taken ones as stay
        fast; how many were taken. Raises Undelivered when Celery's own message could not be
        written: Celery gives it back."""
        deadline = time.monotonic() + MAX_SECONDS
        taken = 0
        try:
            ctx = self.invoker.handle(message, self._finish(tag, not _stopping()))
            while (raw := self._next(ctx)) is not None:
                taken += 1
                envelope = orjson.loads(raw)
                tag = _tag(envelope)
                _hold(tag)
                more = taken < MAX_EVENTS and time.monotonic() < deadline and not _stopping()
                try:
                    ctx = self.invoker.handle(_task_args(envelope), self._finish(tag, more))
                except Undelivered:
                    log.warning("a taken invocation's outcome could not be written; it is "
                                "given back to its queue")
                    return taken
                except Exception:
                    log.exception("a taken invocation failed in ripple; it is given back")
                    return taken
                finally:
                    _release(tag)  # acknowledged, or left for the give-back sweep
            return taken
        finally:
            offer = getattr(self._thread, "offer", None)
            if offer is not None:  # the round trip that made it, or the claim, failed
                self._thread.offer = None
                with _stranded_lock:
                    _stranded[offer[1]] = offer[0]

    def _finish(self, tag: str | None, more: bool) -> Callable[[InvocationContext], None]:
        """What the invocation's own round trip also carries: its ack, and the next take."""
        def finish(ctx: InvocationContext) -> None:
            if tag is not None:
                ack(ctx.pipe, tag)
            if more and _fast(ctx):
                if ctx.request.is_sync and self.worker_id is not None:
                    self._offer(ctx)
                else:
                    self._take(ctx.pipe)
                ctx.extras["takes"] = True
        return finish

    def _next(self, ctx: InvocationContext) -> bytes | None:
        if not ctx.extras.get("takes") or not ctx.results:
            return None
        raw = ctx.results[-1]
        offer = getattr(self._thread, "offer", None)
        if isinstance(raw, bytes):
            self._thread.offer = None  # taken from the queues: the offer was not made
            return raw
        if offer is not None:
            return self._handed(*offer)
        if ctx.request.is_sync:
            return None
        # BLMOVE onto the same end of the same list: waits for a message, moves none. (redis-py
        # annotates the timeout as int; Redis takes seconds with decimals.)
        own = self.queues[0]
        try:
            waited = self.redis.blmove(own, own, WAIT_SECONDS,  # type: ignore[arg-type]
                                       "RIGHT", "RIGHT")
            if waited is None:
                return None
            raw = self._take(self.redis)
        except RedisError:  # back to Celery, which waits for Redis
            return None
        return raw if isinstance(raw, bytes) else None

    def _offer(self, ctx: InvocationContext) -> None:
        """In `ctx`'s round trip: take the queues' next event, or offer this thread for the
        function version's next sync event (a caller waits on it, so it is handed over)."""
        slot = getattr(self._thread, "slot", None)
        if slot is None:
            slot = self._thread.slot = next(self._slots)
        assert self.worker_id is not None
        function = ctx.request.function
        offer = (keys.handoffs(function.name, function.environment_key),
                 keys.handoff_token(self.worker_id, slot))
        self._thread.offer = offer
        ctx.pipe.eval(_TAKE_OR_OFFER, 3 + len(self.queues), UNACKED, UNACKED_INDEX, offer[0],
                      *self.queues, time.time(), INVOKE_TASK, offer[1])

    def _handed(self, offers: str, token: str) -> bytes | None:
        """Wait up to `WAIT_SECONDS` for a hand-off, then take it or withdraw the offer."""
        queue = keys.handoff_queue(token)
        try:
            self.redis.blmove(queue, queue, WAIT_SECONDS,  # type: ignore[arg-type]
                              "RIGHT", "RIGHT")
            raw = self.redis.eval(_CLAIM, 4, UNACKED, UNACKED_INDEX, offers, queue, time.time(),
                                  INVOKE_TASK, token)
        except RedisError:  # left for `give_back_stranded`; back to Celery
            return None
        self._thread.offer = None
        return raw if isinstance(raw, bytes) else None

    def _take(self, client: Redis | Pipeline) -> Any:
        """Pop the queues' next invocation and hold it as unacknowledged (at once, or in the
        round trip of `client` when it is a pipeline)."""
        return client.eval(_TAKE, 2 + len(self.queues), UNACKED, UNACKED_INDEX, *self.queues,
                           time.time(), INVOKE_TASK)


def give_back_stranded(redis: Redis) -> int:
    """Withdraw the offers whose claim failed (Redis away), and give what was handed over to
    them back to the shared sync queue; how many events were given back."""
    with _stranded_lock:
        stranded = list(_stranded.items())
    given = 0
    for token, offers in stranded:
        given += int(redis.eval(_GIVE_BACK, 3, offers, keys.handoff_queue(token),
                                keys.QUEUE_SYNC, token))
        with _stranded_lock:
            if _stranded.get(token) == offers:
                del _stranded[token]
    return given


def ack(pipe: Pipeline, tag: str) -> None:
    """Acknowledge a delivered message in `pipe`, as kombu's QoS.ack does."""
    pipe.zrem(UNACKED_INDEX, tag)
    pipe.hdel(UNACKED, tag)


def _fast(ctx: InvocationContext) -> bool:
    return ctx.outcome is None or ctx.outcome.duration_ms < FAST_MS
