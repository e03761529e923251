"""ReturnConsumedCapacity (TOTAL or INDEXES): the units DynamoDB would bill. A read is one unit
per 4 KB read (half for an eventually consistent one), a write one unit per 1 KB written, each
index an item lands in a write of its own."""

from __future__ import annotations

import math
from typing import Any

from orchestrator.services.dynamodb import types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.indexes import indexes_of
from orchestrator.services.dynamodb.schema import Table
from orchestrator.services.dynamodb.types import Item

MODES = ("INDEXES", "TOTAL", "NONE")


def wanted(request: dict[str, Any]) -> str:
    mode = request.get("ReturnConsumedCapacity") or "NONE"
    if mode not in MODES:
        raise ValidationError(f"1 validation error detected: Value '{mode}' at "
                              "'returnConsumedCapacity' failed to satisfy constraint: Member "
                              "must satisfy enum value set: [INDEXES, TOTAL, NONE]")
    return str(mode)


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


def report(request: dict[str, Any], table: Table, units: float, kind: str,
           indexes: dict[str, tuple[bool, float]] | None = None) -> dict[str, Any]:
    """`{"ConsumedCapacity": …}` when asked for, else {}. `indexes`: name → (local, units);
    `kind` is Read or Write."""
    mode = wanted(request)
    if mode == "NONE":
        return {}
    indexes = indexes or {}
    total = units + sum(index_units for _, index_units in indexes.values())
    consumed: dict[str, Any] = {"TableName": table.name, "CapacityUnits": total,
                                f"{kind}CapacityUnits": total}
    if mode == "INDEXES":
        consumed["Table"] = {"CapacityUnits": units, f"{kind}CapacityUnits": units}
        for local, member in ((False, "GlobalSecondaryIndexes"), (True, "LocalSecondaryIndexes")):
            listed = {name: {"CapacityUnits": index_units, f"{kind}CapacityUnits": index_units}
                      for name, (is_local, index_units) in indexes.items() if is_local == local}
            if listed:
                consumed[member] = listed
    return {"ConsumedCapacity": consumed}


def of_write(request: dict[str, Any], table: Table, old: Item | None,
             new: Item | None) -> dict[str, Any]:
    """A single-item write's capacity: the larger image, and each index either image is in."""
    if wanted(request) == "NONE":
        return {}
    size = max(types.item_size(old) if old else 0, types.item_size(new) if new else 0)
    touched = {}
    for index in indexes_of(table):
        images = [image for image in (old, new)
                  if image and all(name in image for name in index.key_names())]
        if images:
            view = index.view(table)
            touched[index.name] = (index.local, sum(write_units(types.item_size(
                view.project(image))) for image in images))
    return report(request, table, write_units(size), "Write", touched)
