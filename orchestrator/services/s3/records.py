"""What S3 keeps, as ripple writes it to Redis: bucket and object records, their key names
(laid out in store.py's docstring), version ids and AWS's naming rules."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from orchestrator.services.s3.errors import InvalidArgument

# The largest object one PutObject (or UploadPart) accepts, AWS's own limit; larger objects
# are made by multipart upload, up to MAX_MULTIPART_SIZE.
MAX_OBJECT_SIZE = 5 * 1024**3
MAX_MULTIPART_SIZE = 5 * 1024**4

BUCKETS = "ripple:s3:buckets"
SEQUENCE = "ripple:s3:sequence"

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
_VERSION_ID = re.compile(r"[A-Za-z0-9._]{1,64}")


def index_key(bucket: str) -> str:
    return f"ripple:s3:keys:{bucket}"


def object_key(bucket: str, key: str) -> str:
    return f"ripple:s3:object:{bucket}:{key}"


def history_key(bucket: str, key: str) -> str:
    return f"ripple:s3:history:{bucket}:{key}"


def versioned_key(bucket: str) -> str:
    return f"ripple:s3:versioned:{bucket}"


def new_version_id() -> str:
    """Opaque, URL-safe and increasing with time, like S3's."""
    return f"{time.time_ns():x}{os.urandom(8).hex()}"


def valid_bucket_name(name: str) -> bool:
    """AWS's rules for general purpose buckets: 3-63 lowercase letters, digits, dots and
    hyphens, a letter or digit at each end, no `..`, not an IP address, no reserved affix."""
    if not _BUCKET_NAME.fullmatch(name) or ".." in name:
        return False
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return False
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return True
    return False


@dataclass
class Bucket:
    name: str
    created: float
    region: str
    versioning: str = ""  # "" (never enabled), Enabled or Suspended
    tags: dict[str, str] | None = None
    acl: str = "private"


@dataclass
class ObjectMeta:
    """Everything about one version of an object but its body."""

    size: int
    etag: str  # MD5 hex (or MD5-of-MD5s-N for multipart), unquoted
    last_modified: float
    content_type: str = "binary/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)  # content-encoding, cache-control, …
    metadata: dict[str, str] = field(default_factory=dict)  # x-amz-meta-* without the prefix
    checksums: dict[str, str] = field(default_factory=dict)  # e.g. crc32 -> base64
    checksum_type: str = "FULL_OBJECT"  # or COMPOSITE (a multipart upload's)
    version_id: str = "null"
    sequence: int = 0
    blob: str = ""  # the body's file; "" when the body is in Redis
    storage_class: str = "STANDARD"
    tags: dict[str, str] = field(default_factory=dict)
    acl: str = "private"
    delete_marker: bool = False
    parts: int = 0  # a multipart object's part count

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> ObjectMeta:
        return cls(**json.loads(raw))


# A GET's body: bytes from Redis, or the open file of a blob.
Body = bytes | BinaryIO


def check_version_id(version_id: str) -> None:
    if version_id != "null" and not _VERSION_ID.fullmatch(version_id):
        raise InvalidArgument("Invalid version id specified", ArgumentName="versionId",
                              ArgumentValue=version_id)
