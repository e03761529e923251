"""Object operations: Put/Get/Head/Delete/CopyObject and DeleteObjects. Every write that
succeeded is then announced to the bucket's notification rules."""

from __future__ import annotations

import dataclasses
import time
from urllib.parse import unquote

from orchestrator.services.s3.blobs import read_slices
from orchestrator.services.s3.buckets import XML
from orchestrator.services.s3.context import S3Context
from orchestrator.services.s3.errors import (
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
    canned_acl,
    check_preconditions,
    meta_from_request,
    object_headers,
    quoted,
    requested_checksums,
    tags_from_header,
    verify_integrity,
)
from orchestrator.services.s3.notifications import ObjectEvent
from orchestrator.services.s3.payload import Payload
from orchestrator.services.s3.records import Body, ObjectMeta
from orchestrator.services.s3.requests import S3Request, S3Response
from orchestrator.services.s3.xml import Content, document, iso_time, parse, text

MAX_KEY_BYTES = 1024
MAX_DELETE_KEYS = 1000


def put_object(context: S3Context, request: S3Request) -> S3Response:
    """PutObject → `ObjectCreated:Put`. Checksums sent (as headers or aws-chunked trailers)
    are checked and echoed back, as S3 does."""
    if len(request.key.encode()) > MAX_KEY_BYTES:
        raise KeyTooLong(Size=str(len(request.key.encode())), MaxSizeAllowed=str(MAX_KEY_BYTES))
    payload = request.payload or Payload.of(request.body, requested_checksums(request.headers))
    verify_integrity(request, payload)
    if_none_match = request.header("if-none-match").strip()
    if request.header("if-match") or if_none_match not in ("", "*"):
        raise NotImplementedOperation("ripple's S3 supports only If-None-Match: * on PutObject")
    meta = meta_from_request(request, payload.size, payload.md5.hex())
    meta.checksums.update({name: value for name, value in payload.checksums.items()
                           if name not in meta.checksums})
    context.store.put_object(request.bucket, request.key, payload, meta,
                             if_absent=if_none_match == "*")
    announce(context, request, "ObjectCreated:Put", meta)
    headers = {"etag": quoted(meta.etag), **version_header(meta)}
    headers.update({f"x-amz-checksum-{name}": value for name, value in meta.checksums.items()
                    if request.header(f"x-amz-checksum-{name}")})
    return S3Response(200, headers)


def announce(context: S3Context, request: S3Request, name: str, meta: ObjectMeta,
             key: str | None = None) -> None:
    """Tell the bucket's notification rules about a write that succeeded."""
    context.notifications.notify(request, ObjectEvent(
        name, request.bucket, request.key if key is None else key, meta.sequence,
        None if name.startswith("ObjectRemoved") else meta.size,
        None if name.startswith("ObjectRemoved") else meta.etag,
        meta.version_id if meta.version_id != "null" else None))


def version_header(meta: ObjectMeta) -> dict[str, str]:
    return {"x-amz-version-id": meta.version_id} if meta.version_id != "null" else {}


def get_object(context: S3Context, request: S3Request) -> S3Response:
    """GetObject, whole or a byte range (206 with Content-Range); a blob streams."""
    meta, body = context.store.get_object(request.bucket, request.key,
                                          request.query.get("versionId"))
    try:
        return _answer(request, meta, body)
    except BaseException:
        if not isinstance(body, bytes):
            body.close()
        raise


def head_object(context: S3Context, request: S3Request) -> S3Response:
    meta = context.store.head_object(request.bucket, request.key,
                                     request.query.get("versionId"))
    return _answer(request, meta, None)


def _answer(request: S3Request, meta: ObjectMeta, body: Body | None) -> S3Response:
    not_modified = check_preconditions(request, meta)
    if not_modified is not None:
        if body is not None and not isinstance(body, bytes):
            body.close()
        return not_modified
    selected = byte_range(request.header("range"), meta.size)
    headers = object_headers(meta, request, whole=selected is None)
    first, last = selected if selected is not None else (0, meta.size - 1)
    length = last - first + 1 if meta.size else 0
    headers["content-length"] = str(length)
    status = 200
    if selected is not None:
        headers["content-range"] = f"bytes {first}-{last}/{meta.size}"
        status = 206
    if body is None or isinstance(body, bytes):
        return S3Response(status, headers, (body or b"")[first:first + length])
    return S3Response(status, headers, stream=read_slices(body, first, length))


def delete_object(context: S3Context, request: S3Request) -> S3Response:
    """DeleteObject: 204 whether or not the key existed; `ObjectRemoved:Delete` (or
    `ObjectRemoved:DeleteMarkerCreated`) if something changed."""
    removed = _delete(context, request, request.key, request.query.get("versionId"))
    headers: dict[str, str] = {}
    if removed is not None:
        headers.update(version_header(removed))
        if removed.delete_marker:
            headers["x-amz-delete-marker"] = "true"
    return S3Response(204, headers)


