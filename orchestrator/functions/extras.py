"""What the Lambda API keeps beside a function's configuration: its tags, its resource policy
and what its event invoke configuration was given (destination ARN, time). None of it changes
the code that runs, so none of it is part of the FunctionConfig (whose revision keys the
execution environments)."""

from __future__ import annotations

import json
from typing import Any

from redis import Redis

from orchestrator import keys


class FunctionExtras:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def get(self, function: str, name: str) -> Any:
        """The value stored under `name` (`tags`, `url`, …), or None."""
        raw = self.redis.hget(keys.function_extras(function), name)
        return json.loads(raw) if raw is not None else None

    def put(self, function: str, name: str, value: Any) -> None:
        self.redis.hset(keys.function_extras(function), name, json.dumps(value))

    def delete(self, function: str, name: str) -> bool:
        return bool(self.redis.hdel(keys.function_extras(function), name))

    def forget(self, function: str) -> None:
        self.redis.delete(keys.function_extras(function))

    def tags(self, function: str) -> dict[str, str]:
        return self.get(function, "tags") or {}  # type: ignore[no-any-return]
