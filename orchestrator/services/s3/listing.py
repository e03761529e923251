"""ListObjectsV2 and ListObjects (v1): keys in UTF-8 byte order from the bucket's sorted set
(ZRANGEBYLEX), rolled up into CommonPrefixes at the delimiter, a page at a time."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from urllib.parse import quote

from orchestrator.services.s3.buckets import XML, owner
from orchestrator.services.s3.context import S3Context
from orchestrator.services.s3.errors import InvalidArgument
from orchestrator.services.s3.headers import quoted
from orchestrator.services.s3.records import ObjectMeta
from orchestrator.services.s3.requests import S3Request, S3Response
from orchestrator.services.s3.store import Store
from orchestrator.services.s3.xml import Content, document, iso_time

MAX_KEYS = 1000
_BATCH = 256


@dataclass
class Page:
    contents: list[tuple[str, ObjectMeta]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str = ""  # the last key or common prefix listed: where the next page starts after


def common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    rest = key[len(prefix):]
    if not delimiter or delimiter not in rest:
        return None
    return prefix + rest[:rest.index(delimiter) + len(delimiter)]


def _start(prefix: str, delimiter: str, after: str) -> bytes:
    """The ZRANGEBYLEX bound a page starts from: past `after`, and past every key rolled up
    into `after`'s common prefix (already listed)."""
    if not after or after < prefix:
        return b"[" + prefix.encode()
    common = common_prefix(after, prefix, delimiter) if after.startswith(prefix) else None
    if common is not None:
        return b"[" + common.encode() + b"\xff"  # no UTF-8 key holds 0xFF: past all of them
    return b"(" + after.encode()


def list_page(store: Store, bucket: str, prefix: str, delimiter: str, after: str,
              max_keys: int) -> Page:
    """Up to `max_keys` keys and common prefixes (each counts one) after `after`."""
    store.bucket(bucket)
    page = Page()
    keys: list[str] = []
    start = _start(prefix, delimiter, after)
    while max_keys > 0:
        batch = store.keys_after(bucket, start, _BATCH)
        if not batch:
            break
        start = b"(" + batch[-1].encode()
        for key in batch:
            if not key.startswith(prefix):  # keys with the prefix are contiguous: none left
                batch = []
                break
            if len(keys) + len(page.prefixes) == max_keys:
                page.truncated = True
                break
            common = common_prefix(key, prefix, delimiter)
            if common is not None:
                page.prefixes.append(common)
                page.last = common
                start = b"[" + common.encode() + b"\xff"
                break
            keys.append(key)
            page.last = key
        if page.truncated or not batch:
            break
    metas = store.metas(bucket, keys)
    page.contents = [(key, meta) for key, meta in zip(keys, metas, strict=True) if meta]
    return page


def _max_keys(request: S3Request) -> int:
    raw = request.query.get("max-keys", str(MAX_KEYS))
    try:
        value = int(raw)
    except ValueError:
        raise InvalidArgument("Provided max-keys not an integer or within integer range",
                              ArgumentName="max-keys", ArgumentValue=raw) from None
    if value < 0:
        raise InvalidArgument("Argument maxKeys must be an integer between 0 and 2147483647",
                              ArgumentName="maxKeys", ArgumentValue=raw)
    return min(value, MAX_KEYS)


def _entries(page: Page, encode: bool, with_owner: bool) -> list[tuple[str, Content]]:
    code = (lambda value: quote(value, safe="/")) if encode else (lambda value: value)
    entries: list[tuple[str, Content]] = []
    for key, meta in page.contents:
        entry: list[tuple[str, Content]] = [
            ("Key", code(key)), ("LastModified", iso_time(int(meta.last_modified))),
            ("ETag", quoted(meta.etag)), ("Size", meta.size), ("StorageClass", meta.storage_class)]
        if with_owner:
            entry.append(("Owner", owner()))
        entries.append(("Contents", entry))
    entries += [("CommonPrefixes", [("Prefix", code(prefix))]) for prefix in page.prefixes]
    return entries


def list_objects_v2(context: S3Context, request: S3Request) -> S3Response:
    query = request.query
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    encode = query.get("encoding-type") == "url"
    code = (lambda value: quote(value, safe="/")) if encode else (lambda value: value)
    token = query.get("continuation-token")
    after = _decode_token(token) if token is not None else query.get("start-after", "")
    max_keys = _max_keys(request)
    page = list_page(context.store, request.bucket, prefix, delimiter, after, max_keys)
    content: list[tuple[str, Content]] = [("Name", request.bucket), ("Prefix", code(prefix))]
    if delimiter:
        content.append(("Delimiter", code(delimiter)))
    content += [("MaxKeys", max_keys), ("KeyCount", len(page.contents) + len(page.prefixes)),
                ("IsTruncated", page.truncated)]
    if encode:
        content.append(("EncodingType", "url"))
    if token is not None:
        content.append(("ContinuationToken", token))
    if page.truncated:
        content.append(("NextContinuationToken", _encode_token(page.last)))
    if "start-after" in query:
        content.append(("StartAfter", code(query["start-after"])))
    content += _entries(page, encode, with_owner=query.get("fetch-owner") == "true")
    return S3Response(200, XML, document("ListBucketResult", content))


def list_objects(context: S3Context, request: S3Request) -> S3Response:
    """ListObjects (v1): `marker` to page; NextMarker when truncated."""
    query = request.query
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    marker = query.get("marker", "")
    encode = query.get("encoding-type") == "url"
    code = (lambda value: quote(value, safe="/")) if encode else (lambda value: value)
    max_keys = _max_keys(request)
    page = list_page(context.store, request.bucket, prefix, delimiter, marker, max_keys)
    content: list[tuple[str, Content]] = [("Name", request.bucket), ("Prefix", code(prefix)),
                                          ("Marker", code(marker))]
    if delimiter:
        content.append(("Delimiter", code(delimiter)))
    content += [("MaxKeys", max_keys), ("IsTruncated", page.truncated)]
    if encode:
        content.append(("EncodingType", "url"))
    if page.truncated:
        content.append(("NextMarker", code(page.last)))
    content += _entries(page, encode, with_owner=True)
    return S3Response(200, XML, document("ListBucketResult", content))


def _encode_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument("The continuation token provided is incorrect",
                              ArgumentName="continuation-token") from None
