"""Lambda's concurrency limits as leases in Redis: per function (reserved) and per account.

A lease is a member of a sorted set scored by its expiry, so a slot held by a worker that died
frees itself once the lease runs out instead of throttling the function forever.
"""

from __future__ import annotations

import time
from enum import Enum

from redis import Redis
from redis.client import Pipeline

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig

_ACQUIRE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local function_limit = tonumber(ARGV[4])
if function_limit >= 0 and redis.call('ZCARD', KEYS[1]) >= function_limit then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 2 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 0
"""


class Admission(Enum):
    ADMITTED = 0
    FUNCTION_LIMIT = 1  # ReservedFunctionConcurrentInvocationLimitExceeded
    ACCOUNT_LIMIT = 2  # ConcurrentInvocationLimitExceeded


# How long a reading of the workers' total slots is trusted.
SLOTS_TTL_SECONDS = 2.0


class ConcurrencyLimiter:
    def __init__(self, redis: Redis, account_limit: int) -> None:
        self.redis = redis
        self.account_limit = account_limit
        self._acquire = redis.register_script(_ACQUIRE)
        self._slots = (0, 0.0)  # (total worker slots, when read)

    def needs_lease(self, function: FunctionConfig) -> bool:
        """False when no limit can bind: no reserved concurrency, and all workers' slots
        together cannot run more than the account limit at once. Saves a round trip."""
        if function.reserved_concurrency is not None:
            return True
        total, read_at = self._slots
        if time.monotonic() - read_at > SLOTS_TTL_SECONDS:
            total = sum(int(slots) for slots in self.redis.hvals(keys.WORKER_SLOTS))
            self._slots = (total, time.monotonic())
        return total > self.account_limit

    def acquire(self, function: FunctionConfig, lease_id: str, hold_seconds: float) -> Admission:
        """Take one slot for `lease_id`, held at most `hold_seconds` unless released first."""
        now = time.time()
        limit = -1 if function.reserved_concurrency is None else function.reserved_concurrency
        result = self._acquire(
            keys=[keys.concurrency(function.name), keys.ACCOUNT_CONCURRENCY],
            args=[now, now + hold_seconds, lease_id, limit, self.account_limit],
        )
        return Admission(int(result))

    @staticmethod
    def release(pipe: Pipeline | Redis, function_name: str, lease_id: str) -> None:
        pipe.zrem(keys.concurrency(function_name), lease_id)
        pipe.zrem(keys.ACCOUNT_CONCURRENCY, lease_id)

    def in_use(self, function_name: str) -> int:
        self.redis.zremrangebyscore(keys.concurrency(function_name), "-inf", time.time())
        return int(self.redis.zcard(keys.concurrency(function_name)))
