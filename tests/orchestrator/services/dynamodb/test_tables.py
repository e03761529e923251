"""Table operations through boto3, and `ensure_table` for tables a spec declares."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from redis import Redis

from orchestrator.services.dynamodb.tables import ensure_table
from tests.orchestrator.services.dynamodb.conftest import NewTable


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_create_describe_and_delete_a_table(dynamodb: Any, resource: Any) -> None:
    # Given a table created through the resource API with a stream and provisioned capacity
    table = resource.create_table(
        TableName="orders-tables-test",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    table.wait_until_exists()
    table.put_item(Item={"pk": "a", "sk": 1})
    # When it is described
    described = dynamodb.describe_table(TableName="orders-tables-test")["Table"]
    # Then it is active, with its keys, stream and item count
    assert described["TableStatus"] == "ACTIVE"
    assert described["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                                      {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert described["StreamSpecification"] == {"StreamEnabled": True,
                                                 "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert described["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/" \
                                    "orders-tables-test"
    assert described["LatestStreamArn"] == (f"{described['TableArn']}/stream/"
                                            f"{described['LatestStreamLabel']}")
    assert described["ItemCount"] == 1
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    # When it is deleted
    dynamodb.delete_table(TableName="orders-tables-test")
    # Then it is gone, items and all
    with pytest.raises(ClientError) as caught:
        dynamodb.describe_table(TableName="orders-tables-test")
    assert error_of(caught) == ("ResourceNotFoundException", "Requested resource not found: "
                                "Table: orders-tables-test not found")


def test_list_tables_pages(dynamodb: Any, new_table: NewTable) -> None:
    # Given three more tables
    names = sorted(new_table() for _ in range(3))
    # When they are listed two at a time
    seen: list[str] = []
    request: dict[str, Any] = {"Limit": 2}
    while True:
        page = dynamodb.list_tables(**request)
        assert len(page["TableNames"]) <= 2
        seen += page["TableNames"]
        if "LastEvaluatedTableName" not in page:
            break
        request["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
    # Then every table appears once, in name order
    assert seen == sorted(seen) and set(names) <= set(seen) and len(seen) == len(set(seen))
    # And the paginator agrees
    paginated = [n for p in dynamodb.get_paginator("list_tables").paginate(
        PaginationConfig={"PageSize": 2}) for n in p["TableNames"]]
    assert paginated == seen


def test_creating_an_existing_table_is_refused(dynamodb: Any, new_table: NewTable) -> None:
    name = new_table()
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk",
                                                     "AttributeType": "S"}])
    assert error_of(caught) == ("ResourceInUseException", f"Table already exists: {name}")


@pytest.mark.parametrize(("request_", "message"), [
    ({"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
      "BillingMode": "PAY_PER_REQUEST"},
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [pk], AttributeDefinitions: [id]"),
    ({"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]},
     "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must "
     "both be specified when BillingMode is PROVISIONED"),
    ({"KeySchema": [{"AttributeName": "pk", "KeyType": "RANGE"}],
      "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
      "BillingMode": "PAY_PER_REQUEST"},
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
])
def test_bad_table_definitions_are_refused(dynamodb: Any, request_: dict[str, Any],
                                           message: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(TableName="never-created", **request_)
    assert error_of(caught) == ("ValidationException", message)
    assert "never-created" not in dynamodb.list_tables()["TableNames"]


def test_bad_table_name(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.describe_table(TableName="bad name!")
    assert error_of(caught)[0] == "ValidationException"
    assert "regular expression pattern: [a-zA-Z0-9_.-]+" in error_of(caught)[1]


def test_update_table_turns_the_stream_on_and_off(dynamodb: Any, new_table: NewTable) -> None:
    name = new_table()
    described = dynamodb.update_table(TableName=name, StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]
    assert described["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert "StreamSpecification" not in dynamodb.describe_table(TableName=name)["Table"]


def test_ensure_table_creates_once_and_keeps_items(dynamodb: Any, redis: Redis) -> None:
    # Given a table a spec declares
    table = ensure_table(redis, "spec-orders", {"pk": "S", "sk": "S"}, "NEW_AND_OLD_IMAGES")
    assert table.stream_arn and table.key_names == ["pk", "sk"]
    dynamodb.put_item(TableName="spec-orders", Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    # When it is ensured again with another stream setting
    again = ensure_table(redis, "spec-orders", {"pk": "S", "sk": "S"}, "KEYS_ONLY")
    # Then the items stay and the stream follows the spec
    assert again.stream_view_type == "KEYS_ONLY"
    assert dynamodb.describe_table(TableName="spec-orders")["Table"]["ItemCount"] == 1
    # And a different key schema is refused, saying what to do
    with pytest.raises(Exception, match="another key schema"):
        ensure_table(redis, "spec-orders", {"id": "N"}, None)
