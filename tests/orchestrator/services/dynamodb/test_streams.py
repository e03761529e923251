"""Stream records: one per change, in order per shard, shaped as Lambda delivers them; the
read API the pollers use; and the DynamoDB Streams API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from redis import Redis

from orchestrator.services.dynamodb import streams
from tests.orchestrator.services.dynamodb.conftest import NewTable


def records(redis: Redis, table: str) -> dict[str, list[tuple[str, dict[str, Any], str]]]:
    """Every shard's records, by shard key."""
    return {shard: streams.read_records(redis, shard, "0-0", 10_000)
            for shard in streams.shard_keys(redis, table)}


def all_records(redis: Redis, table: str) -> list[dict[str, Any]]:
    return [record for shard in records(redis, table).values() for _, record, _ in shard]


@pytest.mark.parametrize("view_type", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE",
                                       "NEW_AND_OLD_IMAGES"])
def test_insert_modify_remove_records_in_order(dynamodb: Any, redis: Redis, new_table: NewTable,
                                               view_type: str) -> None:
    # Given a table with a stream of this view type
    name = new_table(stream=view_type)
    key = {"pk": {"S": "item"}, "sk": {"S": "1"}}
    first, second = key | {"v": {"N": "1"}}, key | {"v": {"N": "2"}}
    # When an item is inserted, modified, rewritten unchanged, and removed
    dynamodb.put_item(TableName=name, Item=first)
    dynamodb.update_item(TableName=name, Key=key, UpdateExpression="SET v = :two",
                         ExpressionAttributeValues={":two": {"N": "2"}})
    dynamodb.put_item(TableName=name, Item=second)  # no change: no record
    dynamodb.delete_item(TableName=name, Key=key)
    dynamodb.delete_item(TableName=name, Key=key)  # nothing to delete: no record
    # Then one shard holds three records, in order, with increasing sequence numbers
    by_shard = {shard: entries for shard, entries in records(redis, name).items() if entries}
    assert len(by_shard) == 1
    shard, entries = next(iter(by_shard.items()))
    assert shard == f"ripple:ddb:stream:{name}:0"
    found = [record for _, record, _ in entries]
    assert [r["eventName"] for r in found] == ["INSERT", "MODIFY", "REMOVE"]
    sequence = [r["dynamodb"]["SequenceNumber"] for r in found]
    assert sequence == sorted(sequence, key=int) and len(set(sequence)) == 3
    assert [streams.sequence_number(entry_id) for entry_id, _, _ in entries] == sequence
    # And each record remembers its write's trace context, for the batch's span links
    assert all(trace.startswith("Root=1-") for _, _, trace in entries)
    # And each record carries the keys and the images its view type asks for
    wants_new = view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    wants_old = view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    images = [(r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage")) for r in found]
    assert images == [(None, first if wants_new else None),
                      (first if wants_old else None, second if wants_new else None),
                      (second if wants_old else None, None)]
    assert all(r["dynamodb"]["Keys"] == key and r["dynamodb"]["StreamViewType"] == view_type
               for r in found)
    # And they are complete Lambda records of this table's stream
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    assert all(r["eventSourceARN"] == arn and r["awsRegion"] == "us-east-1" for r in found)
    DynamoDBStreamModel.model_validate({"Records": found})


def test_tables_without_a_stream_have_no_shards(dynamodb: Any, redis: Redis,
                                                new_table: NewTable) -> None:
    name = new_table()
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    assert streams.shard_keys(redis, name) == []
    assert streams.table_stream_arn(redis, name) is None
    assert not redis.keys(f"ripple:ddb:stream:{name}:*")


def test_a_new_tables_partitions_share_its_one_shard_in_write_order(
        dynamodb: Any, redis: Redis, new_table: NewTable) -> None:
    # Given writes to many partitions of a new table, round after round
    name = new_table(stream="KEYS_ONLY")
    for round_ in range(3):
        for n in range(20):
            dynamodb.put_item(TableName=name, Item={"pk": {"S": f"p{n}"}, "sk": {"S": "s"},
                                                    "round": {"N": str(round_)}})
    # Then they are all in the table's one shard, in write order, sequence numbers increasing
    by_shard = records(redis, name)
    assert list(by_shard) == [f"ripple:ddb:stream:{name}:0"]
    shard, entries = next(iter(by_shard.items()))
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for _, record, _ in entries] == [
        f"p{n}" for _ in range(3) for n in range(20)]
    sequence = [int(record["dynamodb"]["SequenceNumber"]) for _, record, _ in entries]
    assert sequence == sorted(sequence) and len(set(sequence)) == 60
    # And reading after an entry id resumes there
    rest = streams.read_records(redis, shard, entries[1][0], 100)
    assert [entry_id for entry_id, _, _ in rest] == [entry_id for entry_id, _, _ in entries[2:]]


def test_concurrent_adds_lose_no_update(dynamodb: Any, redis: Redis,
                                        new_table: NewTable) -> None:
    # Given one item and 500 concurrent increments from 50 threads
    name = new_table(stream="NEW_AND_OLD_IMAGES")
    key = {"pk": {"S": "hot"}, "sk": {"S": "counter"}}

    def add_one(_: int) -> None:
        dynamodb.update_item(TableName=name, Key=key, UpdateExpression="ADD #c :one",
                             ExpressionAttributeNames={"#c": "counter"},
                             ExpressionAttributeValues={":one": {"N": "1"}})

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(add_one, range(500)))
    # Then the counter is 500
    item = dynamodb.get_item(TableName=name, Key=key, ConsistentRead=True)["Item"]
    assert item["counter"] == {"N": "500"}
    # And 500 records tell the story in order: 1 INSERT, then 499 MODIFY, each one step
    found = all_records(redis, name)
    assert [r["eventName"] for r in found] == ["INSERT"] + ["MODIFY"] * 499
    assert [int(r["dynamodb"]["NewImage"]["counter"]["N"]) for r in found] == list(
        range(1, 501))
    assert [int(r["dynamodb"]["OldImage"]["counter"]["N"]) for r in found[1:]] == list(
        range(1, 500))
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in found]
    assert sequence == sorted(sequence) and len(set(sequence)) == 500


