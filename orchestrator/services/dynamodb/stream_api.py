"""The DynamoDB Streams API (ListStreams, DescribeStream, GetShardIterator, GetRecords) over
the same Redis streams the pollers read, so `boto3.client("dynamodbstreams")` works too."""

from __future__ import annotations

import base64
import json
from typing import Any

from orchestrator.services.dynamodb import keys, streams
from orchestrator.services.dynamodb.errors import ResourceNotFound, ValidationError
from orchestrator.services.dynamodb.schema import Table
from orchestrator.services.dynamodb.store import Store

MAX_SEQ = 2**64 - 1


def _table_of(store: Store, arn: Any) -> Table:
    if not isinstance(arn, str) or "/stream/" not in arn or ":table/" not in arn:
        raise ValidationError(f"Invalid StreamArn: {arn}")
    name = arn.split(":table/", 1)[1].split("/stream/", 1)[0]
    try:
        table = store.table(name, "item")
    except ResourceNotFound:
        raise ResourceNotFound(f"Requested resource not found: Stream: {arn} not found") from None
    if table.stream_arn != arn:
        raise ResourceNotFound(f"Requested resource not found: Stream: {arn} not found")
    return table


def list_streams(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    names = [request["TableName"]] if request.get("TableName") else store.table_names(None, 10**6)
    found = []
    for name in names:
        table = store.table(name)
        if table.stream_arn:
            found.append({"StreamArn": table.stream_arn, "TableName": table.name,
                          "StreamLabel": table.stream_label})
    return {"Streams": found}


def describe_stream(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = _table_of(store, request.get("StreamArn"))
    shards = []
    for shard in range(streams.SHARD_COUNT):
        first: Any = store.redis.xrange(keys.stream(table.name, shard), "-", "+", count=1)
        start = streams.sequence_number(streams.text(first[0][0]) if first else "0-0")
        shards.append({"ShardId": streams.shard_id(shard),
                       "SequenceNumberRange": {"StartingSequenceNumber": start}})
    return {"StreamDescription": {
        "StreamArn": table.stream_arn, "StreamLabel": table.stream_label,
        "StreamStatus": "ENABLED", "StreamViewType": table.stream_view_type,
        "CreationRequestDateTime": table.created, "TableName": table.name,
        "KeySchema": table.key_schema(), "Shards": shards}}


def get_shard_iterator(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    table = _table_of(store, request.get("StreamArn"))
    shard_id = str(request.get("ShardId") or "")
    shards = {streams.shard_id(shard): shard for shard in range(streams.SHARD_COUNT)}
    if shard_id not in shards:
        raise ResourceNotFound(f"Requested resource not found: Shard: {shard_id} not found")
    shard_key = keys.stream(table.name, shards[shard_id])
    kind = request.get("ShardIteratorType")
    if kind == "TRIM_HORIZON":
        after = "0-0"
    elif kind == "LATEST":
        after = streams.latest_id(store.redis, shard_key)
    elif kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        sequence = str(request.get("SequenceNumber") or "")
        entry = streams.entry_of(sequence)
        if entry is None:
            raise ValidationError(f"Invalid SequenceNumber: {sequence}")
        ms, seq = entry
        if kind == "AT_SEQUENCE_NUMBER":
            ms, seq = (ms, seq - 1) if seq > 0 else (ms - 1, MAX_SEQ)
        after = f"{ms}-{seq}"
    else:
        raise ValidationError(f"1 validation error detected: Value '{kind}' at "
                              "'shardIteratorType' failed to satisfy constraint: Member must "
                              "satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, "
                              "AT_SEQUENCE_NUMBER, TRIM_HORIZON]")
    return {"ShardIterator": _iterator(shard_key, after)}


def _iterator(shard_key: str, after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([shard_key, after]).encode()).decode()


def get_records(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    try:
        shard_key, after = json.loads(base64.urlsafe_b64decode(request["ShardIterator"]))
    except (KeyError, ValueError, TypeError):
        raise ValidationError("Invalid ShardIterator") from None
    limit = int(request.get("Limit") or 1000)
    if not 1 <= limit <= 1000:
        raise ValidationError("1 validation error detected: Value at 'limit' failed to satisfy "
                              "constraint: Member must have value less than or equal to 1000")
    found = streams.read_records(store.redis, shard_key, after, limit)
    records = []
    for _, record, _ in found:
        shown = {name: value for name, value in record.items() if name != "eventSourceARN"}
        if "userIdentity" in shown:  # Lambda's events spell it in camel case, the API does not
            identity = shown["userIdentity"]
            shown["userIdentity"] = {"Type": identity["type"],
                                     "PrincipalId": identity["principalId"]}
        records.append(shown)
    last = found[-1][0] if found else after
    return {"Records": records, "NextShardIterator": _iterator(shard_key, last)}
