"""Writing a new GSI's entries for the items a table already holds, then marking it ACTIVE.

Writes made meanwhile maintain the index themselves (it is in the definition from the start,
CREATING), so the backfill only fills: each item's entry is written by the commit script on the
condition that the item is still what was read, and an item that changed is left to its writer.
One backfill per index at a time, whichever process starts it (a Redis lock)."""

from __future__ import annotations

import json
import logging
from typing import Any

from orchestrator.services.dynamodb import streams
from orchestrator.services.dynamodb.errors import DynamoDBError
from orchestrator.services.dynamodb.indexes import indexes_of
from orchestrator.services.dynamodb.store import Store, Write

log = logging.getLogger(__name__)
LOCK_SECONDS = 60


def lock_key(table: str, index: str) -> str:
    return f"ripple:ddb:backfill:{table}:{index}"


def pending(store: Store, name: str) -> list[str]:
    """The table's indexes still CREATING."""
    return [index.name for index in indexes_of(store.table(name))
            if index.status == "CREATING"]


def backfill(store: Store, name: str, index_name: str) -> bool:
    """Fill one CREATING index; False when another process holds its backfill."""
    lock = lock_key(name, index_name)
    if not store.redis.set(lock, "1", nx=True, ex=LOCK_SECONDS):
        return False
    try:
        _fill(store, name, index_name, lock)
        table = store.table(name)
        table.indexes = [index | {"status": "ACTIVE"} if index["name"] == index_name else index
                         for index in table.indexes]
        store.save_definition(table)
        return True
    except DynamoDBError:  # the table or the index went away meanwhile
        return True
    except Exception:
        log.exception("backfilling index %s of table %s failed", index_name, name)
        return False
    finally:
        store.redis.delete(lock)


def _fill(store: Store, name: str, index_name: str, lock: str) -> None:
    after: str | None = None
    while True:
        table = store.table(name)
        if index_name not in {index.name for index in indexes_of(table)}:
            return
        partitions = store.partitions(table, after, 100)
        for partition in partitions:
            after = partition
            raws: Any = store.redis.hgetall(table.items_key(partition))
            for raw in raws.values():
                item = json.loads(raw)
                key = {key_name: item[key_name] for key_name in table.key_names}
                store.commit([Write(table, key, streams.text(raw), item, fill=(index_name,))])
            store.redis.expire(lock, LOCK_SECONDS)
        if len(partitions) < 100:
            return
