"""Secondary index definitions as requests give them: CreateTable's GlobalSecondaryIndexes and
LocalSecondaryIndexes, UpdateTable's GlobalSecondaryIndexUpdates (Create, Update, Delete).
A created GSI is CREATING until its backfill (backfill.py) has written every existing item."""

from __future__ import annotations

import re
from typing import Any

from orchestrator.services.dynamodb.errors import ResourceNotFound, ValidationError
from orchestrator.services.dynamodb.indexes import PROJECTIONS, Index, indexes_of
from orchestrator.services.dynamodb.schema import Table
from orchestrator.services.dynamodb.types import INVALID

INDEX_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
MAX_GLOBAL, MAX_LOCAL = 20, 5


def _invalid(message: str) -> ValidationError:
    return ValidationError(INVALID + message)


def _schema(name: str, member: str, schema: Any) -> tuple[str, str | None]:
    if not isinstance(schema, list) or not 1 <= len(schema) <= 2:
        raise ValidationError(f"1 validation error detected: Value '{schema}' at '{member}."
                              "keySchema' failed to satisfy constraint: Member must have length "
                              "less than or equal to 2")
    kinds = [element.get("KeyType") for element in schema]
    if kinds[0] != "HASH" or (len(kinds) == 2 and kinds[1] != "RANGE"):
        raise _invalid("Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
                       if kinds[0] != "HASH" else "Invalid KeySchema: The second "
                       "KeySchemaElement is not a RANGE key type")
    names = [str(element.get("AttributeName")) for element in schema]
    if len(set(names)) != len(names):
        raise _invalid(f"Both the Hash Key and the Range Key element in the KeySchema have the "
                       f"same name. IndexName: {name}")
    return names[0], names[1] if len(names) == 2 else None


def _projection(name: str, projection: Any) -> tuple[str, list[str]]:
    if not isinstance(projection, dict) or "ProjectionType" not in projection:
        raise _invalid(f"Unknown ProjectionType: null. IndexName: {name}")
    kind = projection["ProjectionType"]
    if kind not in PROJECTIONS:
        raise ValidationError(f"1 validation error detected: Value '{kind}' at 'projection."
                              "projectionType' failed to satisfy constraint: Member must "
                              "satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]")
    non_key = projection.get("NonKeyAttributes")
    if kind == "INCLUDE" and not non_key:
        raise _invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    if kind != "INCLUDE" and non_key:
        raise _invalid(f"ProjectionType is {kind}, but NonKeyAttributes is specified")
    return str(kind), [str(attribute) for attribute in non_key or []]


def parse_index(definition: dict[str, Any], local: bool, member: str,
                definitions: dict[str, str], billing_mode: str) -> Index:
    name = definition.get("IndexName")
    if not isinstance(name, str) or not INDEX_NAME.fullmatch(name):
        raise ValidationError(f"1 validation error detected: Value '{name}' at '{member}."
                              "indexName' failed to satisfy constraint: Member must satisfy "
                              "regular expression pattern: [a-zA-Z0-9_.-]+")
    hash_key, range_key = _schema(name, member, definition.get("KeySchema"))
    missing = [key for key in (hash_key, range_key) if key and key not in definitions]
    if missing:
        raise _invalid(f"Some index key attributes are not defined in AttributeDefinitions. "
                       f"Keys: [{', '.join(missing)}], AttributeDefinitions: "
                       f"[{', '.join(definitions)}]")
    projection, non_key = _projection(name, definition.get("Projection"))
    throughput = definition.get("ProvisionedThroughput")
    units: dict[str, int] = {}
    if not local:
        if billing_mode == "PROVISIONED" and not throughput:
            raise _invalid(f"ProvisionedThroughput must be specified for index: {name}")
        if billing_mode == "PAY_PER_REQUEST" and throughput:
            raise _invalid(f"ProvisionedThroughput should not be specified for index: {name} "
                           "when BillingMode is PAY_PER_REQUEST")
        if throughput:
            units = {"read": int(throughput.get("ReadCapacityUnits", 0)),
                     "write": int(throughput.get("WriteCapacityUnits", 0))}
    return Index(name=name, local=local, hash_key=hash_key, range_key=range_key,
                 projection=projection, non_key=non_key, throughput=units)


