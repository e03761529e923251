"""Query and Scan through boto3: key conditions, order, pages, filters, projections, COUNT."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from tests.orchestrator.services.dynamodb.conftest import NewTable

NUMBERS = ["-20", "-3", "-0.5", "0", "1.5", "2", "10", "100", "1E+3"]


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


@pytest.fixture
def numbers(resource: Any, new_table: NewTable) -> Any:
    """A table with numeric sort keys in partition "a", written in a shuffled order."""
    table = resource.Table(new_table(pk="S", sk="N"))
    for n in ["10", "-3", "1E+3", "0", "2", "-20", "100", "1.5", "-0.5"]:
        table.put_item(Item={"pk": "a", "sk": Decimal(n), "odd": int(Decimal(n)) % 2 == 1})
    table.put_item(Item={"pk": "b", "sk": 1})
    return table


def sort_keys(page: dict[str, Any]) -> list[Decimal]:
    return [item["sk"] for item in page["Items"]]


def test_numeric_sort_keys_come_back_in_numeric_order(numbers: Any) -> None:
    page = numbers.query(KeyConditionExpression=Key("pk").eq("a"))
    assert sort_keys(page) == [Decimal(n) for n in NUMBERS]
    assert page["Count"] == page["ScannedCount"] == 9
    backwards = numbers.query(KeyConditionExpression=Key("pk").eq("a"), ScanIndexForward=False)
    assert sort_keys(backwards) == [Decimal(n) for n in reversed(NUMBERS)]


@pytest.mark.parametrize(("condition", "expected"), [
    (Key("sk").eq(2), ["2"]),
    (Key("sk").lt(0), ["-20", "-3", "-0.5"]),
    (Key("sk").lte(0), ["-20", "-3", "-0.5", "0"]),
    (Key("sk").gt(10), ["100", "1E+3"]),
    (Key("sk").gte(10), ["10", "100", "1E+3"]),
    (Key("sk").between(-3, 2), ["-3", "-0.5", "0", "1.5", "2"]),
])
def test_sort_key_conditions(numbers: Any, condition: Any, expected: list[str]) -> None:
    page = numbers.query(KeyConditionExpression=Key("pk").eq("a") & condition)
    assert sort_keys(page) == [Decimal(n) for n in expected]


def test_begins_with_on_string_sort_keys(resource: Any, new_table: NewTable) -> None:
    table = resource.Table(new_table())
    for sk in ["order#1", "order#2", "orders", "other", "order"]:
        table.put_item(Item={"pk": "p", "sk": sk})
    page = table.query(KeyConditionExpression=Key("pk").eq("p") & Key("sk").begins_with("order#"))
    assert [item["sk"] for item in page["Items"]] == ["order#1", "order#2"]


def test_pages_with_limit_and_exclusive_start_key(numbers: Any) -> None:
    # Given pages of 4, forwards then backwards
    for forward in (True, False):
        seen: list[Decimal] = []
        request: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq("a"), "Limit": 4,
                                   "ScanIndexForward": forward}
        while True:
            page = numbers.query(**request)
            assert page["Count"] <= 4
            seen += sort_keys(page)
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        # Then every item comes once, in order
        expected = [Decimal(n) for n in NUMBERS]
        assert seen == (expected if forward else expected[::-1])


def test_filter_projection_and_count(numbers: Any, dynamodb: Any) -> None:
    # Given a filter, the limit counts items read, not items kept
    page = numbers.query(KeyConditionExpression=Key("pk").eq("a"),
                         FilterExpression=Attr("odd").eq(True), Limit=5)
    assert page["ScannedCount"] == 5 and sort_keys(page) == [Decimal(-3), Decimal("1.5")]
    # And a projection keeps only the named attributes
    projected = numbers.query(KeyConditionExpression=Key("pk").eq("a") & Key("sk").eq(2),
                              ProjectionExpression="odd")
    assert projected["Items"] == [{"odd": False}]
    # And Select COUNT counts without items
    counted = dynamodb.query(
        TableName=numbers.name, KeyConditionExpression="pk = :a", FilterExpression="odd = :t",
        ExpressionAttributeValues={":a": {"S": "a"}, ":t": {"BOOL": True}}, Select="COUNT")
    assert "Items" not in counted and counted["Count"] == 2 and counted["ScannedCount"] == 9


@pytest.mark.parametrize(("request_", "message"), [
    ({"KeyConditionExpression": "sk = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "Query condition missed key schema element: pk"),
    ({"KeyConditionExpression": "pk = :v OR sk = :w",
      "ExpressionAttributeValues": {":v": {"S": "a"}, ":w": {"N": "1"}}},
     "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR"),
    ({"KeyConditionExpression": "pk = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "One or more parameter values were invalid: Condition parameter type does not match "
     "schema type"),
    ({"KeyConditionExpression": "pk = :v", "FilterExpression": "sk > :w",
      "ExpressionAttributeValues": {":v": {"S": "a"}, ":w": {"N": "1"}}},
     "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"),
    ({"KeyConditionExpression": "pk = :v AND", "ExpressionAttributeValues": {":v": {"S": "a"}}},
     'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: ":v AND"'),
])
def test_bad_queries(numbers: Any, dynamodb: Any, request_: dict[str, Any],
                     message: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.query(TableName=numbers.name, **request_)
    assert error_of(caught) == ("ValidationException", message)


def test_scan_pages_and_filters_across_partitions(resource: Any, new_table: NewTable,
                                                  dynamodb: Any) -> None:
    # Given 25 items over 5 partitions
    table = resource.Table(new_table(pk="S", sk="N"))
    with table.batch_writer() as batch:
        for n in range(25):
            batch.put_item(Item={"pk": f"p{n % 5}", "sk": n, "even": n % 2 == 0})
    # When scanned 7 at a time
    seen = []
    request: dict[str, Any] = {"Limit": 7}
    while True:
        page = table.scan(**request)
        seen += [(item["pk"], item["sk"]) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    # Then each item comes once
    assert sorted(seen) == sorted((f"p{n % 5}", n) for n in range(25))
    # And filters, parallel segments and the paginator work
    assert table.scan(FilterExpression=Attr("even").eq(True))["Count"] == 13
    segments = [item["sk"] for s in range(3)
                for item in table.scan(Segment=s, TotalSegments=3)["Items"]]
    assert sorted(segments) == list(range(25))
    pages = dynamodb.get_paginator("scan").paginate(TableName=table.name,
                                                    PaginationConfig={"PageSize": 10})
    assert sum(page["Count"] for page in pages) == 25
