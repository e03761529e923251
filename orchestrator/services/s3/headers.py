"""An object's HTTP side: the metadata a PUT's headers carry, the headers a GET answers with,
byte ranges, conditional requests, and the integrity checks S3 makes on what it receives."""

from __future__ import annotations

import base64
import hashlib
import time
import zlib
from email.utils import parsedate_to_datetime

from orchestrator.services.s3.errors import (
    BadDigest,
    InvalidDigest,
    InvalidRange,
    PreconditionFailed,
)
from orchestrator.services.s3.requests import S3Request, S3Response, decimal
from orchestrator.services.s3.store import ObjectMeta
from orchestrator.services.s3.xml import http_date

# Headers stored with an object and answered on GET/HEAD, besides Content-Type.
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language",
                  "expires")
CHECKSUMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
META_PREFIX = "x-amz-meta-"
# GetObject's query parameters that override a header of the response.
OVERRIDES = {"response-content-type": "content-type", "response-content-language":
             "content-language", "response-expires": "expires", "response-cache-control":
             "cache-control", "response-content-disposition": "content-disposition",
             "response-content-encoding": "content-encoding"}


def quoted(etag: str) -> str:
    return f'"{etag}"'


def meta_from_request(request: S3Request, body: bytes) -> ObjectMeta:
    """What PutObject (or CopyObject with REPLACE) stores beside the body."""
    headers = request.headers
    return ObjectMeta(
        size=len(body), etag=hashlib.md5(body).hexdigest(), last_modified=int(time.time()),
        content_type=headers.get("content-type") or "binary/octet-stream",
        headers={name: headers[name] for name in STORED_HEADERS if headers.get(name)},
        metadata={name[len(META_PREFIX):]: value for name, value in headers.items()
                  if name.startswith(META_PREFIX)},
        checksums={algorithm: headers[f"x-amz-checksum-{algorithm}"] for algorithm in CHECKSUMS
                   if headers.get(f"x-amz-checksum-{algorithm}")})


def object_headers(meta: ObjectMeta, query: dict[str, str] | None = None) -> dict[str, str]:
    """GET/HEAD's headers for an object, with GetObject's `response-*` overrides applied."""
    headers = {"content-type": meta.content_type, "etag": quoted(meta.etag),
               "last-modified": http_date(meta.last_modified), "accept-ranges": "bytes",
               **meta.headers}
    headers.update({META_PREFIX + name: value for name, value in meta.metadata.items()})
    for parameter, header in OVERRIDES.items():
        if query and parameter in query:
            headers[header] = query[parameter]
    return headers


def verify_integrity(request: S3Request) -> None:
    """Content-MD5 and the checksums S3 can compute (CRC32, SHA-1, SHA-256) must match the
    body; CRC32C and CRC64NVME are accepted as given."""
    body = request.body
    if md5 := request.header("content-md5"):
        try:
            expected = base64.b64decode(md5, validate=True)
        except ValueError:
            raise InvalidDigest(**{"Content-MD5": md5}) from None
        if len(expected) != 16:
            raise InvalidDigest(**{"Content-MD5": md5})
        if hashlib.md5(body).digest() != expected:
            raise BadDigest(ExpectedDigest=expected.hex(), CalculatedDigest=hashlib.md5(
                body).hexdigest())
    computed = {"crc32": lambda: zlib.crc32(body).to_bytes(4, "big"),
                "sha1": lambda: hashlib.sha1(body).digest(),
                "sha256": lambda: hashlib.sha256(body).digest()}
    for algorithm, compute in computed.items():
        given = request.header(f"x-amz-checksum-{algorithm}")
        if given and base64.b64encode(compute()).decode() != given:
            raise BadDigest(f"The {algorithm.upper()} you specified did not match the "
                            "calculated checksum.")


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
