"""S3's data on Redis, under `ripple:s3:`; bodies over the inline size in files (blobs.py).

- `ripple:s3:buckets` (hash): bucket name -> JSON {created, region[, versioning, tags, acl]}
- `ripple:s3:keys:<bucket>` (sorted set, every score 0): keys with a current object, which
  ZRANGEBYLEX reads in UTF-8 byte order, the order S3 lists them in
- `ripple:s3:object:<bucket>:<key>` (hash): the current version, `meta` (JSON of
  `ObjectMeta`) and `body` unless the body is a file (`meta.blob`)
- `ripple:s3:history:<bucket>:<key>` (hash): noncurrent versions and delete markers of a
  versioned bucket, `<versionId>` -> meta and `<versionId>:body`
- `ripple:s3:versioned:<bucket>` (sorted set): keys that have a history
- `ripple:s3:sequence` (counter): event sequencers, increasing with every write

Every change to an object and its indexes is one Lua script (scripts.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from redis import Redis

from orchestrator.services.s3 import scripts
from orchestrator.services.s3.blobs import BlobStore
from orchestrator.services.s3.errors import (
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidBucketName,
    MethodNotAllowed,
    NoSuchBucket,
    NoSuchKey,
    NoSuchVersion,
    PreconditionFailed,
)
from orchestrator.services.s3.payload import Payload
from orchestrator.services.s3.records import (
    BUCKETS,
    SEQUENCE,
    Body,
    Bucket,
    ObjectMeta,
    check_version_id,
    history_key,
    index_key,
    new_version_id,
    object_key,
    valid_bucket_name,
    versioned_key,
)


def ensure_bucket(redis: Redis, name: str, region: str = "us-east-1") -> bool:
    """Create a bucket a spec declares unless it exists (its objects stay); True if created."""
    if not valid_bucket_name(name):
        raise InvalidBucketName(BucketName=name)
    record = json.dumps({"created": time.time(), "region": region})
    return bool(redis.hsetnx(BUCKETS, name, record))


class Store:
    """Buckets and objects; raises S3's errors (NoSuchBucket, NoSuchKey, …)."""

    def __init__(self, redis: Redis, blobs: BlobStore, inline_max: int = 256 * 1024) -> None:
        self.redis, self.blobs, self.inline_max = redis, blobs, inline_max
        self._put = redis.register_script(scripts.PUT)
        self._delete = redis.register_script(scripts.DELETE)
        self._delete_version = redis.register_script(scripts.DELETE_VERSION)
        self._delete_bucket = redis.register_script(scripts.DELETE_BUCKET)
        self._set_bucket_field = redis.register_script(scripts.SET_BUCKET_FIELD)

    # Buckets

    def create_bucket(self, name: str, region: str) -> None:
        if not ensure_bucket(self.redis, name, region):
            raise BucketAlreadyOwnedByYou(BucketName=name)

    def bucket(self, name: str) -> Bucket:
        raw = self.redis.hget(BUCKETS, name)
        if raw is None:
            raise NoSuchBucket(BucketName=name)
        return Bucket(name, **json.loads(raw))

    def buckets(self) -> list[Bucket]:
        raw = self.redis.hgetall(BUCKETS)
        found = [Bucket(_text(name), **json.loads(value)) for name, value in raw.items()]
        return sorted(found, key=lambda bucket: bucket.name)

    def set_bucket_field(self, name: str, field_name: str, value: Any) -> None:
        """Change one field of a bucket's record (None removes it)."""
        encoded = "" if value is None else json.dumps(value)
        if not self._set_bucket_field(keys=[BUCKETS], args=[name, field_name, encoded]):
            raise NoSuchBucket(BucketName=name)

    def delete_bucket(self, name: str) -> None:
        outcome = self._delete_bucket(keys=[BUCKETS, index_key(name), versioned_key(name)],
                                      args=[name])
        if outcome == 0:
            raise NoSuchBucket(BucketName=name)
        if outcome == -1:
            raise BucketNotEmpty(BucketName=name)

    # Objects

    def _keys(self, bucket: str, key: str) -> list[str]:
        return [BUCKETS, index_key(bucket), object_key(bucket, key), SEQUENCE,
                history_key(bucket, key), versioned_key(bucket)]

    def put_object(self, bucket: str, key: str, payload: Payload, meta: ObjectMeta,
                   if_absent: bool = False) -> int:
        """Store an object (a new version, or a replacement); returns its write's sequence
        number. `if_absent` (PutObject's `If-None-Match: *`) refuses to replace one."""
        if payload.temp is not None:
            meta.blob = self.blobs.commit(payload.temp)
        elif payload.data is not None and len(payload.data) > self.inline_max:
            meta.blob = self.blobs.write(payload.data)
        return self.put_meta(bucket, key, meta, None if meta.blob else payload.data or b"",
                             if_absent)

    def put_meta(self, bucket: str, key: str, meta: ObjectMeta, body: bytes | None,
                 if_absent: bool = False) -> int:
        """Commit a version whose body is `body`, or the committed blob `meta.blob`."""
        mode = self.bucket(bucket).versioning
        meta.version_id = new_version_id() if mode == "Enabled" else "null"
        raw = meta.to_json()[:-1]
        outcome = self._put(keys=self._keys(bucket, key),
                            args=[bucket, key, body or b"", raw, "1" if if_absent else "0", mode,
                                  "0" if body is None else "1"])
        if outcome is None or int(outcome[0]) == -1:
            self.blobs.remove(meta.blob)
            if outcome is None:
                raise NoSuchBucket(BucketName=bucket)
            raise PreconditionFailed(Condition="If-None-Match")
        self._forget(outcome[1:])
        meta.sequence = int(outcome[0])
        return meta.sequence

    def _forget(self, metas: list[bytes]) -> None:
        """Remove the files of versions no longer named."""
        self.blobs.remove(*(ObjectMeta.from_json(raw).blob for raw in metas))

    def head_object(self, bucket: str, key: str, version_id: str | None = None) -> ObjectMeta:
        return self._find(bucket, key, version_id, with_body=False)[0]

    def get_object(self, bucket: str, key: str,
                   version_id: str | None = None) -> tuple[ObjectMeta, Body]:
        """The object's metadata and body; a blob's file is open (a later replacement or
        delete of the object does not cut a read short)."""
        for attempt in range(3):
            meta, body = self._find(bucket, key, version_id, with_body=True)
            if not meta.blob:
                return meta, body or b""
            try:
                return meta, self.blobs.open(meta.blob)
            except FileNotFoundError:  # replaced between reading its metadata and opening it
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _find(self, bucket: str, key: str, version_id: str | None,
              with_body: bool) -> tuple[ObjectMeta, bytes | None]:
        fields = ["meta", "body"] if with_body else ["meta"]
        current, *body = self.redis.hmget(object_key(bucket, key), fields)
        if version_id is None:
            if current is None:
                self._missing(bucket, key)
            return ObjectMeta.from_json(current), _bytes(body)  # type: ignore[arg-type]
        check_version_id(version_id)
        if current is not None and ObjectMeta.from_json(current).version_id == version_id:
            return ObjectMeta.from_json(current), _bytes(body)
        raw, *body = self.redis.hmget(history_key(bucket, key),
                                      [version_id, f"{version_id}:body"][:len(fields)])
        if raw is None:
            self.bucket(bucket)
            raise NoSuchVersion(Key=key, VersionId=version_id)
        meta = ObjectMeta.from_json(raw)
        if meta.delete_marker:
            raise MethodNotAllowed(Method="GET", ResourceType="DeleteMarker").with_headers(
                x_amz_delete_marker="true", x_amz_version_id=version_id)
        return meta, _bytes(body)

    def delete_object(self, bucket: str, key: str,
                      version_id: str | None = None) -> tuple[int | None, ObjectMeta | None]:
        """Remove an object, or one version of it; its write's sequence number (None when
        nothing was there) and the delete marker made or the version removed."""
        if version_id is not None:
            check_version_id(version_id)
            outcome = self._delete_version(keys=self._keys(bucket, key),
                                           args=[bucket, key, version_id])
            if outcome is None:
                raise NoSuchBucket(BucketName=bucket)
            if not int(outcome[0]):
                return None, None
            self._forget(outcome[1:])
            return int(outcome[0]), ObjectMeta.from_json(outcome[1])
        mode = self.bucket(bucket).versioning
        marker = ObjectMeta(0, "", time.time(), delete_marker=True,
                            version_id=new_version_id() if mode == "Enabled" else "null")
        outcome = self._delete(keys=self._keys(bucket, key),
                               args=[bucket, key, mode, marker.to_json()[:-1], marker.version_id])
        if outcome is None:
            raise NoSuchBucket(BucketName=bucket)
        self._forget(outcome[1:])
        sequence = int(outcome[0]) or None
        return sequence, marker if mode else None

    def update_meta(self, bucket: str, key: str, version_id: str | None,
                    change: Callable[[ObjectMeta], None]) -> ObjectMeta:
        """Change a version's metadata in place (tags, ACL), atomically."""
        meta = self.head_object(bucket, key, version_id)
        current = object_key(bucket, key)

        def transaction(pipe: Any) -> ObjectMeta:
            raw = pipe.hget(current, "meta")
            where, field_name = current, "meta"
            if raw is None or ObjectMeta.from_json(raw).version_id != meta.version_id:
                where, field_name = history_key(bucket, key), meta.version_id
                raw = pipe.hget(where, field_name)
            if raw is None:
                raise NoSuchVersion(Key=key, VersionId=meta.version_id)
            found = ObjectMeta.from_json(raw)
            change(found)
            pipe.multi()
            pipe.hset(where, field_name, found.to_json())
            return found

        result = self.redis.transaction(
            transaction, current, history_key(bucket, key),  # type: ignore[arg-type]
            value_from_callable=True)
        assert isinstance(result, ObjectMeta)
        return result

    def _missing(self, bucket: str, key: str) -> None:
        if not self.redis.hexists(BUCKETS, bucket):
            raise NoSuchBucket(BucketName=bucket)
        newest = self.history(bucket, key)[:1]
        error = NoSuchKey(Key=key)
        if newest and newest[0].delete_marker:
            error.with_headers(x_amz_delete_marker="true",
                               x_amz_version_id=newest[0].version_id)
        raise error

    def history(self, bucket: str, key: str) -> list[ObjectMeta]:
        """Noncurrent versions and delete markers, newest first."""
        raw = self.redis.hgetall(history_key(bucket, key))
        found = [ObjectMeta.from_json(value) for name, value in raw.items()
                 if not _text(name).endswith(":body")]
        return sorted(found, key=lambda meta: meta.sequence, reverse=True)

    # Listing

    def keys_after(self, bucket: str, start: bytes, count: int,
                   versioned: bool = False) -> list[str]:
        """Up to `count` keys in byte order from `start`, a ZRANGEBYLEX bound (`[a`, `(a`);
        of the current objects, or of the keys with a history."""
        index = versioned_key(bucket) if versioned else index_key(bucket)
        found = self.redis.zrangebylex(index, start, b"+", start=0, num=count)
        return [_text(key) for key in found]

    def metas(self, bucket: str, keys: list[str]) -> list[ObjectMeta | None]:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hget(object_key(bucket, key), "meta")
        return [ObjectMeta.from_json(raw) if raw is not None else None
                for raw in pipe.execute()]


def _bytes(values: list[bytes | str | None]) -> bytes | None:
    value = values[0] if values else None
    return value.encode() if isinstance(value, str) else value


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
