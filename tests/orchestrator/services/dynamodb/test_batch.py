"""BatchWriteItem, BatchGetItem, TransactWriteItems and TransactGetItems through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.orchestrator.services.dynamodb.conftest import NewTable


def key(pk: str, sk: str = "1") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def test_batch_write_and_get(dynamodb: Any, resource: Any, new_table: NewTable) -> None:
    name = new_table()
    # Given a batch of puts and a delete
    dynamodb.put_item(TableName=name, Item=key("gone"))
    written = dynamodb.batch_write_item(RequestItems={name: [
        {"PutRequest": {"Item": key(f"k{n}") | {"n": {"N": str(n)}}}} for n in range(5)
    ] + [{"DeleteRequest": {"Key": key("gone")}}]})
    assert written["UnprocessedItems"] == {}
    # When the items are fetched in one batch, with a projection
    got = dynamodb.batch_get_item(RequestItems={name: {
        "Keys": [key("k1"), key("k3"), key("gone")], "ProjectionExpression": "pk, #n",
        "ExpressionAttributeNames": {"#n": "n"}}})
    # Then the existing ones come back
    assert sorted(item["n"]["N"] for item in got["Responses"][name]) == ["1", "3"]
    assert got["UnprocessedKeys"] == {}
    # And the resource's batch writer (25 at a time) writes them all
    table = resource.Table(name)
    with table.batch_writer() as batch:
        for n in range(60):
            batch.put_item(Item={"pk": "bulk", "sk": f"{n:03d}"})
    assert table.scan()["Count"] == 65


def test_batch_errors_write_nothing(dynamodb: Any, new_table: NewTable) -> None:
    name = new_table()
    for items, message in (
        ([{"PutRequest": {"Item": key("a")}}, {"DeleteRequest": {"Key": key("a")}}],
         "Provided list of item keys contains duplicates"),
        ([{"PutRequest": {"Item": key("a")}}, {"PutRequest": {"Item": {"pk": {"S": "b"}}}}],
         "One or more parameter values were invalid: Missing the key sk in the item"),
        ([{"PutRequest": {"Item": key(f"x{n}")}} for n in range(26)],
         "Too many items requested for the BatchWriteItem call"),
    ):
        with pytest.raises(ClientError) as caught:
            dynamodb.batch_write_item(RequestItems={name: items})
        assert caught.value.response["Error"] == {"Code": "ValidationException",
                                                  "Message": message}
    assert dynamodb.scan(TableName=name)["Count"] == 0


def test_transactions_are_all_or_nothing(dynamodb: Any, new_table: NewTable) -> None:
    name = new_table()
    dynamodb.put_item(TableName=name, Item=key("stock") | {"left": {"N": "1"}})
    order = [
        {"Update": {"TableName": name, "Key": key("stock"), "UpdateExpression":
                    "SET #l = #l - :one", "ConditionExpression": "#l >= :one",
                    "ExpressionAttributeNames": {"#l": "left"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Put": {"TableName": name, "Item": key("order", "1"),
                 "ConditionExpression": "attribute_not_exists(pk)"}},
    ]
    # Given a transaction that succeeds once
    dynamodb.transact_write_items(TransactItems=order)
    # When it runs again, the stock check fails
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[
            order[0], {"Put": {"TableName": name, "Item": key("order", "2")}},
            {"ConditionCheck": {"TableName": name, "Key": key("order", "1"),
                                "ConditionExpression": "attribute_exists(pk)"}}])
    # Then it is cancelled with a reason per item, and nothing was written
    error = caught.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert error["Error"]["Message"] == ("Transaction cancelled, please refer cancellation "
                                         "reasons for specific reasons [ConditionalCheckFailed, "
                                         "None, None]")
    assert [reason["Code"] for reason in error["CancellationReasons"]] == [
        "ConditionalCheckFailed", "None", "None"]
    assert "Item" not in dynamodb.get_item(TableName=name, Key=key("order", "2"))
    got = dynamodb.transact_get_items(TransactItems=[
        {"Get": {"TableName": name, "Key": key("stock")}},
        {"Get": {"TableName": name, "Key": key("order", "2")}}])["Responses"]
    assert got[0]["Item"]["left"] == {"N": "0"} and got[1] == {}
    # And two operations on one item are refused
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[order[0], order[0]])
    assert caught.value.response["Error"]["Message"] == (
        "Transaction request cannot include multiple operations on one item")
