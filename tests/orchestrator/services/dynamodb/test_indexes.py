"""Secondary indexes through boto3: GSIs (sparse, projected, paginated), LSIs, the consistent
read rule, DescribeTable's index entries, and UpdateTable adding (backfilled) and removing a GSI."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError


def orders_table(dynamodb: Any, **extra: Any) -> str:
    """orders: pk/sk, GSI `by_status` (status, created; KEYS_ONLY unless told), GSI `by_customer`
    (customer; INCLUDE total), LSI `by_total` (pk, total; ALL)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    attribute = [("pk", "S"), ("sk", "S"), ("status", "S"), ("created", "N"), ("customer", "S"),
                 ("total", "N")]
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in attribute],
        GlobalSecondaryIndexes=[
            {"IndexName": "by_status",
             "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                           {"AttributeName": "created", "KeyType": "RANGE"}],
             "Projection": extra.get("status_projection", {"ProjectionType": "KEYS_ONLY"})},
            {"IndexName": "by_customer",
             "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]}}],
        LocalSecondaryIndexes=[
            {"IndexName": "by_total",
             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                           {"AttributeName": "total", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    return name


def order(number: int, status: str | None = "open", customer: str = "c1") -> dict[str, Any]:
    item = {"pk": {"S": "shop"}, "sk": {"S": f"o{number:03d}"}, "created": {"N": str(number)},
            "customer": {"S": customer}, "total": {"N": str(100 - number)},
            "note": {"S": f"note {number}"}}
    if status is not None:
        item["status"] = {"S": status}
    return item


def test_query_a_sparse_keys_only_gsi(dynamodb: Any) -> None:
    # Given orders, some with a status and some without
    name = orders_table(dynamodb)
    for number in range(6):
        dynamodb.put_item(TableName=name, Item=order(number, "open" if number % 2 else None))
    # When the status index is queried
    found = dynamodb.query(TableName=name, IndexName="by_status",
                           KeyConditionExpression="#s = :open AND created > :one",
                           ExpressionAttributeNames={"#s": "status"},
                           ExpressionAttributeValues={":open": {"S": "open"}, ":one": {"N": "1"}})
    # Then only items holding the index key are in it, in index order, with the keys projected
    assert [item["sk"]["S"] for item in found["Items"]] == ["o003", "o005"]
    assert set(found["Items"][0]) == {"pk", "sk", "status", "created"}
    assert found["Count"] == found["ScannedCount"] == 2
    # And scanning the index sees the same three-of-six
    assert dynamodb.scan(TableName=name, IndexName="by_status")["Count"] == 3
    # And DescribeTable counts the entries of each index
    table = dynamodb.describe_table(TableName=name)["Table"]
    counts = {index["IndexName"]: index["ItemCount"] for index in
              table["GlobalSecondaryIndexes"] + table["LocalSecondaryIndexes"]}
    assert counts == {"by_status": 3, "by_customer": 6, "by_total": 6}
    gsi = next(i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "by_status")
    assert gsi["IndexStatus"] == "ACTIVE"
    assert gsi["IndexArn"] == f"{table['TableArn']}/index/by_status"
    assert gsi["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_an_index_follows_updates_and_deletes(dynamodb: Any) -> None:
    # Given an open order in the index
    name = orders_table(dynamodb)
    dynamodb.put_item(TableName=name, Item=order(1))
    key = {"pk": {"S": "shop"}, "sk": {"S": "o001"}}

    def statuses(status: str) -> list[str]:
        return [item["sk"]["S"] for item in dynamodb.query(
            TableName=name, IndexName="by_status", KeyConditionExpression="#s = :v",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":v": {"S": status}})["Items"]]

    # When its status changes, then it moves between index partitions
    dynamodb.update_item(TableName=name, Key=key, UpdateExpression="SET #s = :v",
                         ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":v": {"S": "shipped"}})
    assert (statuses("open"), statuses("shipped")) == ([], ["o001"])
    # When the index key is removed, then the item leaves the index
    dynamodb.update_item(TableName=name, Key=key, UpdateExpression="REMOVE #s",
                         ExpressionAttributeNames={"#s": "status"})
    assert statuses("shipped") == []
    # When the item is deleted, then no index holds it
    dynamodb.delete_item(TableName=name, Key=key)
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert [index["ItemCount"] for index in table["GlobalSecondaryIndexes"]] == [0, 0]


def test_index_key_of_the_wrong_type_is_refused(dynamodb: Any) -> None:
    # Given the status index keyed by a string
    name = orders_table(dynamodb)
    # When an item's status is a number
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(TableName=name, Item=order(1) | {"status": {"N": "1"}})
    # Then DynamoDB's message names the index, and nothing is written
    assert caught.value.response["Error"]["Message"] == (
        "One or more parameter values were invalid: Type mismatch for Index Key status "
        "Expected: S Actual: N IndexName: by_status")
    assert dynamodb.scan(TableName=name)["Count"] == 0


def test_include_projection_and_pagination_over_a_gsi(resource: Any, dynamodb: Any) -> None:
    # Given five orders of one customer
    name = orders_table(dynamodb)
    table = resource.Table(name)
    for number in range(5):
        dynamodb.put_item(TableName=name, Item=order(number))
    # When the customer index is read two at a time
    pages, start = [], None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = table.query(IndexName="by_customer", KeyConditionExpression=Key("customer").eq("c1"),
                           Limit=2, **extra)
        pages.append(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
        # Then LastEvaluatedKey carries the index's key and the table's
        assert set(start) == {"customer", "pk", "sk"}
    # And every item comes once, with the keys and the included attribute only
    found = [item for page in pages for item in page]
    assert sorted(item["sk"] for item in found) == [f"o{n:03d}" for n in range(5)]
    assert all(set(item) == {"pk", "sk", "customer", "total"} for item in found)


def test_lsi_query_consistent_and_fetches_from_the_table(dynamodb: Any) -> None:
    # Given orders with totals 100 - n
    name = orders_table(dynamodb)
    for number in range(4):
        dynamodb.put_item(TableName=name, Item=order(number))
    # When the LSI is queried for totals at most 98, consistently, for all attributes
    found = dynamodb.query(TableName=name, IndexName="by_total", ConsistentRead=True,
                           KeyConditionExpression="pk = :p AND #t <= :t",
                           Select="ALL_ATTRIBUTES", ExpressionAttributeNames={"#t": "total"},
                           ExpressionAttributeValues={":p": {"S": "shop"}, ":t": {"N": "98"}})
    # Then items come in total order, whole (an LSI reads what it lacks from the table)
    assert [item["total"]["N"] for item in found["Items"]] == ["97", "98"]
    assert found["Items"][0]["note"] == {"S": "note 3"}


def test_gsi_rules_as_dynamodb_words_them(dynamodb: Any) -> None:
    name = orders_table(dynamodb)
    query = {"TableName": name, "KeyConditionExpression": "customer = :c",
             "ExpressionAttributeValues": {":c": {"S": "c1"}}}
    cases = [
        ({"IndexName": "by_customer", "ConsistentRead": True},
         "Consistent reads are not supported on global secondary indexes"),
        ({"IndexName": "nope"}, "The table does not have the specified index: nope"),
        ({"IndexName": "by_customer", "Select": "ALL_ATTRIBUTES"},
         "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported"
         " for global secondary index by_customer because its projection type is not ALL"),
        ({"Select": "ALL_PROJECTED_ATTRIBUTES"},
         "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
    ]
    for extra, message in cases:
        with pytest.raises(ClientError) as caught:
            dynamodb.query(**query, **extra)
        assert caught.value.response["Error"] == {"Code": "ValidationException",
                                                  "Message": message}


def test_create_table_index_errors(dynamodb: Any) -> None:
    base = {"TableName": f"t-{uuid.uuid4().hex[:10]}", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "g", "AttributeType": "S"}]}
    lsi = [{"IndexName": "lsi1", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                             {"AttributeName": "g", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}]
    gsi = [{"IndexName": "gsi1", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL", "NonKeyAttributes": ["x"]}}]
    cases = [
        ({}, "One or more parameter values were invalid: Number of attributes in KeySchema does "
             "not exactly match number of attributes defined in AttributeDefinitions"),
        ({"LocalSecondaryIndexes": lsi}, "One or more parameter values were invalid: Table "
         "KeySchema does not have a range key, which is required when specifying a "
         "LocalSecondaryIndex"),
        ({"GlobalSecondaryIndexes": gsi}, "One or more parameter values were invalid: "
         "ProjectionType is ALL, but NonKeyAttributes is specified"),
    ]
    for extra, message in cases:
        with pytest.raises(ClientError) as caught:
            dynamodb.create_table(**base, **extra)
        assert caught.value.response["Error"]["Message"] == message


def wait_active(dynamodb: Any, name: str, index: str) -> list[str]:
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = dynamodb.describe_table(TableName=name)["Table"]
        status = next(i["IndexStatus"] for i in described["GlobalSecondaryIndexes"]
                      if i["IndexName"] == index)
        seen.append(status)
        if status == "ACTIVE":
            return seen
        time.sleep(0.05)
    raise TimeoutError(f"index {index} still {seen[-1]}")


def test_update_table_adds_a_backfilled_gsi_and_removes_it(dynamodb: Any) -> None:
    # Given a table holding 300 items before any index
    name = f"t-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    for number in range(300):
        item = {"pk": {"S": f"k{number}"}}
        if number % 3 == 0:
            item["colour"] = {"S": "red" if number % 2 else "blue"}
        dynamodb.put_item(TableName=name, Item=item)
    # When a GSI on colour is added
    answer = dynamodb.update_table(
        TableName=name, AttributeDefinitions=[{"AttributeName": "colour", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by_colour", "KeySchema": [{"AttributeName": "colour", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}}])
    # Then it starts CREATING and becomes ACTIVE once every existing item is in it
    created = answer["TableDescription"]["GlobalSecondaryIndexes"][0]
    assert created["IndexStatus"] == "CREATING" and created["Backfilling"] is True
    assert wait_active(dynamodb, name, "by_colour")[-1] == "ACTIVE"
    red = dynamodb.query(TableName=name, IndexName="by_colour",
                         KeyConditionExpression="colour = :c",
                         ExpressionAttributeValues={":c": {"S": "red"}})
    assert red["Count"] == 50
    described = dynamodb.describe_table(TableName=name)["Table"]
    assert described["GlobalSecondaryIndexes"][0]["ItemCount"] == 100
    assert {"AttributeName": "colour", "AttributeType": "S"} in described["AttributeDefinitions"]
    # When it is removed
    answer = dynamodb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[
        {"Delete": {"IndexName": "by_colour"}}])
    assert answer["TableDescription"]["GlobalSecondaryIndexes"][0]["IndexStatus"] == "DELETING"
    # Then the table no longer has it, and writes go on
    assert "GlobalSecondaryIndexes" not in dynamodb.describe_table(TableName=name)["Table"]
    with pytest.raises(ClientError) as caught:
        dynamodb.query(TableName=name, IndexName="by_colour",
                       KeyConditionExpression="colour = :c",
                       ExpressionAttributeValues={":c": {"S": "red"}})
    assert "does not have the specified index" in caught.value.response["Error"]["Message"]
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "after"}, "colour": {"S": "red"}})
