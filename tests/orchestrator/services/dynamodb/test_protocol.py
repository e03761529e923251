"""The JSON 1.0 protocol edges: malformed bodies, unknown operations, the error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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


def error_of(answer: httpx.Response) -> tuple[int, str, str]:
    body = answer.json()
    return answer.status_code, body["__type"].rpartition("#")[2], body["message"]


@pytest.mark.parametrize(("body", "message"), [
    (b"[1, 2]", "Start of list found where not expected"),
    (b"null", "Unexpected value type in payload"),
    (b'"text"', "Unexpected value type in payload"),
    (b"[" * 100_000 + b"]" * 100_000, "Start of list found where not expected"),
    (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "Nesting Levels have exceeded supported "
     "limits: Attributes in the item have nested levels beyond supported limit"),
])
def test_a_body_that_is_not_a_json_object_is_refused(ripple: Ripple, body: bytes,
                                                     message: str) -> None:
    # When a body is JSON but not an object (or an object nested past any decoder's reach)
    status, code, answered = error_of(post(ripple, "PutItem", body))
    # Then DynamoDB's SerializationException (or its nesting refusal), never a 500
    assert (status, answered) == (400, message)
    assert code == ("ValidationException" if message.startswith("Nesting") else
                    "SerializationException")


@pytest.mark.parametrize(("member", "value", "message"), [
    ("TableName", "[1]", "Start of list found where not expected"),
    ("TableName", "5", "NUMBER_VALUE cannot be converted to String"),
    ("Item", '"x"', "Unexpected value type in payload"),
    ("Item", '{"pk": [1]}', "Start of list found where not expected"),
    ("Item", '{"pk": {"S": {"a": 1}}}', "Start of structure or map found where not expected"),
    ("Item", '{"pk": {"BOOL": "yes"}}', "STRING_VALUE can not be converted to a Boolean"),
    ("ReturnValues", "true", "TRUE_VALUE cannot be converted to String"),
])
def test_a_member_of_the_wrong_json_type_is_a_serialization_error(
        ripple: Ripple, new_table: NewTable, member: str, value: str, message: str) -> None:
    # Given a PutItem whose one member has the wrong JSON type for DynamoDB's model
    members = {"TableName": f'"{new_table(pk="S")}"', "Item": '{"pk": {"S": "a"}}'}
    members[member] = value
    body = "{" + ", ".join(f'"{name}": {text}' for name, text in members.items()) + "}"
    # When it is sent, Then DynamoDB's SerializationException names what was found
    assert error_of(post(ripple, "PutItem", body.encode())) == (
        400, "SerializationException", message)


def test_wrong_types_inside_lists_never_reach_the_operation(ripple: Ripple) -> None:
    # Given requests whose lists hold values of the wrong type (each was a TypeError, a 500)
    cases = {"TransactGetItems": b'{"TransactItems": [929143, -733]}',
             "TransactWriteItems": b'{"TransactItems": [null]}',
             "Scan": b'{"TableName": "abc", "TotalSegments": [1]}',
             "ListTables": b'{"Limit": [">"]}'}
    for operation, body in cases.items():
        # When each is sent, Then it is a SerializationException
        status, code, _ = error_of(post(ripple, operation, body))
        assert (operation, status, code) == (operation, 400, "SerializationException")


def test_an_unpaired_surrogate_is_a_serialization_error(ripple: Ripple,
                                                        new_table: NewTable) -> None:
    # Given an item whose string escapes half a UTF-16 pair (not Unicode text)
    body = b'{"TableName": "%s", "Item": {"pk": {"S": "\\ud800"}}}' % new_table(pk="S").encode()
    # When it is put, Then it is refused as DynamoDB refuses text it cannot read
    status, code, message = error_of(post(ripple, "PutItem", body))
    assert (status, code) == (400, "SerializationException")
    assert "unpaired UTF-16 surrogate" in message


def deep_item(table: str, deep: str) -> str:
    """A PutItem body holding `deep` (JSON text too deep for json.dumps to write)."""
    return '{"TableName": "' + table + '", "Item": {"pk": {"S": "a"}, "deep": ' + deep + "}}"


@pytest.mark.parametrize("levels", [32, 100, 900, 5_000])
def test_an_attribute_nested_past_32_levels_is_refused(ripple: Ripple, new_table: NewTable,
                                                       levels: int) -> None:
    # Given an item with a string wrapped in `levels` lists (32 wraps: the leaf at level 33)
    deep = '{"L": [' * levels + '{"S": "x"}' + "]}" * levels
    body = deep_item(new_table(pk="S"), deep)
    # When it is put, Then DynamoDB's nesting refusal comes back, never a 500
    assert error_of(post(ripple, "PutItem", body.encode())) == (
        400, "ValidationException", "Nesting Levels have exceeded supported limits: Attributes "
        "in the item have nested levels beyond supported limit")


def test_an_attribute_nested_31_levels_is_stored(ripple: Ripple, dynamodb: Any,
                                                 new_table: NewTable) -> None:
    name = new_table(pk="S")
    deep = '{"L": [' * 31 + '{"S": "x"}' + "]}" * 31
    body = deep_item(name, deep)
    assert post(ripple, "PutItem", body.encode()).status_code == 200
    assert dynamodb.scan(TableName=name)["Count"] == 1
