"""The record Lambda sends to an async invocation's on-failure destination."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def _json_or_text(payload: str | bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode() if isinstance(payload, bytes) else payload


def failure_record(
    request_id: str,
    function_arn: str,
    condition: str,
    attempts: int,
    request_payload: str | bytes,
    response_payload: bytes | None = None,
) -> dict[str, Any]:
    """`condition` is RetriesExhausted or EventAgeExceeded, as AWS names them."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": _json_or_text(request_payload),
    }
    if response_payload is not None:
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        }
        record["responsePayload"] = _json_or_text(response_payload)
    return record


def stream_failure_record(
    request_id: str,
    function_arn: str,
    condition: str,
    attempts: int,
    batch: list[dict[str, Any]],
    shard_id: str,
    stream_arn: str,
) -> dict[str, Any]:
    """What Lambda sends on-failure for a stream batch it gave up on: the batch's metadata,
    not its records (`condition` is RetryAttemptsExhausted or RecordAgeExceeded)."""
    first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]

    def arrival(record: dict[str, Any]) -> str:
        seconds = float(record.get("ApproximateCreationDateTime", 0))
        moment = datetime.fromtimestamp(seconds, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(first),
            "approximateArrivalOfLastRecord": arrival(last),
            "batchSize": len(batch),
            "streamArn": stream_arn,
        },
    }
