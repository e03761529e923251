"""DynamoDB stream mappings end to end: boto3 writes → stream shards → pollers → batches."""

from __future__ import annotations

import json
import os
import re
import signal
import uuid
from typing import Any

import boto3
import pytest
from redis import Redis

from tests.conftest import Deploy, Ripple, wait_for

RECORDER = """
import json, os
def handler(event, context):
    seen = [(r["dynamodb"]["SequenceNumber"], r["eventName"],
             int(r["dynamodb"].get("NewImage", {}).get("n", {}).get("N", "0")))
            for r in event["Records"]]
    print("BATCH " + json.dumps({"worker": os.getppid(), "records": seen}))
"""


@pytest.fixture
def dynamodb(ripple: Ripple) -> Any:
    return boto3.client("dynamodb", endpoint_url=ripple.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def table_spec(table: str) -> dict[str, Any]:
    return {"tables": {table: {"keys": {"pk": "S"}, "stream": "NEW_AND_OLD_IMAGES"}}}


def create_table(dynamodb: Any, table: str) -> None:
    dynamodb.create_table(
        TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


def batches(ripple: Ripple, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in re.findall(r"^BATCH (.*)$", ripple.logs(name), re.M)]


def test_500_updates_arrive_in_order_none_lost_none_doubled(
        ripple: Ripple, deploy: Deploy, dynamodb: Any) -> None:
    # Given a stream mapping with batches of at most 50 on a table with a stream
    table = f"t-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb, table)
    name = deploy(RECORDER, resources=table_spec(table), events=[
        {"dynamodb": {"table": table, "batch_size": 50, "starting_position": "TRIM_HORIZON"}}])
    # When one item is updated 500 times
    for _ in range(500):
        dynamodb.update_item(TableName=table, Key={"pk": {"S": "one"}},
                             UpdateExpression="ADD n :one",
                             ExpressionAttributeValues={":one": {"N": "1"}})
    # Then the function saw all 500 changes, in sequence order, once each, in small batches
    wait_for(lambda: sum(len(b["records"]) for b in batches(ripple, name)) >= 500, timeout=120)
    seen = [record for batch in batches(ripple, name) for record in batch["records"]]
    assert [n for _, _, n in seen] == list(range(1, 501))
    sequences = [int(sequence) for sequence, _, _ in seen]
    assert sequences == sorted(sequences) and len(set(sequences)) == 500
    assert seen[0][1] == "INSERT" and {event for _, event, _ in seen[1:]} == {"MODIFY"}
    assert max(len(batch["records"]) for batch in batches(ripple, name)) <= 50


def test_poison_record_goes_to_the_destination_and_the_shard_moves_on(
        ripple: Ripple, deploy: Deploy, dynamodb: Any) -> None:
    # Given a function that reports the record with n == 5 as failed, bisecting and
    # reporting item failures, with 2 retries and the dead-letter list as destination
    table = f"t-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb, table)
    name = deploy("""
        import json
        def handler(event, context):
            failures = []
            for r in event["Records"]:
                n = int(r["dynamodb"]["NewImage"]["n"]["N"])
                print(f"SAW {n} of {len(event['Records'])}")
                if n == 5:
                    failures.append({"itemIdentifier": r["dynamodb"]["SequenceNumber"]})
            return {"batchItemFailures": failures}
    """, resources=table_spec(table), events=[{"dynamodb": {
        "table": table, "batch_size": 10, "starting_position": "TRIM_HORIZON",
        "batching_window": 60, "bisect_batch_on_function_error": True,
        "report_batch_item_failures": True, "maximum_retry_attempts": 2,
        "on_failure": "dlq"}}])
    # When items 1..10 change on one partition key (one shard, in order)
    for n in range(1, 11):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "same"}, "n": {"N": str(n)}})
    # Then the poison record is given up after its retries, with the batch's metadata
    entry = wait_for(lambda: [e for e in ripple.api("GET", "/_ripple/api/dlq")
                              if e["function"] == name], timeout=60)[0]
    info = entry["record"]["DDBStreamBatchInfo"]
    assert entry["record"]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["batchSize"] >= 1 and info["streamArn"].endswith(tuple("0123456789"))
    # And the shard moved on: every later record was processed
    wait_for(lambda: "SAW 10" in ripple.logs(name), timeout=60)
    saw = [(int(n), int(size)) for n, size in
           re.findall(r"^SAW (\d+) of (\d+)$", ripple.logs(name), re.M)]
    # And the records before the poison were never retried
    assert all([n for n, _ in saw].count(n) == 1 for n in range(1, 5))
    # And bisection isolated the poison, which was tried alone 1 + 2 times
    assert saw.count((5, 1)) == 3


POISONED = """
import json, time
def handler(event, context):
    seen = [[int(r["dynamodb"]["NewImage"]["n"]["N"]), r["dynamodb"]["SequenceNumber"]]
            for r in event["Records"]]
    print("TRIED " + json.dumps(seen))
    if any(n == POISON for n, _ in seen):
        time.sleep(0.3)  # long enough for the test's writes to land while it is retried
        raise ValueError("poison record")
"""


def tried(ripple: Ripple, name: str) -> list[list[int]]:
    """The n of each record of each batch the function was invoked with, in order."""
    return [[n for n, _ in json.loads(line)]
            for line in re.findall(r"^TRIED (.*)$", ripple.logs(name), re.M)]


def sequence_of(ripple: Ripple, name: str, wanted: int) -> str:
    found = {n: sequence for line in re.findall(r"^TRIED (.*)$", ripple.logs(name), re.M)
             for n, sequence in json.loads(line)}
    return str(found[wanted])


