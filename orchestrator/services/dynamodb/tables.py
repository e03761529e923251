"""Table operations: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable, and
`ensure_table` for tables a spec declares. Built on the store, which knows nothing of them."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from redis import Redis

from orchestrator.events.dynamodb import STREAM_VIEW_TYPES
from orchestrator.services.dynamodb import tags
from orchestrator.services.dynamodb.backfill import backfill
from orchestrator.services.dynamodb.errors import ResourceInUse, ValidationError
from orchestrator.services.dynamodb.index_definitions import (
    create_indexes,
    index_key_names,
    update_indexes,
)
from orchestrator.services.dynamodb.indexes import indexes_of
from orchestrator.services.dynamodb.schema import Table, check_table_name, stream_label
from orchestrator.services.dynamodb.store import Store
from orchestrator.services.dynamodb.types import INVALID
from orchestrator.settings import get_settings


def _key_schema(request: dict[str, Any], index_keys: set[str] | None = None) -> dict[str, Any]:
    schema = request.get("KeySchema") or []
    definitions = {d.get("AttributeName"): d.get("AttributeType")
                   for d in request.get("AttributeDefinitions") or []}
    if not 1 <= len(schema) <= 2:
        raise ValidationError("1 validation error detected: Value at 'keySchema' failed to "
                              "satisfy constraint: Member must have length less than or equal "
                              "to 2 and greater than or equal to 1")
    if schema[0].get("KeyType") != "HASH":
        raise ValidationError("Invalid KeySchema: The first KeySchemaElement is not a HASH key "
                              "type")
    if len(schema) == 2 and schema[1].get("KeyType") != "RANGE":
        raise ValidationError("Invalid KeySchema: The second KeySchemaElement is not a RANGE "
                              "key type")
    names = [element.get("AttributeName") for element in schema]
    if len(set(names)) != len(names):
        raise ValidationError("Invalid KeySchema: Some index key attribute have no definition")
    missing = [name for name in names if name not in definitions]
    if missing:
        raise ValidationError(f"{INVALID}Some index key attributes are not defined in "
                              f"AttributeDefinitions. Keys: [{', '.join(missing)}], "
                              f"AttributeDefinitions: [{', '.join(map(str, definitions))}]")
    unused = [name for name in definitions if name not in names and name not in (index_keys or ())]
    if unused and index_keys:
        raise ValidationError(f"{INVALID}Some AttributeDefinitions are not used. "
                              f"AttributeDefinitions: [{', '.join(map(str, definitions))}], keys "
                              f"used: [{', '.join(map(str, names + sorted(index_keys)))}]")
    if unused:
        raise ValidationError(f"{INVALID}Number of attributes in KeySchema does not exactly "
                              "match number of attributes defined in AttributeDefinitions")
    for name in [*names, *sorted(set(definitions) - set(names))]:
        if definitions[name] not in ("S", "N", "B"):
            raise ValidationError(f"1 validation error detected: Value '{definitions[name]}' at "
                                  "'attributeDefinitions.1.member.attributeType' failed to "
                                  "satisfy constraint: Member must satisfy enum value set: "
                                  "[B, N, S]")
    keys = {"hash_key": names[0], "hash_type": definitions[names[0]]}
    if len(names) == 2:
        keys |= {"range_key": names[1], "range_type": definitions[names[1]]}
    return keys


def _billing(request: dict[str, Any]) -> dict[str, Any]:
    mode = request.get("BillingMode") or "PROVISIONED"
    throughput = request.get("ProvisionedThroughput")
    if mode == "PROVISIONED":
        if not throughput or "ReadCapacityUnits" not in throughput \
                or "WriteCapacityUnits" not in throughput:
            raise ValidationError(f"{INVALID}ReadCapacityUnits and WriteCapacityUnits must both "
                                  "be specified when BillingMode is PROVISIONED")
        return {"billing_mode": mode, "throughput": {
            "read": int(throughput["ReadCapacityUnits"]),
            "write": int(throughput["WriteCapacityUnits"])}}
    if mode != "PAY_PER_REQUEST":
        raise ValidationError(f"1 validation error detected: Value '{mode}' at 'billingMode' "
                              "failed to satisfy constraint: Member must satisfy enum value set: "
                              "[PROVISIONED, PAY_PER_REQUEST]")
    if throughput:
        raise ValidationError(f"{INVALID}Neither ReadCapacityUnits nor WriteCapacityUnits can be "
                              "specified when BillingMode is PAY_PER_REQUEST")
    return {"billing_mode": mode, "throughput": {}}


def _stream(specification: Any) -> str | None:
    """The StreamViewType a StreamSpecification enables, or None when it disables streams."""
    if not specification or not specification.get("StreamEnabled"):
        return None
    view_type = specification.get("StreamViewType")
    if view_type not in STREAM_VIEW_TYPES:
        raise ValidationError(f"{INVALID}You must specify a StreamViewType when enabling a "
                              f"stream: one of {', '.join(STREAM_VIEW_TYPES)}")
    return str(view_type)


def describe(store: Store, table: Table) -> dict[str, Any]:
    described = table.description(*store.counters(table.name))
    found = indexes_of(table)
    for local, member in ((False, "GlobalSecondaryIndexes"), (True, "LocalSecondaryIndexes")):
        listed = [index.description(table, *store.index_counters(table, index.name))
                  for index in found if index.local == local]
        if listed:
            described[member] = listed
    return described


def create_table(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    name = check_table_name(request.get("TableName"))
    view_type = _stream(request.get("StreamSpecification"))
    keys = _key_schema(request, index_key_names(request))
    billing = _billing(request)
    definitions = {str(d.get("AttributeName")): str(d.get("AttributeType"))
                   for d in request.get("AttributeDefinitions") or []}
    indexes = create_indexes(request, definitions, keys["hash_key"], keys.get("range_key"),
                             billing["billing_mode"])
    now = time.time()
    table = Table(id=uuid.uuid4().hex, created=now, name=name, region=store.region,
                  **keys, **billing, stream_view_type=view_type,
                  stream_label=stream_label(now) if view_type else None,
                  attribute_types={key: kind for key, kind in definitions.items()
                                   if key not in (keys["hash_key"], keys.get("range_key"))},
                  indexes=[index.to_dict() for index in indexes],
                  deletion_protection=bool(request.get("DeletionProtectionEnabled")),
                  tags=tags.parse(request.get("Tags") or []))
    store.create_table(table)
    return {"TableDescription": describe(store, table)}


def describe_table(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    return {"Table": describe(store, store.table(request.get("TableName")))}


def list_tables(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    limit = int(request.get("Limit") or 100)
    if not 1 <= limit <= 100:
        raise ValidationError(f"1 validation error detected: Value '{limit}' at 'limit' failed "
                              "to satisfy constraint: Member must have value less than or equal "
                              "to 100")
    names = store.table_names(request.get("ExclusiveStartTableName"), limit + 1)
    answer: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        answer["LastEvaluatedTableName"] = names[limit - 1]
    return answer


def delete_table(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = store.table(request.get("TableName"))
    if table.deletion_protection:
        raise ValidationError("Resource cannot be deleted as it is currently protected against "
                              "deletion. Disable deletion protection first.")
    described = describe(store, table)
    store.delete_table(table)
    return {"TableDescription": described | {"TableStatus": "DELETING"}}


def update_table(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = store.table(request.get("TableName"))
    if "BillingMode" in request or "ProvisionedThroughput" in request:
        billing = _billing({"BillingMode": request.get("BillingMode", table.billing_mode),
                            "ProvisionedThroughput": request.get("ProvisionedThroughput")})
        table.billing_mode, table.throughput = billing["billing_mode"], billing["throughput"]
    if "StreamSpecification" in request:
        view_type = _stream(request["StreamSpecification"])
        if view_type and table.stream_view_type:
            raise ValidationError(f"Table already has an enabled stream: TableName: {table.name}")
        if not view_type and not table.stream_view_type:
            raise ValidationError(f"Table already has no enabled stream: TableName: {table.name}")
        _set_stream(table, view_type)
    if "DeletionProtectionEnabled" in request:
        table.deletion_protection = bool(request["DeletionProtectionEnabled"])
    created, deleted = update_indexes(table, request)
    store.save_definition(table)
    for index in deleted:
        store.drop_index(table, index.name)
    for index in created:
        threading.Thread(target=backfill, args=(store, table.name, index.name),
                         name=f"ripple-backfill-{index.name}", daemon=True).start()
    described = describe(store, table)
    for index in deleted:
        described.setdefault("GlobalSecondaryIndexes", []).append(
            index.description(table, 0, 0) | {"IndexStatus": "DELETING"})
    return {"TableDescription": described}


def _set_stream(table: Table, view_type: str | None) -> None:
    table.stream_view_type = view_type
    if view_type:
        table.stream_label = stream_label(time.time())


def ensure_table(redis: Redis, name: str, keys: dict[str, str],
                 stream_view_type: str | None, region: str | None = None) -> Table:
    """The table a spec declares (`keys`: hash name → type, then the range name → type), created
    unless it exists; an existing table keeps its items and gets the declared stream setting."""
    store = Store(redis, region or get_settings().region)
    definitions = [{"AttributeName": key, "AttributeType": kind} for key, kind in keys.items()]
    schema = [{"AttributeName": key, "KeyType": key_type}
              for key, key_type in zip(keys, ("HASH", "RANGE"), strict=False)]
    request: dict[str, Any] = {"TableName": name, "KeySchema": schema,
                               "AttributeDefinitions": definitions,
                               "BillingMode": "PAY_PER_REQUEST"}
    if stream_view_type:
        request["StreamSpecification"] = {"StreamEnabled": True,
                                          "StreamViewType": stream_view_type}
    try:
        create_table(store, request)
    except ResourceInUse:
        table = store.table(name)
        wanted = _key_schema(request)
        if (table.hash_key, table.hash_type, table.range_key, table.range_type) != (
                wanted["hash_key"], wanted["hash_type"], wanted.get("range_key"),
                wanted.get("range_type")):
            raise ResourceInUse(f"Table {name} exists with another key schema "
                                f"({table.key_schema()}): delete it or rename the table in the "
                                "spec") from None
        if table.stream_view_type != stream_view_type:
            _set_stream(table, stream_view_type)
            store.save_definition(table)
    return store.table(name)
