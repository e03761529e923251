"""One S3 request as the operations see it — bucket and key resolved from path-style or
virtual-host addressing, the body decoded — and the response they answer with."""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

from starlette.types import Scope

from orchestrator.services.s3 import chunked
from orchestrator.services.s3.errors import IncompleteBody
from orchestrator.services.s3.payload import Payload

# A decimal header longer than this is bigger than any object: it is read as BEYOND instead of
# converted (Python refuses int() of more than 4,300 digits; a 5,000-digit Range was a 500).
_MAX_DIGITS = 19
BEYOND = 10**_MAX_DIGITS

# A presigned URL's own query parameters; its other `x-amz-*` ones are the headers it was signed
# with (botocore moves `x-amz-meta-*`, `x-amz-acl`, … into the query string).
_PRESIGN_PARAMETERS = frozenset({"x-amz-algorithm", "x-amz-credential", "x-amz-date",
                                 "x-amz-expires", "x-amz-signedheaders", "x-amz-signature",
                                 "x-amz-security-token"})

# Host suffixes under which the first labels name a bucket (`photos.s3.localhost:4566`).
VIRTUAL_HOST_SUFFIXES = (".localhost", ".localhost.localstack.cloud", ".amazonaws.com")


@dataclass
class S3Request:
    method: str
    bucket: str  # "" for the service itself (ListBuckets)
    key: str  # "" for a bucket
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names, values as sent (latin-1)
    body: bytes = b""  # what the operation reads, except an object's data:
    payload: Payload | None = None  # PutObject's and UploadPart's, received as it streamed in
    region: str = "us-east-1"
    source_ip: str = "127.0.0.1"
    access_key: str = ""
    request_id: str = field(default_factory=lambda: os.urandom(8).hex().upper())
    host_id: str = field(default_factory=lambda: base64.b64encode(os.urandom(48)).decode())

    @property
    def resource(self) -> str:
        """`/bucket/key`, as S3's error documents name it."""
        return "/" + "/".join(part for part in (self.bucket, self.key) if part)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)


@dataclass
class S3Response:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: Iterable[bytes] | None = None  # instead of `body`: a blob's bytes, read as sent


def decimal(text: str) -> int | None:
    """A header's unsigned decimal number (ASCII digits only: `int()` also takes `²` and `_`),
    BEYOND when it has more than 19 significant digits; None when it is not a number."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    significant = text.lstrip("0")
    return BEYOND if len(significant) > _MAX_DIGITS else int(significant or "0")


def check_decoded_length(headers: dict[str, str], size: int) -> None:
    declared = headers.get("x-amz-decoded-content-length", "")
    declared_size = decimal(declared)
    if declared_size is not None and declared_size != size:
        raise IncompleteBody(f"The decoded body has {size} bytes, not the "
                             f"{declared} that x-amz-decoded-content-length says")


def host_bucket(host: str, endpoint_host: str = "") -> str:
    """The bucket a virtual-hosted request names in its Host header, else "".

    `photos.localhost:4566`, `photos.s3.localhost` and `photos.s3.amazonaws.com` name
    `photos`, as does `photos.<endpoint host>`; IP addresses and bare hosts name none.
    """
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]").lower()
    try:
        ipaddress.ip_address(name)
        return ""
    except ValueError:
        pass
    suffixes = (*VIRTUAL_HOST_SUFFIXES, f".{endpoint_host}") if endpoint_host else \
        VIRTUAL_HOST_SUFFIXES
    for suffix in suffixes:
        if name.endswith(suffix):
            labels = name[:-len(suffix)].split(".")
            for index in range(len(labels) - 1, -1, -1):  # drop `.s3[.region]`
                if labels[index] == "s3" or labels[index].startswith("s3-website"):
                    labels = labels[:index]
                    break
            return ".".join(labels)
    return ""


def access_key_of(headers: dict[str, str], query: dict[str, str]) -> str:
    credential = query.get("X-Amz-Credential", "")
    authorization = headers.get("authorization", "")
    if "Credential=" in authorization:
        credential = authorization.split("Credential=", 1)[1]
    return credential.split("/", 1)[0]


def from_scope(scope: Scope, raw_body: bytes, region: str,
               endpoint_host: str = "") -> S3Request:
    """Resolve addressing and decode the body (aws-chunked framing, trailing checksums)."""
    headers = {name.decode("latin-1").lower(): value.decode("latin-1")
               for name, value in scope["headers"]}
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                           keep_blank_values=True))
    raw_path = scope.get("raw_path") or scope["path"].encode()
    path = unquote(raw_path.decode("latin-1").split("?", 1)[0], encoding="utf-8")
    bucket = host_bucket(headers.get("host", ""), endpoint_host)
    if bucket:
        key = path[1:]
    else:
        bucket, _, key = path[1:].partition("/")
    for name, value in query.items():
        lowered = name.lower()
        if lowered.startswith("x-amz-") and lowered not in _PRESIGN_PARAMETERS:
            headers.setdefault(lowered, value)
    body = raw_body
    if chunked.is_aws_chunked(headers):
        if raw_body:
            body, trailers = chunked.decode(raw_body)
            headers.update(trailers)
            check_decoded_length(headers, len(body))
        encoding = chunked.content_encoding_without_chunking(headers.get("content-encoding", ""))
        if encoding:
            headers["content-encoding"] = encoding
        else:
            headers.pop("content-encoding", None)
    client = scope.get("client")
    return S3Request(method=scope["method"], bucket=bucket, key=key, query=query,
                     headers=headers, body=body, region=region,
                     source_ip=client[0] if client else "127.0.0.1",
                     access_key=access_key_of(headers, query))
