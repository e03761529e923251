"""Deployed functions and their code, stored in Redis so every worker on every machine sees them."""

from __future__ import annotations

from redis import Redis

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig

COUNTERS = ("invocations", "errors", "throttles", "cold_starts", "recursion_stopped")


class Registry:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def put_code(self, sha256: str, blob: bytes) -> None:
        """Store a code archive under its hash; uploading the same code twice is free."""
        self.redis.set(keys.code(sha256), blob, nx=True)

    def has_code(self, sha256: str) -> bool:
        return bool(self.redis.exists(keys.code(sha256)))

    def get_code(self, sha256: str) -> bytes | None:
        blob = self.redis.get(keys.code(sha256))
        return blob if isinstance(blob, bytes) else None

    def put(self, function: FunctionConfig) -> bool:
        """Register (or replace) a function; True when its code or configuration changed."""
        function.revision = function.compute_revision()
        previous = self.get(function.name)
        self.redis.hset(keys.FUNCTIONS, function.name, function.model_dump_json())
        self.redis.publish(keys.FUNCTIONS_CHANGED, function.name)
        return previous is None or previous.version != function.version

    def get(self, name: str) -> FunctionConfig | None:
        raw = self.redis.hget(keys.FUNCTIONS, name)
        return FunctionConfig.model_validate_json(raw) if raw is not None else None

    def all(self) -> list[FunctionConfig]:
        raw = self.redis.hgetall(keys.FUNCTIONS)
        functions = [FunctionConfig.model_validate_json(value) for value in raw.values()]
        return sorted(functions, key=lambda function: function.name)

    def delete(self, name: str) -> bool:
        removed = self.redis.hdel(keys.FUNCTIONS, name)
        self.redis.delete(keys.counters(name), keys.logs(name))
        self.redis.publish(keys.FUNCTIONS_CHANGED, name)
        return bool(removed)

    def counters(self, name: str) -> dict[str, int]:
        raw = self.redis.hgetall(keys.counters(name))
        values = {key.decode() if isinstance(key, bytes) else key: int(value)
                  for key, value in raw.items()}
        return {counter: values.get(counter, 0) for counter in COUNTERS}
