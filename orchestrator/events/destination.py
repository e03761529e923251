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
    request_payload: str,
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
