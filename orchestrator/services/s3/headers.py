"""An object's HTTP side: the metadata a PUT's headers carry, the headers a GET answers with,
byte ranges, conditional requests, and the integrity checks S3 makes on what it receives."""

from __future__ import annotations

import base64
import time
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl

from orchestrator.services.s3.errors import (
    BadDigest,
    BadRequest,
    InvalidArgument,
    InvalidDigest,
    InvalidRange,
    InvalidStorageClass,
    InvalidTag,
    PreconditionFailed,
)
from orchestrator.services.s3.payload import Payload
from orchestrator.services.s3.records import ObjectMeta
from orchestrator.services.s3.requests import S3Request, S3Response, decimal
from orchestrator.services.s3.xml import http_date

# Headers stored with an object and answered on GET/HEAD, besides Content-Type.
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language",
                  "expires")
CHECKSUMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
META_PREFIX = "x-amz-meta-"
STORAGE_CLASSES = frozenset({"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                             "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS",
                             "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE"})
CANNED_ACLS = frozenset({"private", "public-read", "public-read-write", "aws-exec-read",
                         "authenticated-read", "bucket-owner-read", "bucket-owner-full-control",
                         "log-delivery-write"})
MAX_OBJECT_TAGS = 10
# GetObject's query parameters that override a header of the response.
OVERRIDES = {"response-content-type": "content-type", "response-content-language":
             "content-language", "response-expires": "expires", "response-cache-control":
             "cache-control", "response-content-disposition": "content-disposition",
             "response-content-encoding": "content-encoding"}


def quoted(etag: str) -> str:
    return f'"{etag}"'


def requested_checksums(headers: dict[str, str]) -> list[str]:
    """The additional checksums a request names (as a header, a trailer or the SDK's
    algorithm), to compute while its body arrives."""
    named = {headers.get("x-amz-sdk-checksum-algorithm", "").lower(),
             *(part.strip().lower().removeprefix("x-amz-checksum-")
               for part in headers.get("x-amz-trailer", "").split(","))}
    named |= {algorithm for algorithm in CHECKSUMS if f"x-amz-checksum-{algorithm}" in headers}
    return [algorithm for algorithm in CHECKSUMS if algorithm in named]


def meta_from_request(request: S3Request, size: int, etag: str) -> ObjectMeta:
    """What PutObject (or CopyObject with REPLACE, or CreateMultipartUpload) stores beside
    the body."""
    headers = request.headers
    storage_class = headers.get("x-amz-storage-class") or "STANDARD"
    if storage_class not in STORAGE_CLASSES:
        raise InvalidStorageClass(StorageClassRequested=storage_class)
    return ObjectMeta(
        size=size, etag=etag, last_modified=int(time.time()),
        content_type=headers.get("content-type") or "binary/octet-stream",
        headers={name: headers[name] for name in STORED_HEADERS if headers.get(name)},
        metadata={name[len(META_PREFIX):]: value for name, value in headers.items()
                  if name.startswith(META_PREFIX)},
        checksums={algorithm: headers[f"x-amz-checksum-{algorithm}"] for algorithm in CHECKSUMS
                   if headers.get(f"x-amz-checksum-{algorithm}")},
        storage_class=storage_class, tags=tags_from_header(headers.get("x-amz-tagging", "")),
        acl=canned_acl(headers))


def object_headers(meta: ObjectMeta, request: S3Request, whole: bool = True) -> dict[str, str]:
    """GET/HEAD's headers for an object, with GetObject's `response-*` overrides applied;
    its checksums when asked for (`x-amz-checksum-mode: ENABLED`) and the whole object is."""
    headers = {"content-type": meta.content_type, "etag": quoted(meta.etag),
               "last-modified": http_date(meta.last_modified), "accept-ranges": "bytes",
               **meta.headers}
    headers.update({META_PREFIX + name: value for name, value in meta.metadata.items()})
    if meta.storage_class != "STANDARD":
        headers["x-amz-storage-class"] = meta.storage_class
    if meta.version_id != "null" or "versionId" in request.query:
        headers["x-amz-version-id"] = meta.version_id
    if meta.tags:
        headers["x-amz-tagging-count"] = str(len(meta.tags))
    if meta.parts:
        headers["x-amz-mp-parts-count"] = str(meta.parts)
    if whole and request.header("x-amz-checksum-mode").upper() == "ENABLED" and meta.checksums:
        headers.update({f"x-amz-checksum-{name}": value for name, value in meta.checksums.items()})
        headers["x-amz-checksum-type"] = meta.checksum_type
    for parameter, header in OVERRIDES.items():
        if parameter in request.query:
            headers[header] = request.query[parameter]
    return headers


