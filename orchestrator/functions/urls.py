"""Function URLs (CreateFunctionUrlConfig): an id that names a function (or one of its
aliases) on ripple's endpoint, where HTTP requests reach it as payload 2.0 events."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from redis import Redis

from orchestrator import keys


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FunctionUrl(BaseModel):
    url_id: str = Field(default_factory=lambda: secrets.token_hex(16))  # 32 characters
    function: str
    qualifier: str = "$LATEST"
    auth_type: str = "NONE"  # AWS_IAM is recorded, not enforced
    cors: dict[str, Any] = Field(default_factory=dict)
    invoke_mode: str = "BUFFERED"
    created: str = Field(default_factory=_now)
    modified: str = Field(default_factory=_now)

    def touched(self) -> FunctionUrl:
        return self.model_copy(update={"modified": _now()})


class FunctionUrls:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def put(self, url: FunctionUrl) -> None:
        self.redis.hset(keys.FUNCTION_URLS, url.url_id, url.model_dump_json())

    def by_id(self, url_id: str) -> FunctionUrl | None:
        raw = self.redis.hget(keys.FUNCTION_URLS, url_id)
        return FunctionUrl.model_validate_json(raw) if raw is not None else None

    def of(self, function: str, qualifier: str) -> FunctionUrl | None:
        return next((url for url in self.all()
                     if url.function == function and url.qualifier == qualifier), None)

    def all(self) -> list[FunctionUrl]:
        raw = self.redis.hgetall(keys.FUNCTION_URLS)
        return [FunctionUrl.model_validate_json(value) for value in raw.values()]

    def delete(self, url_id: str) -> bool:
        return bool(self.redis.hdel(keys.FUNCTION_URLS, url_id))

    def forget_function(self, function: str) -> None:
        for url in self.all():
            if url.function == function:
                self.delete(url.url_id)
