"""The DynamoDB endpoint: an ASGI app speaking the JSON 1.0 protocol (`X-Amz-Target:
DynamoDB_20120810.<Operation>`), as boto3's client and resource expect it. DynamoDB Streams
(`DynamoDBStreams_20120810.<Operation>`) signs as `dynamodb` too, so it is answered here."""

from __future__ import annotations

import json
import logging
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from redis import Redis
from starlette.types import Receive, Scope, Send

from orchestrator.services.calls import name_operation
from orchestrator.services.dynamodb import batch, items, reads, stream_api, tables
from orchestrator.services.dynamodb.errors import (
    DynamoDBError,
    InternalServerError,
    SerializationError,
    UnknownOperation,
)
from orchestrator.services.dynamodb.store import Store
from orchestrator.settings import Settings

log = logging.getLogger(__name__)

Operation = Callable[[Store, dict[str, Any]], dict[str, Any]]
OPERATIONS: dict[str, Operation] = {
    "DynamoDB_20120810.CreateTable": tables.create_table,
    "DynamoDB_20120810.DescribeTable": tables.describe_table,
    "DynamoDB_20120810.ListTables": tables.list_tables,
    "DynamoDB_20120810.UpdateTable": tables.update_table,
    "DynamoDB_20120810.DeleteTable": tables.delete_table,
    "DynamoDB_20120810.PutItem": items.put_item,
    "DynamoDB_20120810.GetItem": items.get_item,
    "DynamoDB_20120810.DeleteItem": items.delete_item,
    "DynamoDB_20120810.UpdateItem": items.update_item,
    "DynamoDB_20120810.Query": reads.query,
    "DynamoDB_20120810.Scan": reads.scan,
    "DynamoDB_20120810.BatchWriteItem": batch.batch_write_item,
    "DynamoDB_20120810.BatchGetItem": batch.batch_get_item,
    "DynamoDB_20120810.TransactWriteItems": batch.transact_write_items,
    "DynamoDB_20120810.TransactGetItems": batch.transact_get_items,
    "DynamoDBStreams_20120810.ListStreams": stream_api.list_streams,
    "DynamoDBStreams_20120810.DescribeStream": stream_api.describe_stream,
    "DynamoDBStreams_20120810.GetShardIterator": stream_api.get_shard_iterator,
    "DynamoDBStreams_20120810.GetRecords": stream_api.get_records,
}


def handle(store: Store, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """One request, start to end: (HTTP status, JSON body)."""
    try:
        name_call(target)  # as the client called it, implemented or not
        operation = OPERATIONS.get(target)
        if operation is None:
            raise UnknownOperation(f"Unknown operation: {target or 'no X-Amz-Target header'}")
        try:
            request = json.loads(body or b"{}")
        except ValueError as error:
            raise SerializationError(f"Malformed request body: {error}") from None
        if not isinstance(request, dict):
            raise SerializationError("Malformed request body: expected a JSON object")
        name_call(target, table_names(request))
        return 200, operation(store, request)
    except DynamoDBError as error:
        return error.status, error.body()
    except Exception as error:
        log.exception("DynamoDB %s failed", target)
        failure = InternalServerError(f"Internal server error: {type(error).__name__}: {error}")
        return failure.status, failure.body()


def name_call(target: str, tables: list[str] | None = None) -> None:
    """Name the span's operation after `X-Amz-Target`, with the tables the request names
    (`aws.dynamodb.table_names`)."""
    prefix, dot, operation = target.rpartition(".")
    if not dot:
        return
    service = "DynamoDB Streams" if prefix.startswith("DynamoDBStreams_") else "DynamoDB"
    name_operation(service, operation, {"aws.dynamodb.table_names": tables} if tables else {})


def table_names(request: dict[str, Any]) -> list[str]:
    """TableName, or the tables of a batch's RequestItems or a transaction's TransactItems."""
    if "TableName" in request:
        return [str(request["TableName"])]
    items = request.get("RequestItems")
    if isinstance(items, dict) and items:
        return sorted(items)
    transact = request.get("TransactItems")
    if not isinstance(transact, list):
        return []
    return sorted({str(action["TableName"]) for entry in transact if isinstance(entry, dict)
                   for action in entry.values()
                   if isinstance(action, dict) and "TableName" in action})


class DynamoDBApp:
    """ASGI app for the endpoint's service router; the Redis work runs in worker threads."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.store = Store(redis, settings.region)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        target = headers.get(b"x-amz-target", b"").decode()
        status, answer = await anyio.to_thread.run_sync(handle, self.store, target,
                                                        b"".join(chunks))
        payload = json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/x-amz-json-1.0"),
            (b"content-length", str(len(payload)).encode()),
            (b"x-amzn-requestid", uuid.uuid4().hex.encode()),
            (b"x-amz-crc32", str(zlib.crc32(payload)).encode()),
        ]})
        await send({"type": "http.response.body", "body": payload})


def create_app(redis: Redis, settings: Settings) -> DynamoDBApp:
    return DynamoDBApp(redis, settings)
