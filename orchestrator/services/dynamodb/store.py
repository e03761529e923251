"""Tables and items on Redis. Every write goes through one Lua script that checks each item is
still what the writer read (compare and swap), then writes the items, their sort index, the
table's counters and the stream records together, so concurrent writers never lose an update."""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis

from orchestrator.services.dynamodb import keys, streams, types
from orchestrator.services.dynamodb.errors import ResourceInUse, ResourceNotFound, ValidationError
from orchestrator.services.dynamodb.schema import Table, check_table_name
from orchestrator.services.dynamodb.types import Item
from tracing.hops import INBOUND

# KEYS per write: items, order, table, partitions, stream. ARGV: now_ms, maxlen, the writer's
# trace context (X-Ray header, "" = none), then per
# write: field, expected JSON ("" = absent), new JSON ("" = delete), partition, record
# template ("" = none), sentinel, size delta, table id.
_COMMIT = """
local now, maxlen = tonumber(ARGV[1]), ARGV[2]
local n = #KEYS / 5
for i = 0, n - 1 do
  local k, a = i * 5, 3 + i * 8
  if redis.call('HGET', KEYS[k + 3], 'id') ~= ARGV[a + 8] then return {'gone', i} end
  local current = redis.call('HGET', KEYS[k + 1], ARGV[a + 1])
  if not current then current = '' end
  if current ~= ARGV[a + 2] then return {'conflict', i} end
end
for i = 0, n - 1 do
  local k, a = i * 5, 3 + i * 8
  local existed = ARGV[a + 2] ~= ''
  if ARGV[a + 3] == '' then
    if existed then
      redis.call('HDEL', KEYS[k + 1], ARGV[a + 1])
      redis.call('ZREM', KEYS[k + 2], ARGV[a + 1])
      redis.call('HINCRBY', KEYS[k + 3], 'count', -1)
      if redis.call('HLEN', KEYS[k + 1]) == 0 then redis.call('ZREM', KEYS[k + 4], ARGV[a + 4]) end
    end
  else
    redis.call('HSET', KEYS[k + 1], ARGV[a + 1], ARGV[a + 3])
    redis.call('ZADD', KEYS[k + 2], 0, ARGV[a + 1])
    if not existed then
      redis.call('HINCRBY', KEYS[k + 3], 'count', 1)
      redis.call('ZADD', KEYS[k + 4], 0, ARGV[a + 4])
    end
  end
  redis.call('HINCRBY', KEYS[k + 3], 'size', ARGV[a + 7])
  if ARGV[a + 5] ~= '' then
    local ms, seq = now, 0
    local last = redis.call('XREVRANGE', KEYS[k + 5], '+', '-', 'COUNT', 1)
    if #last > 0 then
      local id = last[1][1]
      local dash = string.find(id, '-', 1, true)
      local last_ms = tonumber(string.sub(id, 1, dash - 1))
      local last_seq = tonumber(string.sub(id, dash + 1))
      if last_ms >= ms then ms, seq = last_ms, last_seq + 1 end
    end
    local record = ARGV[a + 5]
    local s, e = string.find(record, ARGV[a + 6], 1, true)
    local sequence_number = string.format('%013d%07d', ms, seq)
    record = string.sub(record, 1, s - 1) .. sequence_number .. string.sub(record, e + 1)
    redis.call('XADD', KEYS[k + 5], 'MAXLEN', '~', maxlen, string.format('%d-%d', ms, seq),
               'record', record, 'trace', ARGV[3])
  end
end
return {'ok'}
"""

STREAM_MAXLEN = 100_000  # records kept per shard (DynamoDB keeps 24 hours)
_LOCKS = [threading.Lock() for _ in range(256)]


def encode(item: Item) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Write:
    """One item's change: `expected` is the JSON read before (None: absent), `new` None deletes."""

    table: Table
    key: Item
    expected: str | None
    new: Item | None