def create_indexes(request: dict[str, Any], definitions: dict[str, str], hash_key: str,
                   range_key: str | None, billing_mode: str) -> list[Index]:
    """CreateTable's indexes, checked as DynamoDB checks them."""
    given_global = request.get("GlobalSecondaryIndexes") or []
    given_local = request.get("LocalSecondaryIndexes") or []
    if len(given_global) > MAX_GLOBAL:
        raise ValidationError(f"{INVALID}GlobalSecondaryIndexes: Number of GlobalSecondary"
                              f"Indexes exceeds per-table limit of {MAX_GLOBAL}")
    if len(given_local) > MAX_LOCAL:
        raise _invalid(f"Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LOCAL}")
    found = [parse_index(d, False, f"globalSecondaryIndexes.{n}.member", definitions,
                         billing_mode) for n, d in enumerate(given_global, 1)]
    for number, definition in enumerate(given_local, 1):
        index = parse_index(definition, True, f"localSecondaryIndexes.{number}.member",
                            definitions, billing_mode)
        if range_key is None:
            raise _invalid("Table KeySchema does not have a range key, which is required when "
                           "specifying a LocalSecondaryIndex")
        if index.hash_key != hash_key:
            raise _invalid(f"Index KeySchema does not have the same leading hash key as table "
                           f"KeySchema for index: {index.name}. index hash key: "
                           f"{index.hash_key}, table hash key: {hash_key}")
        if index.range_key is None:
            raise _invalid(f"Index KeySchema does not have a range key for index: {index.name}")
        found.append(index)
    names = [index.name for index in found]
    for name in names:
        if names.count(name) > 1:
            raise _invalid(f"Duplicate index name: {name}")
    return found


def index_key_names(request: dict[str, Any]) -> set[str]:
    """Every attribute a request's indexes use as a key."""
    return {str(element.get("AttributeName"))
            for member in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
            for definition in request.get(member) or [] if isinstance(definition, dict)
            for element in definition.get("KeySchema") or [] if isinstance(element, dict)}


def update_indexes(table: Table, request: dict[str, Any]) -> tuple[list[Index], list[Index]]:
    """Apply UpdateTable's GlobalSecondaryIndexUpdates to `table`: (created, deleted)."""
    updates = request.get("GlobalSecondaryIndexUpdates") or []
    current = indexes_of(table)
    definitions = table.attribute_types | dict(table._key_types())
    for given in request.get("AttributeDefinitions") or []:
        definitions.setdefault(str(given.get("AttributeName")), str(given.get("AttributeType")))
    created, deleted = [], []
    for number, update in enumerate(updates, 1):
        if len(update) != 1:
            raise ValidationError("One or more parameter values were invalid: One of "
                                  "GlobalSecondaryIndexUpdate.Create, .Update or .Delete must "
                                  "be specified")
        action, body = next(iter(update.items()))
        name = body.get("IndexName")
        existing = next((index for index in current if index.name == name), None)
        if action == "Create":
            if existing is not None:
                raise ValidationError(f"{INVALID}Index with name: {name} already exists")
            if sum(not index.local for index in current) >= MAX_GLOBAL:
                raise ValidationError(f"{INVALID}GlobalSecondaryIndexes: Number of "
                                      f"GlobalSecondaryIndexes exceeds per-table limit of "
                                      f"{MAX_GLOBAL}")
            index = parse_index(body, False, f"globalSecondaryIndexUpdates.{number}.member."
                                "create", definitions, table.billing_mode)
            index.status = "CREATING"
            current.append(index)
            created.append(index)
            for key in index.key_names():
                if key not in dict(table._key_types()):
                    table.attribute_types[key] = definitions[key]
        elif existing is None or existing.local:
            raise ResourceNotFound(f"Requested resource not found: Index: {name} not found")
        elif action == "Delete":
            current.remove(existing)
            deleted.append(existing)
        elif action == "Update":
            throughput = body.get("ProvisionedThroughput") or {}
            existing.throughput = {"read": int(throughput.get("ReadCapacityUnits", 0)),
                                   "write": int(throughput.get("WriteCapacityUnits", 0))}
    if created and deleted:
        raise ValidationError("One or more parameter values were invalid: Only 1 online index "
                              "operation can be performed at a time")
    table.indexes = [index.to_dict() for index in current]
    if created or deleted:
        table.index_version += 1
    return created, deleted

