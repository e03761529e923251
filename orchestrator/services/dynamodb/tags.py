"""Tags on tables: CreateTable's Tags, TagResource, UntagResource, ListTagsOfResource. The
resource is the table's ARN; tags live in the table's definition."""

from __future__ import annotations

from typing import Any

from orchestrator.services.dynamodb.errors import ResourceNotFound, ValidationError
from orchestrator.services.dynamodb.schema import TABLE_ARN, Table
from orchestrator.services.dynamodb.store import Store

MAX_TAGS = 50


def parse(given: list[dict[str, Any]]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for number, tag in enumerate(given, 1):
        key, value = tag.get("Key"), tag.get("Value")
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise ValidationError(f"1 validation error detected: Value '{key}' at 'tags.{number}"
                                  ".member.key' failed to satisfy constraint: Member must have "
                                  "length less than or equal to 128")
        if not isinstance(value, str) or len(value) > 256:
            raise ValidationError(f"1 validation error detected: Value '{value}' at 'tags."
                                  f"{number}.member.value' failed to satisfy constraint: Member "
                                  "must have length less than or equal to 256")
        tags[key] = value
    return tags


def _table(store: Store, request: dict[str, Any]) -> Table:
    arn = request.get("ResourceArn")
    match = TABLE_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise ValidationError(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    try:
        return store.table(match.group(1))
    except ResourceNotFound:
        raise ResourceNotFound(f"Requested resource not found: ResourcArn: {arn} not "
                               "found") from None


def tag_resource(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = _table(store, request)
    table.tags |= parse(request.get("Tags") or [])
    if len(table.tags) > MAX_TAGS:
        raise ValidationError(f"One or more parameter values were invalid: The number of tags "
                              f"exceeds the limit of {MAX_TAGS}")
    store.save_definition(table)
    return {}


def untag_resource(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = _table(store, request)
    for key in request.get("TagKeys") or []:
        table.tags.pop(key, None)
    store.save_definition(table)
    return {}


def list_tags_of_resource(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = _table(store, request)
    return {"Tags": [{"Key": key, "Value": value} for key, value in table.tags.items()]}
