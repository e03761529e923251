"""S3's data on Redis, under `ripple:s3:`.

- `ripple:s3:buckets` (hash): bucket name -> JSON {created, region}
- `ripple:s3:keys:<bucket>` (sorted set, every score 0): the bucket's keys, which ZRANGEBYLEX
  reads in UTF-8 byte order, the order S3 lists them in
- `ripple:s3:object:<bucket>:<key>` (hash): `body` and `meta` (JSON of `ObjectMeta`)
- `ripple:s3:sequence` (counter): event sequencers, increasing with every write

A write and its index entry change together in one Lua script, which also checks that the
bucket still exists, so a concurrent DeleteBucket never strands an object.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from dataclasses import asdict, dataclass, field

from redis import Redis

from orchestrator.services.s3.errors import (
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidBucketName,
    NoSuchBucket,
    NoSuchKey,
    PreconditionFailed,
)

# The largest object PutObject and CopyObject accept (AWS's own single-PUT limit is 5 GB);
# a larger one is EntityTooLarge. Objects live in Redis memory, hence the modest default.
MAX_OBJECT_SIZE = 16 * 1024 * 1024

BUCKETS = "ripple:s3:buckets"
SEQUENCE = "ripple:s3:sequence"

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")

_PUT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
redis.call('HSET', KEYS[3], 'body', ARGV[3], 'meta', ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return redis.call('INCR', KEYS[4])
"""
_DELETE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
if redis.call('DEL', KEYS[3]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[2])
return redis.call('INCR', KEYS[4])
"""
_DELETE_BUCKET = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('ZCARD', KEYS[2]) > 0 then return -1 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""


def index_key(bucket: str) -> str:
    return f"ripple:s3:keys:{bucket}"


def object_key(bucket: str, key: str) -> str:
    return f"ripple:s3:object:{bucket}:{key}"


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


@dataclass
class ObjectMeta:
    """Everything about an object but its body."""

    size: int
    etag: str  # MD5 hex, unquoted
    last_modified: float
    content_type: str = "binary/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)  # content-encoding, cache-control, …
    metadata: dict[str, str] = field(default_factory=dict)  # x-amz-meta-* without the prefix
    checksums: dict[str, str] = field(default_factory=dict)  # e.g. crc32 -> base64

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> ObjectMeta:
        return cls(**json.loads(raw))


def ensure_bucket(redis: Redis, name: str, region: str = "us-east-1") -> bool:
    """Create a bucket a spec declares unless it exists (its objects stay); True if created."""
    if not valid_bucket_name(name):
        raise InvalidBucketName(BucketName=name)
    record = json.dumps({"created": time.time(), "region": region})
    return bool(redis.hsetnx(BUCKETS, name, record))


class Store:
    """Buckets and objects; raises S3's errors (NoSuchBucket, NoSuchKey, …)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._put = redis.register_script(_PUT)
        self._delete = redis.register_script(_DELETE)
        self._delete_bucket = redis.register_script(_DELETE_BUCKET)

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

    def delete_bucket(self, name: str) -> None:
        outcome = self._delete_bucket(keys=[BUCKETS, index_key(name)], args=[name])
        if outcome == 0:
            raise NoSuchBucket(BucketName=name)
        if outcome == -1:
            raise BucketNotEmpty(BucketName=name)

    # Objects

    def put_object(self, bucket: str, key: str, body: bytes, meta: ObjectMeta,
                   if_absent: bool = False) -> int:
        """Store (or replace) an object; returns its write's sequence number. `if_absent`
        (PutObject's `If-None-Match: *`) refuses to replace one: PreconditionFailed."""
        sequence = self._put(keys=[BUCKETS, index_key(bucket), object_key(bucket, key), SEQUENCE],
                             args=[bucket, key, body, meta.to_json(), "1" if if_absent else "0"])
        if sequence is None:
            raise NoSuchBucket(BucketName=bucket)
        if int(sequence) == -1:
            raise PreconditionFailed(Condition="If-None-Match")
        return int(sequence)

    def head_object(self, bucket: str, key: str) -> ObjectMeta:
        raw = self.redis.hget(object_key(bucket, key), "meta")
        if raw is None:
            self._missing(bucket, key)
        return ObjectMeta.from_json(raw)  # type: ignore[arg-type]

    def get_object(self, bucket: str, key: str) -> tuple[ObjectMeta, bytes]:
        meta, body = self.redis.hmget(object_key(bucket, key), ["meta", "body"])
        if meta is None or body is None:
            self._missing(bucket, key)
        return ObjectMeta.from_json(meta), bytes(body)  # type: ignore[arg-type]

    def delete_object(self, bucket: str, key: str) -> int | None:
        """Remove an object; its write's sequence number, or None when there was none."""
        outcome = int(self._delete(
            keys=[BUCKETS, index_key(bucket), object_key(bucket, key), SEQUENCE],
            args=[bucket, key]))
        if outcome == -1:
            raise NoSuchBucket(BucketName=bucket)
        return outcome or None

    def _missing(self, bucket: str, key: str) -> None:
        if not self.redis.hexists(BUCKETS, bucket):
            raise NoSuchBucket(BucketName=bucket)
        raise NoSuchKey(Key=key)

    # Listing

    def keys_after(self, bucket: str, start: bytes, count: int) -> list[str]:
        """Up to `count` keys in byte order from `start`, a ZRANGEBYLEX bound (`[a`, `(a`)."""
        found = self.redis.zrangebylex(index_key(bucket), start, b"+", start=0, num=count)
        return [_text(key) for key in found]

    def metas(self, bucket: str, keys: list[str]) -> list[ObjectMeta | None]:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hget(object_key(bucket, key), "meta")
        return [ObjectMeta.from_json(raw) if raw is not None else None
                for raw in pipe.execute()]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
