"""Time to live: UpdateTimeToLive and DescribeTimeToLive, and the sweep that deletes expired
items as DynamoDB's background process does, each deletion a `REMOVE` stream record whose
`userIdentity` names the service.

An item expires when its TTL attribute is a Number of epoch seconds in the past; items whose
value is more than five years in the past are left alone, as DynamoDB leaves them. The sweep is
bounded: each pass examines at most `budget` items per table, going on from where the last pass
stopped, so a large table costs each pass the same."""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from orchestrator.services.dynamodb import streams
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.schema import Table
from orchestrator.services.dynamodb.store import Store, Write
from orchestrator.services.dynamodb.types import Item

FIVE_YEARS = 5 * 365 * 24 * 3600


def update_time_to_live(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = store.table(request.get("TableName"))
    specification = request.get("TimeToLiveSpecification") or {}
    name, enabled = specification.get("AttributeName"), specification.get("Enabled")
    if not isinstance(name, str) or not 1 <= len(name) <= 255:
        raise ValidationError(f"1 validation error detected: Value '{name}' at "
                              "'timeToLiveSpecification.attributeName' failed to satisfy "
                              "constraint: Member must have length greater than or equal to 1")
    if enabled and table.ttl_attribute:
        raise ValidationError("TimeToLive is already enabled")
    if not enabled and not table.ttl_attribute:
        raise ValidationError("TimeToLive is already disabled")
    if not enabled and name != table.ttl_attribute:
        raise ValidationError("The attribute name provided does not match the one enabled for "
                              f"TTL: {table.ttl_attribute}")
    table.ttl_attribute = name if enabled else None
    store.save_definition(table)
    return {"TimeToLiveSpecification": {"AttributeName": name, "Enabled": bool(enabled)}}


def describe_time_to_live(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = store.table(request.get("TableName"))
    if not table.ttl_attribute:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED",
                                      "AttributeName": table.ttl_attribute}}


def expired(item: Item, attribute: str, now: float) -> bool:
    value = item.get(attribute)
    if not isinstance(value, dict) or "N" not in value:
        return False
    try:
        expiry = Decimal(value["N"])
    except InvalidOperation:
        return False
    return now - FIVE_YEARS <= expiry <= Decimal(now)


class Sweeper:
    """Deletes expired items, a bounded number per table and pass; remembers where it was."""

    def __init__(self, store: Store, budget: int) -> None:
        self.store, self.budget = store, budget
        self.cursors: dict[str, str | None] = {}

    def sweep(self, now: float | None = None) -> int:
        """One pass over every table with TTL enabled; the number of items deleted."""
        now = time.time() if now is None else now
        deleted, after = 0, None
        while True:
            names = self.store.table_names(after, 100)
            for name in names:
                after = name
                table = self.store.table(name)
                if table.ttl_attribute:
                    deleted += self._sweep_table(table, table.ttl_attribute, now)
            if len(names) < 100:
                return deleted

    def _sweep_table(self, table: Table, attribute: str, now: float) -> int:
        examined = deleted = 0
        after = self.cursors.get(table.name)
        while examined < self.budget:
            partitions = self.store.partitions(table, after, 50)
            for partition in partitions:
                after = partition
                raws: Any = self.store.redis.hgetall(table.items_key(partition))
                for raw in raws.values():
                    examined += 1
                    item = json.loads(raw)
                    if expired(item, attribute, now):
                        key = {name: item[name] for name in table.key_names}
                        write = Write(table, key, streams.text(raw), None, by_service=True)
                        deleted += self.store.commit([write])  # False: it changed, look later
            if len(partitions) < 50:
                after = None  # the end of the table: the next pass starts over
                break
        self.cursors[table.name] = after
        return deleted
