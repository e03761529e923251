"""PutItem, GetItem, DeleteItem and UpdateItem through boto3's client and resource Table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from tests.orchestrator.services.dynamodb.conftest import NewTable


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_resource_table_round_trips_every_type(resource: Any, new_table: NewTable) -> None:
    # Given an item with every attribute type
    table = resource.Table(new_table())
    item = {"pk": "p", "sk": "s", "text": "héllo", "n": Decimal("1.50"), "big": Decimal(
        "12345678901234567890123456789012345678"), "blob": b"\x00\x01", "yes": True,
        "none": None, "strings": {"a", "b"}, "numbers": {Decimal(1), Decimal("2.5")},
        "binaries": {b"x"}, "map": {"nested": [1, "two", {"deep": False}]}, "empty": ""}
    # When it is put and read back
    table.put_item(Item=item)
    got = table.get_item(Key={"pk": "p", "sk": "s"}, ConsistentRead=True)["Item"]
    # Then it comes back as written, numbers normalized
    assert got == item | {"n": Decimal("1.5")}


def test_client_put_get_delete_with_return_values(dynamodb: Any, new_table: NewTable) -> None:
    name = new_table()
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    # Given an item
    assert "Attributes" not in dynamodb.put_item(TableName=name, Item=key | {"v": {"N": "1"}},
                                                 ReturnValues="ALL_OLD")
    # When it is overwritten, asking for the old item
    old = dynamodb.put_item(TableName=name, Item=key | {"v": {"N": "2"}}, ReturnValues="ALL_OLD")
    # Then the old item comes back
    assert old["Attributes"] == key | {"v": {"N": "1"}}
    assert dynamodb.get_item(TableName=name, Key=key)["Item"]["v"] == {"N": "2"}
    # When it is deleted
    deleted = dynamodb.delete_item(TableName=name, Key=key, ReturnValues="ALL_OLD")
    # Then the deleted item comes back and it is gone
    assert deleted["Attributes"]["v"] == {"N": "2"}
    assert "Item" not in dynamodb.get_item(TableName=name, Key=key)


def test_get_item_projection(resource: Any, new_table: NewTable) -> None:
    table = resource.Table(new_table())
    table.put_item(Item={"pk": "a", "sk": "b", "name": "n", "list": [1, 2, 3],
                         "map": {"x": 1, "y": 2}})
    got = table.get_item(Key={"pk": "a", "sk": "b"}, ProjectionExpression="#n, #l[2], #m.y",
                         ExpressionAttributeNames={"#n": "name", "#l": "list", "#m": "map"})
    assert got["Item"] == {"name": "n", "list": [3], "map": {"y": 2}}


def test_update_item_expressions_and_return_values(resource: Any, new_table: NewTable) -> None:
    table = resource.Table(new_table())
    key = {"pk": "u", "sk": "1"}
    # Given no item: UpdateItem creates it
    created = table.update_item(
        Key=key, UpdateExpression="SET #c = if_not_exists(#c, :zero) + :one, tags = :tags, "
        "doc = :doc ADD visits :one", ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":zero": 0, ":one": 1, ":tags": {"a"},
                                   ":doc": {"list": [1], "nested": {"v": "x"}}},
        ReturnValues="ALL_NEW")["Attributes"]
    assert created == key | {"count": 1, "visits": 1, "tags": {"a"},
                             "doc": {"list": [1], "nested": {"v": "x"}}}
    # When nested paths, list_append, arithmetic, REMOVE, ADD and DELETE apply
    updated = table.update_item(
        Key=key, UpdateExpression="SET doc.#l = list_append(doc.#l, :more), doc.nested.v = :y, "
        "#c = #c - :one REMOVE visits ADD tags :b",
        ExpressionAttributeNames={"#l": "list", "#c": "count"},
        ExpressionAttributeValues={":more": [2, 3], ":y": "y", ":one": 1, ":b": {"b"}},
        ReturnValues="UPDATED_NEW")["Attributes"]
    # Then UPDATED_NEW shows only what the actions wrote
    assert updated == {"doc": {"list": [1, 2, 3], "nested": {"v": "y"}}, "count": 0,
                       "tags": {"a", "b"}}
    old = table.update_item(Key=key, UpdateExpression="SET doc.#l[0] = :nine DELETE tags :a",
                            ExpressionAttributeNames={"#l": "list"},
                            ExpressionAttributeValues={":nine": 9, ":a": {"a"}},
                            ReturnValues="UPDATED_OLD")["Attributes"]
    assert old == {"doc": {"list": [1]}, "tags": {"a", "b"}}
    assert table.get_item(Key=key)["Item"] == key | {
        "count": 0, "tags": {"b"}, "doc": {"list": [9, 2, 3], "nested": {"v": "y"}}}


def test_conditions_guard_every_write(resource: Any, new_table: NewTable) -> None:
    table = resource.Table(new_table())
    key = {"pk": "c", "sk": "1"}
    table.put_item(Item=key | {"state": "NEW", "n": 5},
                   ConditionExpression=Attr("pk").not_exists())
    # When a put would overwrite the item it must not exist
    with pytest.raises(ClientError) as caught:
        table.put_item(Item=key | {"state": "X"}, ConditionExpression=Attr("pk").not_exists(),
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
    # Then it fails with the old item and writes nothing
    assert error_of(caught) == ("ConditionalCheckFailedException",
                                "The conditional request failed")
    assert caught.value.response["Item"]["state"] == {"S": "NEW"}
    # And updates and deletes are guarded the same way
    for attempt in (
        lambda: table.update_item(Key=key, UpdateExpression="SET n = :v",
                                  ConditionExpression="n BETWEEN :lo AND :hi",
                                  ExpressionAttributeValues={":v": 1, ":lo": 6, ":hi": 9}),
        lambda: table.delete_item(Key=key, ConditionExpression=Attr("state").is_in(["OLD"])),
        lambda: table.delete_item(Key=key, ConditionExpression=(
            Attr("state").begins_with("N") & ~Attr("n").gt(3)) | Attr("x").exists() &
            Attr("state").eq("NEW") & Attr("n").attribute_type("S")),
    ):
        with pytest.raises(ClientError) as caught:
            attempt()
        assert error_of(caught)[0] == "ConditionalCheckFailedException"
    assert table.get_item(Key=key)["Item"] == key | {"state": "NEW", "n": 5}
    # When the condition holds, the write happens
    table.update_item(Key=key, UpdateExpression="SET n = n + :one",
                      ConditionExpression="#s = :new AND size(#s) = :three AND contains(#s, :e)",
                      ExpressionAttributeNames={"#s": "state"},
                      ExpressionAttributeValues={":one": 1, ":new": "NEW", ":three": 3,
                                                 ":e": "E"})
    assert table.get_item(Key=key)["Item"]["n"] == 6


@pytest.mark.parametrize(("call", "message"), [
    (lambda c, t: c.put_item(TableName=t, Item={"pk": {"S": "a"}}),
     "One or more parameter values were invalid: Missing the key sk in the item"),
    (lambda c, t: c.put_item(TableName=t, Item={"pk": {"S": "a"}, "sk": {"N": "1"}}),
     "One or more parameter values were invalid: Type mismatch for key sk expected: S "
     "actual: N"),
    (lambda c, t: c.get_item(TableName=t, Key={"pk": {"S": "a"}}),
     "The provided key element does not match the schema"),
    (lambda c, t: c.delete_item(TableName=t, Key={"pk": {"S": "a"}, "sk": {"S": "b"},
                                                   "x": {"S": "c"}}),
     "The provided key element does not match the schema"),
    (lambda c, t: c.update_item(TableName=t, Key={"pk": {"S": "a"}, "sk": {"S": "b"}},
                                UpdateExpression="SET a"),
     'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "SET a"'),
    (lambda c, t: c.update_item(TableName=t, Key={"pk": {"S": "a"}, "sk": {"S": "b"}},
                                UpdateExpression="SET a = :v",
                                ExpressionAttributeValues={"v": {"S": "x"}}),
     'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'),
    (lambda c, t: c.update_item(TableName=t, Key={"pk": {"S": "a"}, "sk": {"S": "b"}},
                                UpdateExpression="SET a = :v",
                                ExpressionAttributeValues={":v": {"S": "x"},
                                                           ":w": {"S": "y"}}),
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
    (lambda c, t: c.update_item(TableName=t, Key={"pk": {"S": "a"}, "sk": {"S": "b"}},
                                UpdateExpression="SET sk = :v",
                                ExpressionAttributeValues={":v": {"S": "x"}}),
     "One or more parameter values were invalid: Cannot update attribute sk. This attribute "
     "is part of the key"),
    (lambda c, t: c.put_item(TableName=t, Item={"pk": {"S": "a"}, "sk": {"S": ""}}),
     "One or more parameter values are not valid. The AttributeValue for a key attribute "
     "cannot contain an empty string value. Key: sk"),
    (lambda c, t: c.put_item(TableName=t, Item={"pk": {"S": "a"}, "sk": {"S": "b"},
                                                 "big": {"S": "x" * 410_000}}),
     "Item size has exceeded the maximum allowed size"),
    (lambda c, t: c.put_item(TableName=t, Item={"pk": {"S": "a"}, "sk": {"S": "b"}},
                             ReturnValues="ALL_NEW"),
     "Return values set to invalid value"),
    (lambda c, t: c.put_item(TableName=t, Item={"pk": {"S": "a"}, "sk": {"S": "b"}},
                             ConditionExpression="attribute_exists(#p)",
                             ExpressionAttributeNames={"#q": "pk"}),
     "Invalid ConditionExpression: An expression attribute name used in the document path is "
     "not defined; attribute name: #p"),
])
def test_invalid_writes_fail_with_aws_messages_and_write_nothing(
        dynamodb: Any, new_table: NewTable, call: Any, message: str) -> None:
    name = new_table()
    with pytest.raises(ClientError) as caught:
        call(dynamodb, name)
    assert error_of(caught) == ("ValidationException", message)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert dynamodb.scan(TableName=name)["Count"] == 0


def test_unknown_table(dynamodb: Any) -> None:
    for call in (lambda: dynamodb.get_item(TableName="no-such-table", Key={"k": {"S": "a"}}),
                 lambda: dynamodb.put_item(TableName="no-such-table", Item={"k": {"S": "a"}})):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("ResourceNotFoundException", "Requested resource not found")


def test_update_failing_against_the_item_writes_nothing(resource: Any,
                                                       new_table: NewTable) -> None:
    table = resource.Table(new_table())
    table.put_item(Item={"pk": "a", "sk": "b", "s": "text", "n": 1})
    with pytest.raises(ClientError) as caught:
        table.update_item(Key={"pk": "a", "sk": "b"}, UpdateExpression="SET n = :two, m = s + :one",
                          ExpressionAttributeValues={":one": 1, ":two": 2})
    assert error_of(caught) == ("ValidationException",
                                "An operand in the update expression has an incorrect data type")
    assert table.get_item(Key={"pk": "a", "sk": "b"})["Item"]["n"] == 1


def test_an_update_that_nests_an_item_past_32_levels_writes_nothing(
        dynamodb: Any, new_table: NewTable) -> None:
    # Given an item holding a map 16 levels deep, and a value 17 levels deep to set inside it
    name = new_table(pk="S")
    deep: dict[str, Any] = {"S": "leaf"}
    for _ in range(16):
        deep = {"M": {"n": deep}}
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "doc": deep})
    path = ".".join(["doc", *["n"] * 15])
    # When the update would put the leaf at level 33, Then DynamoDB's refusal, nothing written
    with pytest.raises(ClientError) as caught:
        dynamodb.update_item(TableName=name, Key={"pk": {"S": "a"}},
                             UpdateExpression=f"SET {path}.n = :deep",
                             ExpressionAttributeValues={":deep": deep})
    assert error_of(caught) == ("ValidationException", "Nesting Levels have exceeded supported "
                                "limits: Attributes in the item have nested levels beyond "
                                "supported limit")
    assert dynamodb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]["doc"] == deep


def test_an_update_past_400_kb_is_refused_in_its_own_words(dynamodb: Any,
                                                          new_table: NewTable) -> None:
    # Given an item of 300 KB
    name = new_table(pk="S")
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "a": {"S": "x" * 300_000}})
    # When an update adds another 200 KB, Then it is refused as DynamoDB words it for updates
    with pytest.raises(ClientError) as caught:
        dynamodb.update_item(TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression="SET b = :b",
                             ExpressionAttributeValues={":b": {"S": "y" * 200_000}})
    assert error_of(caught) == ("ValidationException",
                                "Item size to update has exceeded the maximum allowed size")
    assert "b" not in dynamodb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"]
