"""Many items at once: BatchWriteItem and BatchGetItem (each item on its own), and
TransactWriteItems and TransactGetItems (all or nothing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.services.dynamodb import expressions, types
from orchestrator.services.dynamodb.errors import (
    ConditionalCheckFailed,
    InternalServerError,
    TransactionCanceled,
    ValidationError,
)
from orchestrator.services.dynamodb.items import check_size
from orchestrator.services.dynamodb.requests import (
    MAX_ATTEMPTS,
    Expressions,
    check_condition,
    write_one,
)
from orchestrator.services.dynamodb.schema import Table
from orchestrator.services.dynamodb.store import Store, Write
from orchestrator.services.dynamodb.types import Item

DUPLICATES = "Provided list of item keys contains duplicates"


def _identity(table: Table, key: Item) -> tuple[str, str, str]:
    return table.name, table.partition(key), table.sort(key)


def _request_items(request: dict[str, Any]) -> dict[str, Any]:
    request_items = request.get("RequestItems")
    if not isinstance(request_items, dict) or not request_items:
        raise ValidationError("1 validation error detected: Value '{}' at 'requestItems' failed "
                              "to satisfy constraint: Member must have length greater than or "
                              "equal to 1")
    return request_items


def batch_write_item(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    request_items = _request_items(request)
    if sum(len(entries) for entries in request_items.values()) > 25:
        raise ValidationError("Too many items requested for the BatchWriteItem call")
    plan: list[tuple[Table, Item, Item | None]] = []
    seen: set[tuple[str, str, str]] = set()
    for name, entries in request_items.items():  # everything is checked before any write
        table = store.table(name, "item")
        for entry in entries:
            if "PutRequest" in entry:
                item = types.validate_item(entry["PutRequest"].get("Item"))
                key, new = table.key_of_item(item), item
                check_size(item)
            elif "DeleteRequest" in entry:
                key, new = table.check_key(entry["DeleteRequest"].get("Key")), None
            else:
                raise ValidationError("Supplied AttributeValue has more than one datatypes set, "
                                      "must contain exactly one of the supported datatypes")
            if _identity(table, key) in seen:
                raise ValidationError(DUPLICATES)
            seen.add(_identity(table, key))
            plan.append((table, key, new))
    for table, key, new in plan:
        write_one(store, table, key, lambda _old, new=new: new)  # type: ignore[misc]
    return {"UnprocessedItems": {}}


def batch_get_item(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    request_items = _request_items(request)
    if sum(len(entry.get("Keys") or []) for entry in request_items.values()) > 100:
        raise ValidationError("Too many items requested for the BatchGetItem call")
    responses: dict[str, list[Item]] = {}
    for name, entry in request_items.items():
        table = store.table(name, "item")
        given = Expressions(entry)
        projection = given.projection()
        given.done()
        wanted = [table.check_key(key) for key in entry.get("Keys") or []]
        if len({_identity(table, key) for key in wanted}) != len(wanted):
            raise ValidationError(DUPLICATES)
        found = []
        for key in wanted:
            _, item = store.read(table, key)
            if item is not None:
                found.append(expressions.project(item, projection) if projection else item)
        responses[name] = found
    return {"Responses": responses, "UnprocessedKeys": {}}


@dataclass
class _Operation:
    table: Table
    key: Item
    body: dict[str, Any]
    change: Callable[[Item | None], Item | None]


def _operation(store: Store, kind: str, body: dict[str, Any]) -> _Operation:
    table = store.table(body.get("TableName"), "item")
    given = Expressions(body)
    if kind == "Put":
        item = types.validate_item(body.get("Item"))
        key = table.key_of_item(item)
        check_size(item)
    else:
        key = table.check_key(body.get("Key"))
    update = given.update() if kind == "Update" else None
    condition = given.condition()
    given.done()
    if kind == "ConditionCheck" and condition is None:
        raise ValidationError("The ConditionCheck operation requires a ConditionExpression")
    if update is not None:
        expressions.check_update(update, table.key_names)

    def change(old: Item | None) -> Item | None:
        check_condition(condition, old, body)
        if kind == "Put":
            return item
        if kind == "Delete":
            return None
        if kind == "Update":
            new = expressions.apply_update(update, old or dict(key)) if update else \
                dict(old or key)
            types.check_nesting(new)
            check_size(new)
            return new
        return old  # ConditionCheck writes nothing

    return _Operation(table, key, body, change)


def _parse_transaction(store: Store, request: dict[str, Any]) -> list[_Operation]:
    entries = request.get("TransactItems") or []
    if not 1 <= len(entries) <= 100:
        raise ValidationError("1 validation error detected: Value at 'transactItems' failed to "
                              "satisfy constraint: Member must have length less than or equal "
                              "to 100 and greater than or equal to 1")
    operations, seen = [], set()
    for entry in entries:
        kinds = [kind for kind in ("ConditionCheck", "Put", "Delete", "Update") if kind in entry]
        if len(kinds) != 1:
            raise ValidationError("TransactItems can only contain one of Check, Put, Update or "
                                  "Delete")
        operation = _operation(store, kinds[0], entry[kinds[0]])
        identity = _identity(operation.table, operation.key)
        if identity in seen:
            raise ValidationError("Transaction request cannot include multiple operations on "
                                  "one item")
        seen.add(identity)
        operations.append(operation)
    return operations


def transact_write_items(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    operations = _parse_transaction(store, request)
    with store.locked([(operation.table, operation.key) for operation in operations]):
        for _ in range(MAX_ATTEMPTS):
            reads = [store.read(operation.table, operation.key) for operation in operations]
            writes, reasons, failed = [], [], False
            for operation, (raw, old) in zip(operations, reads, strict=True):
                try:
                    new = operation.change(old)
                    reasons.append({"Code": "None"})
                    writes.append(Write(operation.table, operation.key, raw, new))
                except ConditionalCheckFailed as error:
                    failed = True
                    reasons.append({"Code": "ConditionalCheckFailed",
                                    "Message": error.message, **error.details})
                except ValidationError as error:
                    failed = True
                    reasons.append({"Code": "ValidationError", "Message": error.message})
            if failed:
                raise TransactionCanceled(reasons)
            if store.commit(writes):
                return {}
    raise InternalServerError("The items are under too much contention: try again")


def transact_get_items(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    entries = request.get("TransactItems") or []
    if not 1 <= len(entries) <= 100:
        raise ValidationError("1 validation error detected: Value at 'transactItems' failed to "
                              "satisfy constraint: Member must have length less than or equal "
                              "to 100 and greater than or equal to 1")
    responses: list[dict[str, Any]] = []
    for entry in entries:
        body = entry.get("Get") or {}
        table = store.table(body.get("TableName"), "item")
        key = table.check_key(body.get("Key"))
        given = Expressions(body)
        projection = given.projection()
        given.done()
        _, item = store.read(table, key)
        if item is None:
            responses.append({})
        else:
            responses.append({"Item": expressions.project(item, projection)
                              if projection else item})
    return {"Responses": responses}
