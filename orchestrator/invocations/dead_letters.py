"""The built-in dead-letter list: async events that failed every attempt, kept for replay."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from redis import Redis

from orchestrator import keys


class DeadLetters:
    def __init__(self, redis: Redis, retention: int = 10_000) -> None:
        self.redis = redis
        self.retention = retention

    def add(self, record: dict[str, Any], function: str, payload: bytes) -> str:
        """Keep a failed event (UTF-8 JSON) with Lambda's destination record; returns the
        entry id."""
        entry_id = uuid.uuid4().hex[:16]
        received = time.time()
        entry = {"id": entry_id, "function": function, "payload": payload.decode(),
                 "record": record, "received": received}
        pipe = self.redis.pipeline()
        pipe.hset(keys.DEAD_LETTERS, entry_id, json.dumps(entry))
        pipe.zadd(keys.DEAD_LETTER_ORDER, {entry_id: received})
        pipe.execute()
        self._trim()
        return entry_id

    def list(self) -> list[dict[str, Any]]:
        ids: list[bytes] = self.redis.zrange(keys.DEAD_LETTER_ORDER, 0, -1)  # type: ignore[assignment]
        if not ids:
            return []
        raw = self.redis.hmget(keys.DEAD_LETTERS, ids)
        return [json.loads(item) for item in raw if item is not None]

    def take(self, entry_id: str) -> dict[str, Any] | None:
        """Remove an entry and return it (None if another replay took it first)."""
        pipe = self.redis.pipeline()
        pipe.hget(keys.DEAD_LETTERS, entry_id)
        pipe.hdel(keys.DEAD_LETTERS, entry_id)
        pipe.zrem(keys.DEAD_LETTER_ORDER, entry_id)
        raw, removed, _ = pipe.execute()
        return json.loads(raw) if raw is not None and removed else None

    def _trim(self) -> None:
        excess = int(self.redis.zcard(keys.DEAD_LETTER_ORDER)) - self.retention
        if excess > 0:
            oldest = self.redis.zrange(keys.DEAD_LETTER_ORDER, 0, excess - 1)
            self.redis.hdel(keys.DEAD_LETTERS, *oldest)
            self.redis.zrem(keys.DEAD_LETTER_ORDER, *oldest)
