"""The JSON 1.0 protocol edges: malformed bodies, unknown operations, the error shape."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Ripple
from tests.orchestrator.services.dynamodb.conftest import NewTable

HEADERS = {"Content-Type": "application/x-amz-json-1.0"}


def post(ripple: Ripple, operation: str, body: bytes) -> httpx.Response:
    return httpx.post(ripple.url + "/", content=body, timeout=30,
                      headers=HEADERS | {"X-Amz-Target": f"DynamoDB_20120810.{operation}"})


def test_malformed_json_is_a_serialization_error_and_writes_nothing(
        ripple: Ripple, dynamodb: Any, new_table: NewTable) -> None:
    name = new_table()
    # When a PutItem body is not JSON
    answer = post(ripple, "PutItem", b'{"TableName": "' + name.encode() + b'", "Item": {')
    # Then DynamoDB's error shape comes back, and the table is empty
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/x-amz-json-1.0"
    body = answer.json()
    assert body["__type"] == "com.amazonaws.dynamodb.v20120810#SerializationException"
    assert body["message"]
    assert dynamodb.scan(TableName=name)["Count"] == 0


def test_unknown_operation(ripple: Ripple) -> None:
    answer = post(ripple, "Fly", b"{}")
    assert answer.status_code == 400
    assert answer.json()["__type"].endswith("#UnknownOperationException")


def test_validation_error_shape(ripple: Ripple, new_table: NewTable) -> None:
    name = new_table()
    answer = post(ripple, "GetItem", b'{"TableName": "%s", "Key": {"pk": {"S": "a"}}}'
                  % name.encode())
    assert answer.status_code == 400
    assert answer.json() == {
        "__type": "com.amazonaws.dynamodb.v20120810#ValidationException",
        "message": "The provided key element does not match the schema"}