def dead_letters(ripple: Ripple, name: str) -> list[dict[str, Any]]:
    return [entry["record"] for entry in ripple.api("GET", "/_ripple/api/dlq")
            if entry["function"] == name]


def test_a_retried_batch_does_not_grow_and_its_retries_are_not_reset(
        ripple: Ripple, deploy: Deploy, dynamodb: Any) -> None:
    # Given a function that always fails on the record with n == 0, with 2 retries and the
    # dead-letter list as its on-failure destination
    table = f"t-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb, table)
    name = deploy(POISONED.replace("POISON", "0"), resources=table_spec(table), events=[{
        "dynamodb": {"table": table, "batch_size": 10, "starting_position": "TRIM_HORIZON",
                     "maximum_retry_attempts": 2, "on_failure": "dlq"}}])
    # When the poison record is written, and five more while it is being retried
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": "0"}})
    wait_for(lambda: tried(ripple, name), timeout=60)
    for n in range(1, 6):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": str(n)}})
    # Then the poison is given up to the destination after 1 + 2 attempts, alone
    dead = wait_for(lambda: dead_letters(ripple, name), timeout=60)
    info = dead[0]["DDBStreamBatchInfo"]
    assert dead[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert dead[0]["requestContext"]["approximateInvokeCount"] == 3
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequence_of(
        ripple, name, 0)
    # And the shard moved on: the records written meanwhile were processed, once each
    wait_for(lambda: {n for batch in tried(ripple, name) for n in batch} >= set(range(6)),
             timeout=60)
    batches = tried(ripple, name)
    assert [batch for batch in batches if 0 in batch] == [[0], [0], [0]]
    assert sorted(n for batch in batches if 0 not in batch for n in batch) == [1, 2, 3, 4, 5]
    assert len(dead_letters(ripple, name)) == 1
    # And the failure record's shard and sequence number fetch the poison through boto3
    streams_client = boto3.client("dynamodbstreams", endpoint_url=ripple.url,
                                  region_name="us-east-1", aws_access_key_id="test",
                                  aws_secret_access_key="test")
    try:
        iterator = streams_client.get_shard_iterator(
            StreamArn=info["streamArn"], ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"])["ShardIterator"]
        page = streams_client.get_records(ShardIterator=iterator, Limit=1)["Records"]
    finally:
        streams_client.close()
    assert page[0]["dynamodb"]["NewImage"]["n"] == {"N": "0"}


def test_bisection_tries_each_half_in_turn_and_splits_do_not_spend_retries(
        ripple: Ripple, deploy: Deploy, dynamodb: Any) -> None:
    # Given a function that fails any batch holding n == 5, bisecting on errors, with 2
    # retries, batches of 10 and the dead-letter list as its on-failure destination
    table = f"t-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb, table)
    name = deploy(POISONED.replace("POISON", "5"), resources=table_spec(table), events=[{
        "dynamodb": {"table": table, "batch_size": 10, "starting_position": "TRIM_HORIZON",
                     "batching_window": 60, "bisect_batch_on_function_error": True,
                     "maximum_retry_attempts": 2, "on_failure": "dlq"}}])
    # When records 1..10 are written, then 11..13 while the first batch is being bisected
    for n in range(1, 11):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": str(n)}})
    wait_for(lambda: tried(ripple, name), timeout=60)
    for n in range(11, 14):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": str(n)}})
    # Then the failed batch was halved, each half tried in turn (splitting again when it
    # failed), the poison alone 1 + 2 times, and only then the records written meanwhile
    wait_for(lambda: 13 in {n for batch in tried(ripple, name) for n in batch}, timeout=60)
    assert tried(ripple, name) == [
        list(range(1, 11)), [1, 2, 3, 4, 5], [1, 2], [3, 4, 5], [3], [4, 5], [4],
        [5], [5], [5], [6, 7, 8, 9, 10], [11, 12, 13]]
    # And the destination got the poison record alone
    dead = dead_letters(ripple, name)
    assert len(dead) == 1 and dead[0]["DDBStreamBatchInfo"]["batchSize"] == 1
    assert dead[0]["DDBStreamBatchInfo"]["startSequenceNumber"] == sequence_of(ripple, name, 5)


def test_a_killed_shard_owner_hands_over_and_no_record_is_lost(
        ripple: Ripple, deploy: Deploy, dynamodb: Any) -> None:
    # Given a mapping whose shard is polled by one of the two workers
    table = f"t-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb, table)
    name = deploy(RECORDER, resources=table_spec(table), events=[
        {"dynamodb": {"table": table, "batch_size": 5, "starting_position": "TRIM_HORIZON"}}])
    for n in range(1, 51):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": str(n)}})
    wait_for(lambda: batches(ripple, name))
    shown = ripple.api("GET", "/_ripple/api/status")["redis_url"]  # the password is hidden
    password = (ripple.data_dir / "redis" / "password").read_text().strip()
    redis = Redis.from_url(shown.replace(":****@", f":{password}@"))
    leases = wait_for(lambda: redis.keys(f"ripple:esm:lease:{name}:*"))
    owner = redis.get(leases[0]).decode()
    # When the owning worker is killed
    os.kill(int(owner.rsplit("-", 1)[1]), signal.SIGKILL)
    for n in range(51, 101):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": str(n)}})
    # Then another worker takes the shard over and every record arrives (at least once)
    new_owner = wait_for(lambda: (value := redis.get(leases[0])) and value.decode() != owner
                         and value.decode(), timeout=60)
    assert new_owner != owner
    wait_for(lambda: {n for b in batches(ripple, name) for _, _, n in b["records"]}
             >= set(range(1, 101)), timeout=120)
