"""The delivery ledger: every async event accepted, and what became of it.

Lambda promises at-least-once delivery for async events; the ledger checks it. Per function:

    accepted = succeeded + failed (to a destination or the dead-letter list) + expired
               + stopped (Lambda's recursion stop) + in flight

`accepted` and the in-flight entry are written by the same Lua call that queues the event
(`Dispatcher.send`); an outcome settles the entry in the pipeline that writes the invocation's
record, before its message is acknowledged. An event settled twice (redelivered after a worker
died, or duplicated on purpose by `ripple chaos`) counts once, and once in `duplicates`. An event
in flight that is neither queued, delayed nor delivered to a worker is named as lost.

The in-flight entry keeps the event's task message, so a lost event is also recoverable:
`recover` queues it again. That closes the one window kombu's Redis transport leaves open —
a worker pops a message, then Redis or the worker dies before kombu records it as unacked.
"""

from __future__ import annotations

import json
import time
from typing import Any

from redis import Redis
from redis.client import Pipeline

from orchestrator import keys

OUTCOMES = ("succeeded", "failed", "expired", "stopped")
# An event accepted this recently may still be on its way into a queue.
SETTLING_SECONDS = 10.0
# Only events in flight this long are looked for by `recover` (a queue scan is not free).
RECOVER_AFTER_SECONDS = 15.0
_SETTLE = """
if redis.call('HDEL', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
else
  redis.call('HINCRBY', KEYS[1], 'duplicates', 1)
end
"""


class Ledger:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def settle(self, pipe: Pipeline | Redis, function: str, request_id: str,
               outcome: str) -> None:
        """Record an accepted event's outcome (one of OUTCOMES), in `pipe`. EVAL, not a
        registered script: redis-py checks a pipeline's scripts with SCRIPT EXISTS first, a
        second round trip per invocation."""
        pipe.eval(_SETTLE, 2, keys.ledger(function), keys.in_flight(function), request_id,
                  outcome)

    def report(self) -> dict[str, dict[str, Any]]:
        """Per function: the counts, whether they reconcile, and the events lost."""
        names = sorted(_text(key).rsplit(":", 1)[1] for key in
                       self.redis.scan_iter(match=keys.ledger("*"), count=1000))
        where = self._where() if names else set()
        now = time.time()
        report: dict[str, dict[str, Any]] = {}
        for name in names:
            raw: dict[bytes, bytes] = self.redis.hgetall(keys.ledger(name))  # type: ignore[assignment]
            counts = {field.decode(): int(value) for field, value in raw.items()}
            in_flight: dict[bytes, bytes] = self.redis.hgetall(  # type: ignore[assignment]
                keys.in_flight(name))
            entry: dict[str, Any] = {"accepted": counts.get("accepted", 0),
                                     **{outcome: counts.get(outcome, 0) for outcome in OUTCOMES},
                                     "in_flight": len(in_flight),
                                     "duplicates": counts.get("duplicates", 0)}
            entry["lost"] = sorted(request_id.decode() for request_id, value in in_flight.items()
                                   if request_id.decode() not in where
                                   and now - _since(value) > SETTLING_SECONDS)
            settled = sum(entry[outcome] for outcome in OUTCOMES)
            entry["reconciles"] = (entry["accepted"] == settled + entry["in_flight"]
                                   and not entry["lost"])
            report[name] = entry
        return report

    def recover(self) -> int:
        """Queue again every event in flight for a while that is nowhere (not queued, delayed
        nor delivered); returns how many. Safe to run from any number of workers at once: only
        the one that takes the sweep's lock looks."""
        if not self.redis.set(keys.LEDGER_SWEEP, "1", nx=True, ex=int(RECOVER_AFTER_SECONDS)):
            return 0
        now = time.time()
        candidates: list[tuple[str, bytes]] = []
        for key in self.redis.scan_iter(match=keys.in_flight("*"), count=1000):
            for request_id, value in self.redis.hscan_iter(key, count=1000):
                if now - _since(value) > RECOVER_AFTER_SECONDS:
                    candidates.append((_text(request_id), value))
        if not candidates:
            return 0
        where = self._where()
        recovered = 0
        for request_id, value in candidates:
            if request_id in where:
                continue
            message = value.split(b"|", 1)[1]
            queue = json.loads(message)["properties"]["delivery_info"]["routing_key"]
            self.redis.rpush(queue, message)  # the head: it has waited long enough
            recovered += 1
        return recovered

    def _where(self) -> set[str]:
        """Request ids queued, delayed, or delivered and not yet acknowledged (running)."""
        found: set[str] = set()
        queues = [keys.QUEUE_SYNC, keys.QUEUE_ASYNC,
                  *(_text(key) for key in self.redis.scan_iter(match=keys.worker_queue("*")))]
        queued: list[bytes] = []
        for queue in queues:
            queued += self.redis.lrange(queue, 0, -1)  # type: ignore[arg-type]
        delayed: list[bytes] = self.redis.zrange(keys.DELAYED, 0, -1)  # type: ignore[assignment]
        running: list[bytes] = self.redis.hvals("unacked")  # type: ignore[assignment]
        found.update(_request_id(json.loads(raw)) for raw in queued)
        found.update(json.loads(raw)["request_id"] for raw in delayed)
        found.update(_request_id(json.loads(raw)[0]) for raw in running)
        return found


def _request_id(envelope: dict[str, Any]) -> str:
    """The request id in a task message: its Celery id is `request_id:attempt`."""
    return str(envelope.get("headers", {}).get("id", "")).rsplit(":", 1)[0]


def _since(value: bytes) -> float:
    """When an in-flight entry (`time|task message`) was accepted."""
    return float(value.split(b"|", 1)[0])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
