"""Object operations: Put/Get/Head/Delete/CopyObject and DeleteObjects. Every write that
succeeded is then announced to the bucket's notification rules."""

from __future__ import annotations

import dataclasses
import time
from urllib.parse import unquote

from orchestrator.services.s3.buckets import XML
from orchestrator.services.s3.context import S3Context
from orchestrator.services.s3.errors import (
    EntityTooLarge,
    InvalidArgument,
    InvalidRequest,
    KeyTooLong,
    MalformedXML,
    NotImplementedOperation,
    PreconditionFailed,
    S3Error,
)
from orchestrator.services.s3.headers import (
    byte_range,
    check_preconditions,
    meta_from_request,
    object_headers,
    quoted,
    verify_integrity,
)
from orchestrator.services.s3.notifications import ObjectEvent
from orchestrator.services.s3.requests import S3Request, S3Response
from orchestrator.services.s3.store import MAX_OBJECT_SIZE, ObjectMeta
from orchestrator.services.s3.xml import Content, document, iso_time, parse, text

MAX_KEY_BYTES = 1024
MAX_DELETE_KEYS = 1000


def check_size(size: int) -> None:
    if size > MAX_OBJECT_SIZE:
        raise EntityTooLarge(ProposedSize=str(size), MaxSizeAllowed=str(MAX_OBJECT_SIZE))


def put_object(context: S3Context, request: S3Request) -> S3Response:
    """PutObject → `ObjectCreated:Put`. Checksums sent (as headers or aws-chunked trailers)
    are echoed back, as S3 does."""
    if len(request.key.encode()) > MAX_KEY_BYTES:
        raise KeyTooLong(Size=str(len(request.key.encode())), MaxSizeAllowed=str(MAX_KEY_BYTES))
    check_size(len(request.body))
    verify_integrity(request)
    if_none_match = request.header("if-none-match").strip()
    if request.header("if-match") or if_none_match not in ("", "*"):
        raise NotImplementedOperation("ripple's S3 supports only If-None-Match: * on PutObject")
    meta = meta_from_request(request, request.body)
    sequence = context.store.put_object(request.bucket, request.key, request.body, meta,
                                        if_absent=if_none_match == "*")
    context.notifications.notify(request, ObjectEvent("ObjectCreated:Put", request.bucket,
                                                      request.key, sequence, meta.size,
                                                      meta.etag))
    headers = {"etag": quoted(meta.etag)}
    headers.update({f"x-amz-checksum-{name}": value for name, value in meta.checksums.items()})
    return S3Response(200, headers)


def get_object(context: S3Context, request: S3Request) -> S3Response:
    """GetObject, whole or a byte range (206 with Content-Range)."""
    meta, body = context.store.get_object(request.bucket, request.key)
    return _answer(request, meta, body)


def head_object(context: S3Context, request: S3Request) -> S3Response:
    meta = context.store.head_object(request.bucket, request.key)
    return _answer(request, meta, None)


def _answer(request: S3Request, meta: ObjectMeta, body: bytes | None) -> S3Response:
    not_modified = check_preconditions(request, meta)
    if not_modified is not None:
        return not_modified
    headers = object_headers(meta, request.query)
    selected = byte_range(request.header("range"), meta.size)
    if selected is None:
        headers["content-length"] = str(meta.size)
        return S3Response(200, headers, body or b"")
    first, last = selected
    headers["content-range"] = f"bytes {first}-{last}/{meta.size}"
    headers["content-length"] = str(last - first + 1)
    return S3Response(206, headers, body[first:last + 1] if body is not None else b"")


def delete_object(context: S3Context, request: S3Request) -> S3Response:
    """DeleteObject: 204 whether or not the key existed; `ObjectRemoved:Delete` if it did."""
    _delete(context, request, request.key)
    return S3Response(204)


def _delete(context: S3Context, request: S3Request, key: str) -> None:
    sequence = context.store.delete_object(request.bucket, key)
    if sequence is not None:
        context.notifications.notify(request, ObjectEvent("ObjectRemoved:Delete",
                                                          request.bucket, key, sequence))


def delete_objects(context: S3Context, request: S3Request) -> S3Response:
    """DeleteObjects: up to 1,000 keys; `Quiet` lists only the errors."""
    root = parse(request.body, "Delete")
    quiet = (text(root, "Quiet", "false") or "").strip().lower() == "true"
    named = [text(item, "Key") for item in root.findall("Object")]
    keys = [key for key in named if key is not None]
    if not keys or len(keys) != len(named) or len(keys) > MAX_DELETE_KEYS:
        raise MalformedXML()
    context.store.bucket(request.bucket)
    results: list[tuple[str, Content]] = []
    for key in keys:
        try:
            _delete(context, request, key)
        except S3Error as error:
            results.append(("Error", [("Key", key), ("Code", error.code),
                                      ("Message", error.message)]))
            continue
        if not quiet:
            results.append(("Deleted", [("Key", key)]))
    return S3Response(200, XML, document("DeleteResult", results))


def copy_object(context: S3Context, request: S3Request) -> S3Response:
    """CopyObject → `ObjectCreated:Copy`. Metadata is the source's (COPY, the default) or
    the request's (REPLACE)."""
    source_bucket, source_key = copy_source(request.header("x-amz-copy-source"))
    directive = request.header("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("Unknown metadata directive.",
                              ArgumentName="x-amz-metadata-directive", ArgumentValue=directive)
    if (source_bucket, source_key) == (request.bucket, request.key) and directive == "COPY":
        raise InvalidRequest("This copy request is illegal because it is trying to copy an "
                             "object to itself without changing the object's metadata, storage "
                             "class, website redirect location or encryption attributes.")
    source, body = context.store.get_object(source_bucket, source_key)
    check_copy_conditions(request, source)
    if directive == "COPY":
        meta = dataclasses.replace(source, last_modified=int(time.time()), checksums={})
    else:
        meta = dataclasses.replace(meta_from_request(request, body), checksums={})
    sequence = context.store.put_object(request.bucket, request.key, body, meta)
    context.notifications.notify(request, ObjectEvent("ObjectCreated:Copy", request.bucket,
                                                      request.key, sequence, meta.size,
                                                      meta.etag))
    result = document("CopyObjectResult", [("LastModified", iso_time(meta.last_modified)),
                                           ("ETag", quoted(meta.etag))])
    return S3Response(200, XML, result)


def check_copy_conditions(request: S3Request, source: ObjectMeta) -> None:
    """`x-amz-copy-source-if-(none-)match` and `-if-(un)modified-since` hold for the source,
    else PreconditionFailed (never 304: a copy has nothing to leave unmodified)."""
    prefix = "x-amz-copy-source-"
    conditions = {name[len(prefix):]: value for name, value in request.headers.items()
                  if name.startswith(prefix + "if-")}
    if conditions and check_preconditions(dataclasses.replace(request, headers=conditions),
                                          source) is not None:
        raise PreconditionFailed(Condition=", ".join(f"x-amz-copy-source-{name}"
                                                     for name in conditions))


def copy_source(header: str) -> tuple[str, str]:
    """`x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded."""
    path = unquote(header.split("?versionId=", 1)[0]).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise InvalidArgument("Copy Source must mention the source bucket and key: "
                              "sourcebucket/sourcekey", ArgumentName="x-amz-copy-source",
                              ArgumentValue=header)
    return bucket, key

