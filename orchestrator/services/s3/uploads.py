"""Multipart uploads in progress, on Redis; their parts are files in the blob store.

- `ripple:s3:upload:<uploadId>` (hash): `info` (JSON of `Upload`) and `part:<n>` (JSON of
  `Part`) for each part received
- `ripple:s3:uploads:<bucket>` (sorted set, every score 0): `<key>\\0<uploadId>` for listing
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from redis import Redis

from orchestrator.services.s3.blobs import BlobStore
from orchestrator.services.s3.errors import NoSuchUpload
from orchestrator.services.s3.records import BUCKETS

_ADD_PART = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return old or ''
"""
_CREATE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'info', ARGV[2])
redis.call('ZADD', KEYS[3], 0, ARGV[3])
return 1
"""


@dataclass
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    meta: str  # the object's ObjectMeta JSON, from CreateMultipartUpload's headers
    algorithm: str = ""  # the checksum algorithm each part carries (x-amz-checksum-algorithm)
    checksum_type: str = ""  # COMPOSITE or FULL_OBJECT


@dataclass
class Part:
    number: int
    etag: str  # MD5 hex, unquoted
    size: int
    blob: str
    last_modified: float
    checksums: dict[str, str] = field(default_factory=dict)


def upload_key(upload_id: str) -> str:
    return f"ripple:s3:upload:{upload_id}"


def uploads_key(bucket: str) -> str:
    return f"ripple:s3:uploads:{bucket}"


class Uploads:
    def __init__(self, redis: Redis, blobs: BlobStore) -> None:
        self.redis, self.blobs = redis, blobs
        self._add_part = redis.register_script(_ADD_PART)
        self._create = redis.register_script(_CREATE)

    def create(self, bucket: str, key: str, meta: str, algorithm: str,
               checksum_type: str) -> Upload | None:
        """A new upload; None if the bucket does not exist."""
        upload = Upload(os.urandom(24).hex(), bucket, key, time.time(), meta, algorithm,
                        checksum_type)
        created = self._create(keys=[BUCKETS, upload_key(upload.upload_id), uploads_key(bucket)],
                               args=[bucket, json.dumps(asdict(upload)),
                                     f"{key}\0{upload.upload_id}"])
        return upload if created else None

    def get(self, bucket: str, key: str, upload_id: str) -> Upload:
        raw = self.redis.hget(upload_key(upload_id), "info")
        upload = Upload(**json.loads(raw)) if raw is not None else None
        if upload is None or (upload.bucket, upload.key) != (bucket, key):
            raise NoSuchUpload(UploadId=upload_id)
        return upload

    def add_part(self, upload: Upload, part: Part) -> None:
        """Keep a part (replacing one of the same number); NoSuchUpload if it went away."""
        old = self._add_part(keys=[upload_key(upload.upload_id)],
                             args=[f"part:{part.number}", json.dumps(asdict(part))])
        if old is None:
            self.blobs.remove(part.blob)
            raise NoSuchUpload(UploadId=upload.upload_id)
        if old:
            self.blobs.remove(Part(**json.loads(old)).blob)

    def parts(self, upload: Upload) -> dict[int, Part]:
        raw = self.redis.hgetall(upload_key(upload.upload_id))
        parts = [Part(**json.loads(value)) for name, value in raw.items()
                 if _text(name).startswith("part:")]
        return {part.number: part for part in sorted(parts, key=lambda part: part.number)}

    def finish(self, upload: Upload) -> bool:
        """Forget an upload (completed or aborted) and remove its parts' files; False when it
        was already gone (another Complete or Abort won)."""
        parts = self.parts(upload)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(upload_key(upload.upload_id))
        pipe.zrem(uploads_key(upload.bucket), f"{upload.key}\0{upload.upload_id}")
        deleted, _ = pipe.execute()
        self.blobs.remove(*(part.blob for part in parts.values()))
        return bool(deleted)

    def listed(self, bucket: str, start: bytes, count: int) -> list[Upload]:
        """Uploads of a bucket by key then upload id, from a ZRANGEBYLEX bound."""
        members = self.redis.zrangebylex(uploads_key(bucket), start, b"+", start=0, num=count)
        pipe = self.redis.pipeline(transaction=False)
        for member in members:
            pipe.hget(upload_key(_text(member).split("\0", 1)[1]), "info")
        return [Upload(**json.loads(raw)) for raw in pipe.execute() if raw is not None]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
