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
from orchestrator.functions import FunctionConfig

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


class ConcurrencyLimiter:
    def __init__(self, redis: Redis, account_limit: int) -> None:
        self.redis = redis
        self.account_limit = account_limit
        self._acquire = redis.register_script(_ACQUIRE)

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
