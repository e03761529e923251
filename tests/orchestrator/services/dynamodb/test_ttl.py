"""Time to live: UpdateTimeToLive/DescribeTimeToLive, and expired items removed by the
endpoint's sweep, each a REMOVE stream record naming the DynamoDB service."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Ripple, start_ripple, stop_ripple
from tests.orchestrator.services.dynamodb.conftest import aws


@pytest.fixture(scope="module")
def quick_sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ripple]:
    """A stack of its own whose endpoint sweeps for expired items every 0.2 s."""
    stack = start_ripple(tmp_path_factory.mktemp("ttl"), "--workers", "1",
                         RIPPLE_DYNAMODB_TTL_SWEEP_SECONDS="0.2")
    yield stack
    stop_ripple(stack)


def test_expired_items_leave_with_a_service_remove_record(quick_sweep: Ripple) -> None:
    dynamodb = boto3.client("dynamodb", **aws(quick_sweep))
    streams = boto3.client("dynamodbstreams", **aws(quick_sweep))
    # Given a streamed table with TTL on `expires`
    name = f"t-{uuid.uuid4().hex[:10]}"
    arn = dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    answer = dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires"})
    assert answer["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires"}
    assert dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    # When items expired a minute ago, expire in an hour, expired ten years ago, or carry a string
    now = int(time.time())
    items = {"gone": {"N": str(now - 60)}, "kept": {"N": str(now + 3600)},
             "ancient": {"N": str(now - 10 * 365 * 86400)}, "text": {"S": str(now - 60)}}
    for key, expires in items.items():
        dynamodb.put_item(TableName=name, Item={"pk": {"S": key}, "expires": expires})
    # Then only the item expired a minute ago goes, within a few sweeps
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = {item["pk"]["S"] for item in dynamodb.scan(TableName=name)["Items"]}
        if "gone" not in left:
            break
        time.sleep(0.1)
    assert left == {"kept", "ancient", "text"}
    # And the stream holds its REMOVE (the sweep may run between the puts), by the service
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert sorted(r["eventName"] for r in records) == ["INSERT"] * 4 + ["REMOVE"]
    removed = next(r for r in records if r["eventName"] == "REMOVE")
    assert removed["dynamodb"]["Keys"] == {"pk": {"S": "gone"}}
    assert removed["userIdentity"] == {"Type": "Service",
                                       "PrincipalId": "dynamodb.amazonaws.com"}


def test_ttl_errors(dynamodb: Any, new_table: Any) -> None:
    name = new_table()
    spec = {"Enabled": True, "AttributeName": "expires"}
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
    with pytest.raises(ClientError) as caught:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
    assert caught.value.response["Error"]["Message"] == "TimeToLive is already enabled"
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec | {
        "Enabled": False})
    assert dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}
