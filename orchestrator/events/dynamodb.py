"""The DynamoDB Streams record, exactly as Lambda delivers it in `event["Records"]`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from orchestrator.settings import ACCOUNT_ID

Item = dict[str, Any]  # DynamoDB's JSON: attribute name -> {"S": "..."} and so on

STREAM_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


def stream_arn(region: str, table: str, label: str, account_id: str = ACCOUNT_ID) -> str:
    """`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL`."""
    return f"arn:aws:dynamodb:{region}:{account_id}:table/{table}/stream/{label}"


def event_name(old_image: Item | None, new_image: Item | None) -> str:
    """INSERT (no old item), REMOVE (no new item) or MODIFY."""
    if old_image is None:
        return "INSERT"
    return "REMOVE" if new_image is None else "MODIFY"


def stream_record(
    *,
    keys: Item,
    old_image: Item | None,
    new_image: Item | None,
    view_type: str,
    table: str,
    region: str,
    stream_label: str,
    sequence_number: str,
    size_of: Callable[[Item], int],
    created: float | None = None,
    event_id: str | None = None,
    account_id: str = ACCOUNT_ID,
) -> dict[str, Any]:
    """One record of a change. The images present follow `view_type` (KEYS_ONLY, NEW_IMAGE,
    OLD_IMAGE, NEW_AND_OLD_IMAGES); SizeBytes counts the keys and the images included, each
    sized by `size_of` (DynamoDB's item size rule, which the service owns)."""
    if view_type not in STREAM_VIEW_TYPES:
        raise ValueError(f"unknown StreamViewType {view_type!r}: one of {STREAM_VIEW_TYPES}")
    if old_image is None and new_image is None:
        raise ValueError("a stream record needs an old image, a new image or both")
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": int(time.time() if created is None else created),
        "Keys": keys,
    }
    if new_image is not None and view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        change["NewImage"] = new_image
    if old_image is not None and view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        change["OldImage"] = old_image
    change["SequenceNumber"] = sequence_number
    change["SizeBytes"] = sum(size_of(change[part]) for part in ("Keys", "NewImage", "OldImage")
                              if part in change)
    change["StreamViewType"] = view_type
    return {
        "eventID": event_id or uuid.uuid4().hex,
        "eventName": event_name(old_image, new_image),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": change,
        "eventSourceARN": stream_arn(region, table, stream_label, account_id),
    }