class Store:
    def __init__(self, redis: Redis, region: str) -> None:
        self.redis = redis
        self.region = region
        self._commit = redis.register_script(_COMMIT)

    # ---- tables ----

    def create_table(self, table: Table) -> None:
        created = self.redis.hsetnx(keys.table(table.name), "definition", table.to_json())
        if not created:
            raise ResourceInUse(f"Table already exists: {table.name}")
        pipe = self.redis.pipeline()
        pipe.hset(keys.table(table.name), mapping={"id": table.id, "count": 0, "size": 0})
        pipe.zadd(keys.TABLES, {table.name: 0})
        pipe.execute()

    def save_definition(self, table: Table) -> None:
        self.redis.hset(keys.table(table.name), "definition", table.to_json())

    def table(self, name: Any, operation: str = "table") -> Table:
        """The table's definition; ResourceNotFoundException as DynamoDB words it."""
        definition = self.redis.hget(keys.table(check_table_name(name)), "definition")
        if definition is None:
            if operation == "table":
                raise ResourceNotFound(f"Requested resource not found: Table: {name} not found")
            raise ResourceNotFound("Requested resource not found")
        return Table.from_json(definition)

    def counters(self, name: str) -> tuple[int, int]:
        count, size = cast(list[Any], self.redis.hmget(keys.table(name), ["count", "size"]))
        return int(count or 0), int(size or 0)

    def table_names(self, after: str | None, limit: int) -> list[str]:
        low = f"({after}" if after else "-"
        names: Any = self.redis.zrangebylex(keys.TABLES, low, "+", 0, limit)
        return [streams.text(name) for name in names]

    def delete_table(self, table: Table) -> None:
        doomed = [keys.table(table.name), keys.partitions(table.name)]
        doomed += [keys.stream(table.name, shard) for shard in range(streams.SHARD_COUNT)]
        partitions: Any = self.redis.zrange(keys.partitions(table.name), 0, -1)
        for partition in map(streams.text, partitions):
            doomed += [keys.items(table.name, partition), keys.order(table.name, partition)]
        pipe = self.redis.pipeline()
        pipe.zrem(keys.TABLES, table.name)
        pipe.delete(*doomed)
        pipe.execute()

    # ---- items ----

    def read(self, table: Table, key: Item) -> tuple[str | None, Item | None]:
        """The item's stored JSON (for a later compare and swap) and the item itself."""
        raw: Any = self.redis.hget(keys.items(table.name, table.partition(key)), table.sort(key))
        if raw is None:
            return None, None
        stored = streams.text(raw)
        return stored, json.loads(stored)

    def read_many(self, table: Table, partition: str, sorts: list[str]) -> list[Item | None]:
        raws: Any = self.redis.hmget(keys.items(table.name, partition), sorts) if sorts else []
        return [json.loads(raw) if raw is not None else None for raw in raws]

    def commit(self, writes: list[Write]) -> bool:
        """Apply every write or none; False when an item changed since it was read."""
        key_names: list[str] = []
        writer = INBOUND.get()  # the write's SERVER span: stream batches link to it
        args: list[Any] = [int(time.time() * 1000), STREAM_MAXLEN,
                           writer.to_xray() if writer else ""]
        for write in writes:
            table, partition = write.table, write.table.partition(write.key)
            old = json.loads(write.expected) if write.expected else None
            new_text = encode(write.new) if write.new is not None else ""
            if write.new is not None and types.item_size(write.new) > types.MAX_ITEM_SIZE:
                raise ValidationError("Item size has exceeded the maximum allowed size")
            delta = (types.item_size(write.new) if write.new else 0) - (
                types.item_size(old) if old else 0)
            record, sentinel = streams.pending_record(table, write.key, old, write.new)
            shard = streams.shard_of(table, write.key)
            key_names += [keys.items(table.name, partition), keys.order(table.name, partition),
                          keys.table(table.name), keys.partitions(table.name),
                          keys.stream(table.name, shard)]
            args += [table.sort(write.key), write.expected or "", new_text, partition, record,
                     sentinel, delta, table.id]
        outcome = self._commit(keys=key_names, args=args)
        status = outcome[0].decode()
        if status == "gone":
            raise ResourceNotFound("Requested resource not found")
        return status == "ok"

    @contextmanager
    def locked(self, writes: list[tuple[Table, Item]]) -> Iterator[None]:
        """Serializes this process's writers of the same items, so the compare and swap rarely
        has to retry; other processes are still kept safe by the swap itself."""
        indexes = sorted({zlib.crc32(f"{table.name}\0{table.partition(key)}\0"
                                     f"{table.sort(key)}".encode()) % len(_LOCKS)
                          for table, key in writes})
        with ExitStack() as stack:
            for index in indexes:
                stack.enter_context(_LOCKS[index])
            yield

    # ---- ranges ----

    def sort_keys(self, table: Table, partition: str, low: bytes, high: bytes, reverse: bool,
                  count: int) -> list[str]:
        """Up to `count` encoded sort keys between Redis lex bounds, in key order."""
        order = keys.order(table.name, partition)
        found: Any = (self.redis.zrevrangebylex(order, high, low, 0, count) if reverse
                      else self.redis.zrangebylex(order, low, high, 0, count))
        return [streams.text(member) for member in found]

    def partitions(self, table: Table, after: str | None, count: int) -> list[str]:
        low = b"(" + after.encode() if after is not None else b"-"
        found: Any = self.redis.zrangebylex(keys.partitions(table.name), low, b"+", 0, count)
        return [streams.text(member) for member in found]
