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

from orchestrator.services.dynamodb import indexes, keys, streams, types
from orchestrator.services.dynamodb.errors import ResourceInUse, ResourceNotFound, ValidationError
from orchestrator.services.dynamodb.schema import Table, check_table_name
from orchestrator.services.dynamodb.types import Item
from tracing.hops import INBOUND

# KEYS per write: items, order, table, partitions, stream. ARGV: now_ms, maxlen, the writer's
# trace context (X-Ray header, "" = none), the number of writes, then per write: field, expected
# JSON ("" = absent), new JSON ("" = delete), partition, record template ("" = none), sentinel,
# size delta, table id, index version. Then per index entry change, KEYS: items, order,
# partitions, table; ARGV: field, JSON ("" = delete), partition, index name, size delta if the
# entry is new, size delta if it replaces one.
_COMMIT = """
local now, maxlen, n = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[4])
for i = 0, n - 1 do
  local k, a = i * 5, 4 + i * 9
  local owner = redis.call('HMGET', KEYS[k + 3], 'id', 'iv')
  if owner[1] ~= ARGV[a + 8] then return {'gone', i} end
  if (owner[2] or '0') ~= ARGV[a + 9] then return {'stale', i} end
  local current = redis.call('HGET', KEYS[k + 1], ARGV[a + 1])
  if not current then current = '' end
  if current ~= ARGV[a + 2] then return {'conflict', i} end
end
for i = 0, n - 1 do
  local k, a = i * 5, 4 + i * 9
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
local kb, ab = n * 5, 4 + n * 9
for j = 0, (#KEYS - kb) / 4 - 1 do
  local k, a = kb + j * 4, ab + j * 6
  if ARGV[a + 2] == '' then
    if redis.call('HDEL', KEYS[k + 1], ARGV[a + 1]) == 1 then
      redis.call('ZREM', KEYS[k + 2], ARGV[a + 1])
      redis.call('HINCRBY', KEYS[k + 4], 'count:' .. ARGV[a + 4], -1)
      redis.call('HINCRBY', KEYS[k + 4], 'size:' .. ARGV[a + 4], ARGV[a + 6])
      if redis.call('HLEN', KEYS[k + 1]) == 0 then redis.call('ZREM', KEYS[k + 3], ARGV[a + 3]) end
    end
  elseif redis.call('HSET', KEYS[k + 1], ARGV[a + 1], ARGV[a + 2]) == 1 then
    redis.call('ZADD', KEYS[k + 2], 0, ARGV[a + 1])
    redis.call('ZADD', KEYS[k + 3], 0, ARGV[a + 3])
    redis.call('HINCRBY', KEYS[k + 4], 'count:' .. ARGV[a + 4], 1)
    redis.call('HINCRBY', KEYS[k + 4], 'size:' .. ARGV[a + 4], ARGV[a + 5])
  else
    redis.call('HINCRBY', KEYS[k + 4], 'size:' .. ARGV[a + 4], ARGV[a + 6])
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
    fill: tuple[str, ...] = ()  # indexes being backfilled: their entry is written regardless
    by_service: bool = False  # DynamoDB's own deletion (TTL): the record names the service


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
        pipe.hset(keys.table(table.name), mapping={"id": table.id, "count": 0, "size": 0,
                                                   "iv": table.index_version})
        pipe.zadd(keys.TABLES, {table.name: 0})
        pipe.execute()

    def save_definition(self, table: Table) -> None:
        self.redis.hset(keys.table(table.name), mapping={"definition": table.to_json(),
                                                         "iv": table.index_version})

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
        for index in indexes.indexes_of(table):
            self.drop_index(table, index.name)

    # ---- items ----

    def read(self, table: Table, key: Item) -> tuple[str | None, Item | None]:
        """The item's stored JSON (for a later compare and swap) and the item itself."""
        raw: Any = self.redis.hget(table.items_key(table.partition(key)), table.sort(key))
        if raw is None:
            return None, None
        stored = streams.text(raw)
        return stored, json.loads(stored)

    def read_many(self, table: Table, partition: str, sorts: list[str]) -> list[Item | None]:
        raws: Any = self.redis.hmget(table.items_key(partition), sorts) if sorts else []
        return [json.loads(raw) if raw is not None else None for raw in raws]

    def commit(self, writes: list[Write]) -> bool:
        """Apply every write or none, with their index entries; False when an item changed
        since it was read. A table whose indexes changed meanwhile is read again."""
        for _ in range(100):
            status = self._commit_once(writes)
            if status != "stale":
                return status == "ok"
            for write in writes:
                write.table = self.table(write.table.name, "item")
        raise ResourceInUse("The table's indexes are changing too fast: try again")

    def _commit_once(self, writes: list[Write]) -> str:
        writer = INBOUND.get()  # the write's SERVER span: stream batches link to it
        key_names: list[str] = []
        args: list[Any] = [int(time.time() * 1000), STREAM_MAXLEN,
                           writer.to_xray() if writer else "", len(writes)]
        entry_keys: list[str] = []
        entry_args: list[Any] = []
        for write in writes:
            table, partition = write.table, write.table.partition(write.key)
            old = json.loads(write.expected) if write.expected else None
            new_text = encode(write.new) if write.new is not None else ""
            old_size = types.item_size(old) if old else 0
            new_size = types.item_size(write.new) if write.new else 0
            if new_size > types.MAX_ITEM_SIZE:
                raise ValidationError("Item size has exceeded the maximum allowed size")
            delta = new_size - old_size
            known = {id(old): (old_size, write.expected or ""), id(write.new): (new_size, new_text)}
            record, sentinel = streams.pending_record(table, write.key, old, write.new,
                                                      write.by_service)
            shard = streams.shard_of(table, write.key)
            key_names += [table.items_key(partition), table.order_key(partition),
                          keys.table(table.name), table.partitions_key(),
                          keys.stream(table.name, shard)]
            args += [table.sort(write.key), write.expected or "", new_text, partition, record,
                     sentinel, delta, table.id, table.index_version]
            for index in indexes.indexes_of(table):
                changes = _entry_changes(index.view(table), old, write.new,
                                         index.name in write.fill, known)
                for index_keys, index_args in changes:
                    entry_keys += index_keys
                    entry_args += index_args
        outcome = self._commit(keys=key_names + entry_keys, args=args + entry_args)
        status = streams.text(outcome[0])
        if status == "gone":
            raise ResourceNotFound("Requested resource not found")
        return status

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

    def index_counters(self, table: Table, index: str) -> tuple[int, int]:
        found = cast(list[Any], self.redis.hmget(keys.table(table.name),
                                                 [f"count:{index}", f"size:{index}"]))
        return int(found[0] or 0), int(found[1] or 0)

    def drop_index(self, table: Table, index: str) -> None:
        """Every key of an index that is gone from the table's definition."""
        doomed = list(self.redis.scan_iter(match=keys.index(table.name, index, "*"), count=500))
        for start in range(0, len(doomed), 500):
            self.redis.delete(*doomed[start:start + 500])
        self.redis.hdel(keys.table(table.name), f"count:{index}", f"size:{index}")

    def sort_keys(self, table: Table, partition: str, low: bytes, high: bytes, reverse: bool,
                  count: int) -> list[str]:
        """Up to `count` encoded sort keys between Redis lex bounds, in key order."""
        order = table.order_key(partition)
        found: Any = (self.redis.zrevrangebylex(order, high, low, 0, count) if reverse
                      else self.redis.zrangebylex(order, low, high, 0, count))
        return [streams.text(member) for member in found]

    def partitions(self, table: Table, after: str | None, count: int) -> list[str]:
        low = b"(" + after.encode() if after is not None else b"-"
        found: Any = self.redis.zrangebylex(table.partitions_key(), low, b"+", 0, count)
        return [streams.text(member) for member in found]


