"""The DynamoDB endpoint: an ASGI app speaking the JSON 1.0 protocol (`X-Amz-Target:
DynamoDB_20120810.<Operation>`), as boto3's client and resource expect it. DynamoDB Streams
(`DynamoDBStreams_20120810.<Operation>`) signs as `dynamodb` too, so it is answered here."""

from __future__ import annotations

import json
import logging
import re
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from redis import Redis
from starlette.types import Receive, Scope, Send

from orchestrator.services.calls import name_operation
from orchestrator.services.dynamodb import (
    batch,
    items,
    reads,
    shapes,
    stream_api,
    tables,
    tags,
    ttl,
)
from orchestrator.services.dynamodb.errors import (
    DynamoDBError,
    InternalServerError,
    SerializationError,
    UnknownOperation,
    ValidationError,
)
from orchestrator.services.dynamodb.maintenance import Maintenance
from orchestrator.services.dynamodb.partiql import statements
from orchestrator.services.dynamodb.store import Store
from orchestrator.services.dynamodb.types import NESTING_EXCEEDED
from orchestrator.settings import Settings

log = logging.getLogger(__name__)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

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
    "DynamoDB_20120810.ExecuteStatement": statements.execute_statement,
    "DynamoDB_20120810.BatchExecuteStatement": statements.batch_execute_statement,
    "DynamoDB_20120810.UpdateTimeToLive": ttl.update_time_to_live,
    "DynamoDB_20120810.DescribeTimeToLive": ttl.describe_time_to_live,
    "DynamoDB_20120810.TagResource": tags.tag_resource,
    "DynamoDB_20120810.UntagResource": tags.untag_resource,
    "DynamoDB_20120810.ListTagsOfResource": tags.list_tags_of_resource,
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
        request = parse_body(body)
        shapes.check_request(target, request)
        name_call(target, table_names(request))
        return 200, operation(store, request)
    except DynamoDBError as error:
        return error.status, error.body()
    except Exception as error:
        log.exception("DynamoDB %s failed", target)
        failure = InternalServerError(f"Internal server error: {type(error).__name__}: {error}")
        return failure.status, failure.body()


def parse_body(body: bytes) -> dict[str, Any]:
    """The request's JSON object, or the SerializationException DynamoDB answers."""
    try:
        request = json.loads(body or b"{}")
    except ValueError as error:
        raise SerializationError(f"Malformed request body: {error}") from None
    except RecursionError:
        # JSON nested past what the decoder follows (~1,000 levels) is far past DynamoDB's 32.
        if body.lstrip().startswith(b"["):
            raise SerializationError("Start of list found where not expected") from None
        raise ValidationError(NESTING_EXCEEDED) from None
    if isinstance(request, list):
        raise SerializationError("Start of list found where not expected")
    if not isinstance(request, dict):
        raise SerializationError("Unexpected value type in payload")
    if _SURROGATE_ESCAPE.search(body):
        _check_encodable(request)
    return request


def _check_encodable(request: dict[str, Any]) -> None:
    """JSON may escape half a UTF-16 pair (`"\\ud800"`); no UTF-8 text holds one, so neither
    an item, nor a name, nor the answer that would echo it can."""
    try:
        json.dumps(request, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise SerializationError("Malformed request body: a string holds an unpaired UTF-16 "
                                 "surrogate, which is not valid Unicode text") from None
    except RecursionError:
        raise ValidationError(NESTING_EXCEEDED) from None


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
        self.maintenance = Maintenance(self.store, settings.dynamodb_ttl_sweep_seconds,
                                       settings.dynamodb_ttl_sweep_items)
        self.maintenance.start()

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
