"""The S3 event notification record (`eventVersion` 2.1), exactly as Lambda delivers it in
`event["Records"]`: one record per event."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote_plus

from orchestrator.settings import ACCOUNT_ID

EVENT_VERSION = "2.1"
SCHEMA_VERSION = "1.0"
# Who owns ripple's buckets and who writes to them, in the form S3 events name principals.
OWNER_PRINCIPAL = f"A{ACCOUNT_ID}"
SEQUENCER_DIGITS = 18


def encode_key(key: str) -> str:
    """Keys are URL-encoded in events as S3 does it: `my photo=1.jpg` -> `my+photo%3D1.jpg`;
    `/` stays. Handlers decode them with `urllib.parse.unquote_plus`."""
    return quote_plus(key, safe="/")


def event_time(epoch: float) -> str:
    """ISO-8601 in UTC with milliseconds: `2019-09-03T19:37:27.192Z`."""
    whole = int(epoch)
    millis = min(999, int(round((epoch - whole) * 1000)))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def sequencer(sequence: int) -> str:
    """Hex, fixed width, so that later writes of a key compare greater as strings too."""
    return f"{sequence:0{SEQUENCER_DIGITS}X}"


def s3_record(
    *,
    event_name: str,
    bucket: str,
    key: str,
    sequence: str,
    configuration_id: str,
    region: str,
    request_id: str,
    host_id: str,
    size: int | None = None,
    etag: str | None = None,
    version_id: str | None = None,
    principal_id: str = f"AWS:{ACCOUNT_ID}",
    owner_id: str = OWNER_PRINCIPAL,
    source_ip: str = "127.0.0.1",
    created: float | None = None,
) -> dict[str, Any]:
    """One record. `event_name` has no `s3:` prefix (`ObjectCreated:Put`); `sequence` is the
    sequencer string; `etag` is the unquoted MD5 hex. Removals carry no size or eTag;
    `versionId` appears only for a versioned bucket."""
    if event_name.startswith("s3:"):
        raise ValueError(f"event names carry no 's3:' prefix in records: {event_name!r}")
    stored: dict[str, Any] = {"key": encode_key(key)}
    if not event_name.startswith("ObjectRemoved:"):
        if size is None or etag is None:
            raise ValueError(f"a {event_name} record needs the object's size and eTag")
        stored["size"] = size
        stored["eTag"] = etag
    if version_id is not None:
        stored["versionId"] = version_id
    stored["sequencer"] = sequence
    return {
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": event_time(time.time() if created is None else created),
        "eventName": event_name,
        "userIdentity": {"principalId": principal_id},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": host_id},
        "s3": {
            "s3SchemaVersion": SCHEMA_VERSION,
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": owner_id},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": stored,
        },
    }


def s3_event(record: dict[str, Any]) -> dict[str, Any]:
    """The event a handler receives: `{"Records": [record]}`."""
    return {"Records": [record]}
