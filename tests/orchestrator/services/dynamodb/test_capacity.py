"""ReturnConsumedCapacity: TOTAL and INDEXES, with DynamoDB's unit sizes (1 KB a write unit,
4 KB a read unit, half for an eventually consistent read)."""

from __future__ import annotations

import uuid
from typing import Any


def test_consumed_capacity_of_writes_and_reads(dynamodb: Any) -> None:
    # Given a table with a GSI on `g`
    name = f"t-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}])
    big = {"pk": {"S": "a"}, "g": {"S": "x"}, "blob": {"S": "z" * 2500}}  # ~2.5 KB
    # When a 2.5 KB item in the index is put, asking for INDEXES
    put = dynamodb.put_item(TableName=name, Item=big, ReturnConsumedCapacity="INDEXES")
    # Then the table and the index each take 3 write units
    assert put["ConsumedCapacity"] == {
        "TableName": name, "CapacityUnits": 6.0, "WriteCapacityUnits": 6.0,
        "Table": {"CapacityUnits": 3.0, "WriteCapacityUnits": 3.0},
        "GlobalSecondaryIndexes": {"by_g": {"CapacityUnits": 3.0, "WriteCapacityUnits": 3.0}}}
    # And a small item outside the index takes one unit, as TOTAL
    small = dynamodb.put_item(TableName=name, Item={"pk": {"S": "b"}},
                              ReturnConsumedCapacity="TOTAL")
    assert small["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 1.0,
                                         "WriteCapacityUnits": 1.0}
    # When the item is read eventually and strongly, then it is half a unit and one unit
    key = {"pk": {"S": "a"}}
    units = [dynamodb.get_item(TableName=name, Key=key, ConsistentRead=consistent,
                               ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
             ["CapacityUnits"] for consistent in (False, True)]
    assert units == [0.5, 1.0]
    # And a query of the index bills the index
    query = dynamodb.query(TableName=name, IndexName="by_g", KeyConditionExpression="g = :g",
                           ExpressionAttributeValues={":g": {"S": "x"}},
                           ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"]
    assert query["GlobalSecondaryIndexes"] == {"by_g": {"CapacityUnits": 0.5,
                                                        "ReadCapacityUnits": 0.5}}
    # And without asking, no ConsumedCapacity is answered
    assert "ConsumedCapacity" not in dynamodb.get_item(TableName=name, Key=key)
