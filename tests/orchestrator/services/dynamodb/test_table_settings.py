"""Deletion protection, table ARNs in place of names, and tags, as DynamoDB answers them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.orchestrator.services.dynamodb.conftest import NewTable


def error(caught: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    return caught.value.response["Error"]


def test_deletion_protection_refuses_delete_table(dynamodb: Any, new_table: NewTable) -> None:
    # Given a protected table
    name = new_table()
    answer = dynamodb.update_table(TableName=name, DeletionProtectionEnabled=True)
    assert answer["TableDescription"]["DeletionProtectionEnabled"] is True
    # When it is deleted, then DynamoDB's error says why, and the table stays
    with pytest.raises(ClientError) as caught:
        dynamodb.delete_table(TableName=name)
    assert error(caught) == {
        "Code": "ValidationException",
        "Message": "Resource cannot be deleted as it is currently protected against deletion. "
                   "Disable deletion protection first."}
    assert dynamodb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
    # When protection is turned off, then it can be deleted
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=False)
    dynamodb.delete_table(TableName=name)


def test_a_table_arn_is_a_table_name(dynamodb: Any, resource: Any, new_table: NewTable) -> None:
    # Given a table and its ARN
    name = new_table(pk="S")
    arn = dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
    # When items are written and read through the ARN, by client and resource
    dynamodb.put_item(TableName=arn, Item={"pk": {"S": "a"}})
    resource.Table(arn).put_item(Item={"pk": "b"})
    # Then the table named holds them
    assert dynamodb.get_item(TableName=arn, Key={"pk": {"S": "b"}})["Item"] == {"pk": {"S": "b"}}
    assert dynamodb.scan(TableName=name)["Count"] == 2
    assert dynamodb.describe_table(TableName=arn)["Table"]["TableName"] == name


def test_tags(dynamodb: Any) -> None:
    # Given a table created with a tag
    name = f"tagged-{uuid.uuid4().hex[:8]}"
    arn = dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        Tags=[{"Key": "team", "Value": "data"}])["TableDescription"]["TableArn"]
    # When tags are added and one removed
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"},
                                                 {"Key": "team", "Value": "core"}])
    dynamodb.untag_resource(ResourceArn=arn, TagKeys=["env"])
    # Then the table lists what is left
    assert dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "core"}]
    # And a table that does not exist, or an ARN that is not a table's, is refused as AWS does
    missing = arn.replace(name, "missing-table")
    with pytest.raises(ClientError) as caught:
        dynamodb.list_tags_of_resource(ResourceArn=missing)
    assert error(caught) == {"Code": "ResourceNotFoundException", "Message":
                             f"Requested resource not found: ResourcArn: {missing} not found"}
    with pytest.raises(ClientError) as caught:
        dynamodb.tag_resource(ResourceArn="arn:aws:s3:::bucket", Tags=[{"Key": "a",
                                                                         "Value": "b"}])
    assert error(caught)["Message"] == ("Invalid TableArn: Invalid ResourceArn provided as input "
                                        "arn:aws:s3:::bucket")
