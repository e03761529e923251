"""The legacy parameters: AttributesToGet, KeyConditions, QueryFilter, ScanFilter, Expected with
ConditionalOperator, and AttributeUpdates, answered as their expression forms are."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.orchestrator.services.dynamodb.conftest import NewTable


def fill(dynamodb: Any, name: str) -> None:
    for number in range(5):
        dynamodb.put_item(TableName=name, Item={
            "pk": {"S": "a"}, "sk": {"S": f"s{number}"}, "n": {"N": str(number)},
            "tag": {"S": "even" if number % 2 == 0 else "odd"}})


def test_query_with_key_conditions_query_filter_and_attributes_to_get(
        dynamodb: Any, new_table: NewTable) -> None:
    # Given five items in one partition
    name = new_table()
    fill(dynamodb, name)
    # When they are queried the legacy way
    found = dynamodb.query(
        TableName=name,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
                       "sk": {"ComparisonOperator": "BETWEEN",
                              "AttributeValueList": [{"S": "s1"}, {"S": "s4"}]}},
        QueryFilter={"tag": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "odd"}]},
                     "n": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "2"}]}},
        ConditionalOperator="OR", AttributesToGet=["sk", "n"])
    # Then the key range, the OR-ed filter and the attribute list all apply
    assert found["Items"] == [{"sk": {"S": "s1"}, "n": {"N": "1"}},
                              {"sk": {"S": "s3"}, "n": {"N": "3"}},
                              {"sk": {"S": "s4"}, "n": {"N": "4"}}]
    assert found["ScannedCount"] == 4


def test_scan_filter_with_in_and_not_null(dynamodb: Any, new_table: NewTable) -> None:
    name = new_table()
    fill(dynamodb, name)
    found = dynamodb.scan(TableName=name, ScanFilter={
        "n": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "0"}, {"N": "3"}]},
        "tag": {"ComparisonOperator": "NOT_NULL"}})
    assert sorted(item["sk"]["S"] for item in found["Items"]) == ["s0", "s3"]


def test_expected_and_attribute_updates(dynamodb: Any, new_table: NewTable) -> None:
    # Given an item
    name = new_table()
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    dynamodb.put_item(TableName=name, Item=key | {"n": {"N": "1"}},
                      Expected={"pk": {"Exists": False}})
    # When it is updated the legacy way, on an Expected value that holds
    answer = dynamodb.update_item(
        TableName=name, Key=key, Expected={"n": {"Value": {"N": "1"}}},
        AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "5"}},
                          "s": {"Action": "PUT", "Value": {"SS": ["x", "y"]}}},
        ReturnValues="ALL_NEW")
    # Then both actions applied
    assert answer["Attributes"] == key | {"n": {"N": "6"}, "s": {"SS": ["x", "y"]}}
    # When Expected does not hold, then the conditional check fails as with expressions
    with pytest.raises(ClientError) as caught:
        dynamodb.delete_item(TableName=name, Key=key, Expected={
            "n": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "3"}]}})
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    # And DELETE without a value removes the attribute
    dynamodb.update_item(TableName=name, Key=key, AttributeUpdates={"s": {"Action": "DELETE"}})
    assert "s" not in dynamodb.get_item(TableName=name, Key=key, AttributesToGet=["s", "n"])[
        "Item"]


def test_legacy_errors_as_dynamodb_words_them(dynamodb: Any, new_table: NewTable) -> None:
    name = new_table()
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    cases = [
        ({"AttributesToGet": ["n"], "ProjectionExpression": "n"},
         "Can not use both expression and non-expression parameters in the same request: "
         "Non-expression parameters: {AttributesToGet} Expression parameters: "
         "{ProjectionExpression}"),
    ]
    for extra, message in cases:
        with pytest.raises(ClientError) as caught:
            dynamodb.get_item(TableName=name, Key=key, **extra)
        assert caught.value.response["Error"] == {"Code": "ValidationException",
                                                  "Message": message}
    with pytest.raises(ClientError) as caught:
        dynamodb.delete_item(TableName=name, Key=key, ConditionalOperator="AND")
    assert caught.value.response["Error"]["Message"] == (
        "ConditionalOperator can only be used when Filter or Expected has been specified")
    with pytest.raises(ClientError) as caught:
        dynamodb.scan(TableName=name, ScanFilter={"n": {"ComparisonOperator": "BETWEEN",
                                                        "AttributeValueList": [{"N": "1"}]}})
    assert caught.value.response["Error"]["Message"] == (
        "One or more parameter values were invalid: Invalid number of argument(s) for the "
        "BETWEEN ComparisonOperator")
