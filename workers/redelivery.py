"""Messages a dead worker held, given back within seconds instead of after kombu's visibility
timeout (an hour).

kombu's Redis transport keeps every delivered, unacknowledged message in the `unacked` hash
(and its delivery time in `unacked_index`) and restores it only when it is older than the
visibility timeout, 3,600 s here because a function may run 900 s. So instead each live worker
says, with every heartbeat, which delivery tags it holds (`keys.held`), and any worker's
housekeeping gives back to its queue every message that has been unacknowledged for a few
seconds and that no live worker holds: its worker died (kill -9, OOM) or stopped beating
(paused). A message given back is run again (at-least-once: the ledger counts duplicates).
"""

from __future__ import annotations

import json
import logging
import time

from redis import Redis

from orchestrator import keys

log = logging.getLogger("ripple.worker")

UNACKED = "unacked"  # kombu's Redis transport's names (Channel.unacked_key, unacked_index_key)
UNACKED_INDEX = "unacked_index"
# A worker that has not beaten for this long is dead; its messages are given back.
DEAD_AFTER_SECONDS = 5.0
# A message delivered this recently may not be in its worker's held set yet.
GRACE_SECONDS = 5.0
HELD_TTL_SECONDS = 60
_GIVE_BACK = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('RPUSH', KEYS[3], ARGV[2])
  return 1
end
return 0
"""


def held_tags() -> list[str]:
    """The delivery tags this worker process has taken and not yet acknowledged."""
    from celery.worker import state

    requests = list(state.active_requests) + list(state.reserved_requests)
    return [str(request.message.delivery_tag) for request in requests
            if getattr(request, "message", None) is not None]


def beat(redis: Redis, worker_id: str, tags: list[str]) -> None:
    """The heartbeat, with the tags this worker holds, in one round trip."""
    pipe = redis.pipeline(transaction=True)
    pipe.hset(keys.WORKERS, worker_id, time.time())
    pipe.delete(keys.held(worker_id))
    if tags:
        pipe.sadd(keys.held(worker_id), *tags)
        pipe.expire(keys.held(worker_id), HELD_TTL_SECONDS)
    pipe.execute()


class Redelivery:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._give_back = redis.register_script(_GIVE_BACK)

    def stranded(self, now: float | None = None) -> list[str]:
        """Tags unacknowledged for longer than the grace that no live worker holds."""
        now = time.time() if now is None else now
        old: list[bytes] = self.redis.zrangebyscore(  # type: ignore[assignment]
            UNACKED_INDEX, "-inf", now - GRACE_SECONDS)
        if not old:
            return []
        live: set[bytes] = set()
        beats: dict[bytes, bytes] = self.redis.hgetall(keys.WORKERS)  # type: ignore[assignment]
        for worker, seen in beats.items():
            if now - float(seen) < DEAD_AFTER_SECONDS:
                live |= self.redis.smembers(keys.held(worker.decode()))  # type: ignore[arg-type]
        return [tag.decode() for tag in old if tag not in live]

    def give_back(self, now: float | None = None) -> int:
        """Put every stranded message back at the head of its queue; returns how many."""
        given = 0
        for tag in self.stranded(now):
            raw = self.redis.hget(UNACKED, tag)
            if raw is None:  # acknowledged meanwhile
                self.redis.zrem(UNACKED_INDEX, tag)
                continue
            message, _exchange, routing_key = json.loads(raw)
            given += int(self._give_back(keys=[UNACKED, UNACKED_INDEX, routing_key],
                                         args=[tag, json.dumps(message)]))
        if given:
            log.warning("gave back %d message(s) held by workers that stopped", given)
        return given
