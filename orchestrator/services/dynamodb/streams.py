"""DynamoDB stream records on Redis streams, one Redis stream per shard, and the read API the
stream pollers use.

A change's shard is crc32 of its partition key's canonical JSON (`{"pk":{"S":"a"}}`, compact,
sorted) modulo SHARD_COUNT, so one item's changes stay in one shard, in order. SHARD_COUNT is
1 because DynamoDB gives a new table one shard (more appear only as its partitions split):
one poller per mapping, every change of the table in write order. A data directory written
when there were 4 shards keeps records in shards 1-3 that are no longer read.

Each entry holds `record` (the Lambda-shaped record, JSON) and `trace` (the writer's trace
context, or ""). SequenceNumber is SEQUENCE_PREFIX and then the entry id as 20 digits,
`f"1{ms:013d}{seq:07d}"`: 21 digits, increasing per shard, as DynamoDB's are 21 to 40 long
(botocore refuses a shorter one in GetShardIterator). The commit script in store.py writes
the 20 digits where `pending_record` left its sentinel, just after the prefix.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from typing import TYPE_CHECKING, Any

from redis import Redis

from orchestrator.events.dynamodb import stream_record
from orchestrator.services.dynamodb import keys
from orchestrator.services.dynamodb.types import Item, item_size

if TYPE_CHECKING:
    from orchestrator.services.dynamodb.schema import Table

SHARD_COUNT = 1
SERVICE_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
SEQUENCE_PREFIX = "1"
SHARD_PREFIX = "shardId-00000000000000000000-"


def text(value: Any) -> str:
    """A Redis reply as text, whether or not the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else str(value)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def shard_of(table: Table, key: Item) -> int:
    partition_key = {table.hash_key: key[table.hash_key]}
    return zlib.crc32(canonical_json(partition_key).encode()) % SHARD_COUNT


def sequence_number(entry_id: str) -> str:
    """The SequenceNumber of a Redis stream entry id `ms-seq`."""
    ms, seq = entry_id.split("-")
    return f"{SEQUENCE_PREFIX}{int(ms):013d}{int(seq):07d}"


def entry_of(sequence: str) -> tuple[int, int] | None:
    """The (ms, seq) of the entry a SequenceNumber names; None if it names none of ours.
    The 20 digits without the prefix are what ripple wrote before it had one."""
    digits = sequence.removeprefix(SEQUENCE_PREFIX) if len(sequence) == 21 else sequence
    if len(digits) != 20 or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits[:13]), int(digits[13:])


def shard_id(shard: int) -> str:
    """The ShardId DescribeStream gives shard `shard` (and a failure record names)."""
    return f"{SHARD_PREFIX}{shard:08d}"


def pending_record(table: Table, key: Item, old: Item | None, new: Item | None,
                   by_service: bool = False) -> tuple[str, str]:
    """The record's JSON with a sentinel after SEQUENCE_PREFIX, where the commit script puts
    the entry id's 20 digits, and the sentinel; ("", "") when the table has no stream or
    nothing changed (DynamoDB writes no record for a write that changes nothing). A deletion
    by DynamoDB itself (TTL) names the service as the record's `userIdentity`."""
    if not table.stream_view_type or not table.stream_label or old == new:
        return "", ""
    sentinel = uuid.uuid4().hex
    record = stream_record(keys=key, old_image=old, new_image=new,
                           view_type=table.stream_view_type, table=table.name,
                           region=table.region, stream_label=table.stream_label,
                           sequence_number=SEQUENCE_PREFIX + sentinel, size_of=item_size,
                           created=time.time())
    if by_service:
        record["userIdentity"] = SERVICE_IDENTITY
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False), sentinel


def shard_keys(redis: Redis, table: str) -> list[str]:
    """The Redis stream keys of a table's shards, in shard order; [] without a stream."""
    arn = table_stream_arn(redis, table)
    return [keys.stream(table, shard) for shard in range(SHARD_COUNT)] if arn else []


def read_records(redis: Redis, shard_key: str, after_id: str = "0-0",
                 count: int = 100) -> list[tuple[str, dict[str, Any], str]]:
    """Up to `count` records after entry `after_id` ("0-0": from the oldest), in order, as
    (entry id, Lambda-shaped record, trace context)."""
    entries: Any = redis.xrange(shard_key, f"({after_id}" if after_id != "0-0" else "-", "+",
                                count=count)
    found = []
    for entry_id, fields in entries:
        values = {text(name): text(value) for name, value in fields.items()}
        found.append((text(entry_id), json.loads(values["record"]), values.get("trace", "")))
    return found


def latest_id(redis: Redis, shard_key: str) -> str:
    """The id of the shard's newest entry ("0-0" when empty): where LATEST starts reading."""
    last: Any = redis.xrevrange(shard_key, "+", "-", count=1)
    return text(last[0][0]) if last else "0-0"


def table_stream_arn(redis: Redis, table: str, region: str | None = None) -> str | None:
    """The table's LatestStreamArn while its stream is enabled, else None."""
    from orchestrator.services.dynamodb.schema import Table

    definition: Any = redis.hget(keys.table(table), "definition")
    if definition is None:
        return None
    described = Table.from_json(definition)
    if region:
        described.region = region
    return described.stream_arn