def verify_integrity(request: S3Request, payload: Payload) -> None:
    """Content-MD5 and the checksums S3 can compute (CRC32, CRC32C, SHA-1, SHA-256) must
    match the body; CRC64NVME is accepted as given."""
    if md5 := request.header("content-md5"):
        try:
            expected = base64.b64decode(md5, validate=True)
        except ValueError:
            raise InvalidDigest(**{"Content-MD5": md5}) from None
        if len(expected) != 16:
            raise InvalidDigest(**{"Content-MD5": md5})
        if payload.md5 != expected:
            raise BadDigest(ExpectedDigest=expected.hex(), CalculatedDigest=payload.md5.hex())
    for algorithm, computed in payload.checksums.items():
        given = request.header(f"x-amz-checksum-{algorithm}")
        if given and computed != given:
            raise BadDigest(f"The {algorithm.upper()} you specified did not match the "
                            "calculated checksum.")


def tags_from_header(value: str) -> dict[str, str]:
    """`x-amz-tagging: k1=v1&k2=v2` (URL-encoded)."""
    tags = dict(parse_qsl(value, keep_blank_values=True)) if value else {}
    check_tags(tags)
    return tags


def check_tags(tags: dict[str, str]) -> None:
    if len(tags) > MAX_OBJECT_TAGS:
        raise BadRequest("Object tags cannot be greater than 10")
    for key, value in tags.items():
        if not key or len(key) > 128:
            raise InvalidTag("The TagKey you have provided is invalid", TagKey=key)
        if len(value) > 256:
            raise InvalidTag("The TagValue you have provided is invalid", TagKey=key,
                             TagValue=value)


def canned_acl(headers: dict[str, str]) -> str:
    acl = headers.get("x-amz-acl") or "private"
    if acl not in CANNED_ACLS:
        raise InvalidArgument(None, ArgumentName="x-amz-acl", ArgumentValue=acl)
    return acl


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) bytes of `Range: bytes=a-b | a- | -n`; None for the whole
    object (no header, or one S3 ignores); InvalidRange when nothing of it is in the object."""
    if not header.startswith("bytes=") or "," in header:
        return None
    first_text, dash, last_text = header[len("bytes="):].partition("-")
    first_text, last_text = first_text.strip(), last_text.strip()
    first, last = decimal(first_text), decimal(last_text)
    well_formed = (not first_text or first is not None) and (not last_text or last is not None)
    if not dash or not well_formed or not (first_text or last_text):
        return None
    if first is None:  # the last n bytes
        assert last is not None
        if last == 0 or size == 0:
            raise InvalidRange(RangeRequested=header, ActualObjectSize=str(size))
        return max(0, size - last), size - 1
    if last is not None and last < first:
        return None
    if first >= size:
        raise InvalidRange(RangeRequested=header, ActualObjectSize=str(size))
    return first, min(last if last is not None else size - 1, size - 1)


def check_preconditions(request: S3Request, meta: ObjectMeta) -> S3Response | None:
    """If-Match / If-Unmodified-Since fail with 412; If-None-Match / If-Modified-Since
    answer 304 Not Modified; None when the request goes ahead."""
    etag = quoted(meta.etag)
    if (match := request.header("if-match")) and not _etag_matches(match, etag):
        raise PreconditionFailed(Condition="If-Match")
    unmodified = _date(request.header("if-unmodified-since"))
    if not match and unmodified is not None and int(meta.last_modified) > unmodified:
        raise PreconditionFailed(Condition="If-Unmodified-Since")
    not_modified = S3Response(304, {"etag": etag,
                                    "last-modified": http_date(meta.last_modified)})
    if none_match := request.header("if-none-match"):
        return not_modified if _etag_matches(none_match, etag) else None
    modified = _date(request.header("if-modified-since"))
    if modified is not None and int(meta.last_modified) <= modified:
        return not_modified
    return None


def _etag_matches(condition: str, etag: str) -> bool:
    wanted = {part.strip() for part in condition.split(",")}
    return "*" in wanted or etag in wanted or etag.strip('"') in wanted


def _date(value: str) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
