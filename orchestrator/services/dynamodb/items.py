"""Single-item operations: PutItem, GetItem, DeleteItem, UpdateItem."""

from __future__ import annotations

from typing import Any

from orchestrator.services.dynamodb import capacity, expressions, types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.expressions.update import action_paths
from orchestrator.services.dynamodb.requests import (
    Expressions,
    check_condition,
    return_values,
    write_one,
)
from orchestrator.services.dynamodb.store import Store
from orchestrator.services.dynamodb.types import Item

SIZE_EXCEEDED = "Item size has exceeded the maximum allowed size"
UPDATE_SIZE_EXCEEDED = "Item size to update has exceeded the maximum allowed size"


def check_size(item: Item, message: str = SIZE_EXCEEDED) -> None:
    if types.item_size(item) > types.MAX_ITEM_SIZE:
        raise ValidationError(message)


def put_item(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = store.table(request.get("TableName"), "item")
    item = types.validate_item(request.get("Item"))
    key = table.key_of_item(item)
    check_size(item)
    wanted = return_values(request, ("NONE", "ALL_OLD"))
    given = Expressions(request)
    condition = given.condition()
    given.done()

    def change(old: Item | None) -> Item:
        check_condition(condition, old, request)
        return item

    old, _ = write_one(store, table, key, change)
    used = capacity.of_write(request, table, old, item)
    return ({"Attributes": old} if wanted == "ALL_OLD" and old else {}) | used


def get_item(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = store.table(request.get("TableName"), "item")
    key = table.check_key(request.get("Key"))
    given = Expressions(request)
    projection = given.projection()
    given.done()
    _, item = store.read(table, key)
    used = capacity.report(request, table, capacity.read_units(
        types.item_size(item) if item else 0, bool(request.get("ConsistentRead"))), "Read")
    if item is None:
        return used
    return {"Item": expressions.project(item, projection) if projection else item} | used


def delete_item(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = store.table(request.get("TableName"), "item")
    key = table.check_key(request.get("Key"))
    wanted = return_values(request, ("NONE", "ALL_OLD"))
    given = Expressions(request)
    condition = given.condition()
    given.done()

    def change(old: Item | None) -> None:
        check_condition(condition, old, request)
        return None

    old, _ = write_one(store, table, key, change)
    used = capacity.of_write(request, table, old, None)
    return ({"Attributes": old} if wanted == "ALL_OLD" and old else {}) | used


def update_item(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = store.table(request.get("TableName"), "item")
    key = table.check_key(request.get("Key"))
    wanted = return_values(request, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"))
    given = Expressions(request)
    update = given.update()
    condition = given.condition()
    given.done()
    if update is not None:
        expressions.check_update(update, table.key_names)

    def change(old: Item | None) -> Item:
        check_condition(condition, old, request)
        base = old if old is not None else dict(key)
        new = expressions.apply_update(update, base) if update is not None else dict(base)
        types.check_nesting(new)
        check_size(new, UPDATE_SIZE_EXCEEDED)
        return new

    old, new = write_one(store, table, key, change)
    assert new is not None
    paths = action_paths(update) if update is not None else []
    attributes: Item | None = {
        "NONE": None,
        "ALL_OLD": old,
        "ALL_NEW": new,
        "UPDATED_OLD": expressions.project(old, paths) if old else None,
        "UPDATED_NEW": expressions.project(new, paths),
    }[wanted]
    used = capacity.of_write(request, table, old, new)
    return ({"Attributes": attributes} if attributes else {}) | used