def test_dynamodb_streams_api(dynamodb: Any, streams_client: Any, new_table: NewTable) -> None:
    # Given a table with a few changes
    name = new_table(stream="NEW_IMAGE")
    for n in range(3):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": str(n)}})
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    # When the DynamoDB Streams API lists, describes and reads it
    assert {"StreamArn": arn, "TableName": name} .items() <= streams_client.list_streams(
        TableName=name)["Streams"][0].items()
    described = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]
    assert described["StreamViewType"] == "NEW_IMAGE" and len(described["Shards"]) == 1
    found = []
    for shard in described["Shards"]:
        iterator = streams_client.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = streams_client.get_records(ShardIterator=iterator, Limit=100)
        found += page["Records"]
        # And nothing more follows the last record
        assert streams_client.get_records(ShardIterator=page["NextShardIterator"])["Records"] \
            == []
    # Then it returns the three INSERT records
    assert [r["eventName"] for r in found] == ["INSERT"] * 3
    assert sorted(r["dynamodb"]["NewImage"]["sk"]["S"] for r in found) == ["0", "1", "2"]


def test_a_new_tables_stream_has_one_shard(dynamodb: Any, streams_client: Any,
                                           new_table: NewTable) -> None:
    # Given a new table with a stream and changes to several partitions
    name = new_table(stream="KEYS_ONLY")
    for n in range(8):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": f"p{n}"}, "sk": {"S": "s"}})
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    # When boto3 describes its stream
    shards = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    # Then it has one shard, as DynamoDB gives a new table, holding every change in order
    assert [shard["ShardId"] for shard in shards] == ["shardId-00000000000000000000-00000000"]
    iterator = streams_client.get_shard_iterator(
        StreamArn=arn, ShardId=shards[0]["ShardId"],
        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    found = streams_client.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in found] == [f"p{n}" for n in range(8)]
    assert found[0]["dynamodb"]["SequenceNumber"] == \
        shards[0]["SequenceNumberRange"]["StartingSequenceNumber"]
    # And there is no second shard to read
    with pytest.raises(streams_client.exceptions.ResourceNotFoundException):
        streams_client.get_shard_iterator(StreamArn=arn,
                                          ShardId="shardId-00000000000000000000-00000001",
                                          ShardIteratorType="TRIM_HORIZON")


def test_sequence_numbers_pass_botocores_checks_and_position_an_iterator(
        dynamodb: Any, streams_client: Any, new_table: NewTable) -> None:
    # Given a table with five changes in its stream
    name = new_table(stream="NEW_IMAGE")
    for n in range(5):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": str(n)}})
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams_client.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
    found = streams_client.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    sequence = [r["dynamodb"]["SequenceNumber"] for r in found]
    # Then their sequence numbers are 21 to 40 digits (DynamoDB's, and botocore's minimum),
    # increasing both as numbers and as text
    assert all(21 <= len(number) <= 40 and number.isdigit() for number in sequence)
    assert sequence == sorted(sequence, key=int) == sorted(sequence)
    assert len(set(sequence)) == 5

    def read_from(kind: str, number: str) -> list[str]:
        iterator = streams_client.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=kind,
            SequenceNumber=number)["ShardIterator"]
        page = streams_client.get_records(ShardIterator=iterator)["Records"]
        return [r["dynamodb"]["NewImage"]["sk"]["S"] for r in page]

    # When boto3 asks for iterators after and at the second record's sequence number
    # Then they return the records that follow it, and it with them
    assert read_from("AFTER_SEQUENCE_NUMBER", sequence[1]) == ["2", "3", "4"]
    assert read_from("AT_SEQUENCE_NUMBER", sequence[1]) == ["1", "2", "3", "4"]
    assert read_from("AFTER_SEQUENCE_NUMBER", sequence[-1]) == []
    # And a sequence number that is not one of this stream's is refused
    with pytest.raises(streams_client.exceptions.ClientError) as refused:
        read_from("AT_SEQUENCE_NUMBER", "9" * 22)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