def _delete(context: S3Context, request: S3Request, key: str,
            version_id: str | None) -> ObjectMeta | None:
    sequence, removed = context.store.delete_object(request.bucket, key, version_id)
    if sequence is not None:
        made_marker = version_id is None and removed is not None
        event = "ObjectRemoved:DeleteMarkerCreated" if made_marker else "ObjectRemoved:Delete"
        meta = removed or ObjectMeta(0, "", 0)
        meta.sequence = sequence
        announce(context, request, event, meta, key)
    return removed


def delete_objects(context: S3Context, request: S3Request) -> S3Response:
    """DeleteObjects: up to 1,000 keys (and versions); `Quiet` lists only the errors."""
    root = parse(request.body, "Delete")
    quiet = (text(root, "Quiet", "false") or "").strip().lower() == "true"
    named = [(text(item, "Key"), text(item, "VersionId")) for item in root.findall("Object")]
    keys = [(key, version) for key, version in named if key is not None]
    if not keys or len(keys) != len(named) or len(keys) > MAX_DELETE_KEYS:
        raise MalformedXML()
    context.store.bucket(request.bucket)
    results: list[tuple[str, Content]] = []
    for key, version_id in keys:
        try:
            removed = _delete(context, request, key, version_id)
        except S3Error as error:
            results.append(("Error", [("Key", key), ("Code", error.code),
                                      ("Message", error.message)]))
            continue
        if not quiet:
            entry: list[tuple[str, Content]] = [("Key", key)]
            if version_id is not None:
                entry.append(("VersionId", version_id))
            if removed is not None and removed.delete_marker:
                entry += [("DeleteMarker", True),
                          ("DeleteMarkerVersionId", removed.version_id)]
            results.append(("Deleted", entry))
    return S3Response(200, XML, document("DeleteResult", results))


def copy_object(context: S3Context, request: S3Request) -> S3Response:
    """CopyObject → `ObjectCreated:Copy`. Metadata is the source's (COPY, the default) or
    the request's (REPLACE); a file body is linked, not copied."""
    source_bucket, source_key, source_version = copy_source(request.header("x-amz-copy-source"))
    directive = request.header("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("Unknown metadata directive.",
                              ArgumentName="x-amz-metadata-directive", ArgumentValue=directive)
    same = (source_bucket, source_key) == (request.bucket, request.key)
    changes = any(request.header(name) for name in ("x-amz-storage-class", "x-amz-tagging"))
    if same and directive == "COPY" and not changes:
        raise InvalidRequest("This copy request is illegal because it is trying to copy an "
                             "object to itself without changing the object's metadata, storage "
                             "class, website redirect location or encryption attributes.")
    source = context.store.head_object(source_bucket, source_key, source_version)
    check_copy_conditions(request, source)
    if directive == "COPY":
        meta = dataclasses.replace(source, last_modified=int(time.time()))
        meta.storage_class = request.header("x-amz-storage-class") or "STANDARD"
        meta.acl = canned_acl(request.headers)
        if request.header("x-amz-tagging-directive", "COPY").upper() == "REPLACE":
            meta.tags = tags_from_header(request.header("x-amz-tagging"))
    else:
        meta = meta_from_request(request, source.size, source.etag)
        meta.checksums, meta.checksum_type = source.checksums, source.checksum_type
        meta.parts = source.parts
    body: bytes | None = None
    if source.blob:
        meta.blob = context.store.blobs.link(source.blob)
    else:
        _, data = context.store.get_object(source_bucket, source_key, source.version_id
                                               if source.version_id != "null" else None)
        body = data if isinstance(data, bytes) else data.read()
    context.store.put_meta(request.bucket, request.key, meta, body)
    announce(context, request, "ObjectCreated:Copy", meta)
    result = document("CopyObjectResult", [("LastModified", iso_time(meta.last_modified)),
                                           ("ETag", quoted(meta.etag))])
    headers = {**XML, **version_header(meta)}
    if source.version_id != "null":
        headers["x-amz-copy-source-version-id"] = source.version_id
    return S3Response(200, headers, result)


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


def copy_source(header: str) -> tuple[str, str, str | None]:
    """`x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded."""
    path_part, _, version = header.partition("?versionId=")
    path = unquote(path_part).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise InvalidArgument("Copy Source must mention the source bucket and key: "
                              "sourcebucket/sourcekey", ArgumentName="x-amz-copy-source",
                              ArgumentValue=header)
    return bucket, key, version or None

