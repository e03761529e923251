"""Event source mappings made through Lambda's API (CreateEventSourceMapping): DynamoDB
streams read by a function, kept under their UUID.

They become the same StreamMapping objects a spec's `events: - dynamodb:` trigger declares
(`workers/streams/mapping.py` reads both), so the workers' pollers pick them up alike; the
spec's own triggers are listed beside them under a UUID derived from their place in the spec.
"""

from __future__ import annotations

import time
import uuid

from pydantic import BaseModel
from redis import Redis

from orchestrator import keys

# Names the UUIDs of mappings a spec declares: the same trigger keeps the same UUID.
SPEC_MAPPINGS = uuid.UUID("6f1c1f7e-3c8e-4a53-9b3e-2f2b5b8f5a10")


class EventSourceMapping(BaseModel):
    """One stream read by one function; the options are StreamMapping's, by the same names."""

    uuid: str
    function: str
    qualifier: str = "$LATEST"
    table: str
    stream_arn: str
    enabled: bool = True
    batch_size: int = 100
    batching_window: int = 0
    starting_position: str = "LATEST"
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    bisect_batch_on_function_error: bool = False
    report_batch_item_failures: bool = False
    parallelization_factor: int = 1
    on_failure: str | None = None  # a function's name, or ripple's dead-letter list
    on_failure_arn: str = ""  # the destination as it was given
    created_ms: int = 0  # a LATEST starting position reads records written after this
    last_modified: float = 0.0
    declared: bool = False  # by a spec's trigger: change the spec, not the API

    def poller_options(self) -> dict[str, object]:
        """The fields a StreamMapping takes."""
        return self.model_dump(include={
            "batch_size", "batching_window", "starting_position", "maximum_retry_attempts",
            "maximum_record_age", "bisect_batch_on_function_error",
            "report_batch_item_failures", "on_failure"})


def spec_uuid(mapping_id: str) -> str:
    """The UUID the Lambda API shows for a spec's trigger (`function:table:index`)."""
    return str(uuid.uuid5(SPEC_MAPPINGS, mapping_id))


class EventSourceMappings:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def create(self, mapping: EventSourceMapping) -> EventSourceMapping:
        now = time.time()
        mapping = mapping.model_copy(update={
            "uuid": str(uuid.uuid4()), "created_ms": int(now * 1000), "last_modified": now})
        self.put(mapping)
        return mapping

    def put(self, mapping: EventSourceMapping) -> None:
        self.redis.hset(keys.EVENT_SOURCE_MAPPINGS, mapping.uuid, mapping.model_dump_json())

    def get(self, mapping_uuid: str) -> EventSourceMapping | None:
        raw = self.redis.hget(keys.EVENT_SOURCE_MAPPINGS, mapping_uuid)
        return EventSourceMapping.model_validate_json(raw) if raw is not None else None

    def all(self) -> list[EventSourceMapping]:
        raw = self.redis.hgetall(keys.EVENT_SOURCE_MAPPINGS)
        found = [EventSourceMapping.model_validate_json(value) for value in raw.values()]
        return sorted(found, key=lambda mapping: (mapping.created_ms, mapping.uuid))

    def delete(self, mapping_uuid: str) -> bool:
        return bool(self.redis.hdel(keys.EVENT_SOURCE_MAPPINGS, mapping_uuid))

    def forget_function(self, function: str) -> None:
        """Every mapping of a deleted function."""
        for mapping in self.all():
            if mapping.function == function:
                self.delete(mapping.uuid)