def _entry_changes(view: indexes.IndexView, old: Item | None, new: Item | None, filling: bool,
                   known: dict[int, tuple[int, str]]) -> list[tuple[list[str], list[Any]]]:
    """The index entry changes (KEYS, ARGV) a write from `old` to `new` makes in one index."""
    before = None if filling else view.entry(old)
    after = view.entry(new)
    if before == after:
        return []
    name, changes = view.index_name, []
    old_size = _size(before[2], known) if before else 0
    new_size = _size(after[2], known) if after else 0
    if before and (not after or before[:2] != after[:2]):
        partition, member, _ = before
        changes.append(([view.items_key(partition), view.order_key(partition),
                         view.partitions_key(), keys.table(view.name)],
                        [member, "", partition, name, 0, -old_size]))
        old_size = 0
    if after:
        partition, member, projected = after
        changes.append(([view.items_key(partition), view.order_key(partition),
                         view.partitions_key(), keys.table(view.name)],
                        [member, known[id(projected)][1] if id(projected) in known
                         else encode(projected), partition, name, new_size,
                         0 if filling else new_size - old_size]))
    return changes


def _size(item: Item, known: dict[int, tuple[int, str]]) -> int:
    """An entry's size; an ALL projection is the item itself, already sized."""
    return known[id(item)][0] if id(item) in known else types.item_size(item)
