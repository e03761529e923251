"""Multipart upload: Create, UploadPart, UploadPartCopy, ListParts, Complete, Abort and
ListMultipartUploads. Parts are files; Complete joins them into the object's file (a chunk at a
time) and fires `ObjectCreated:CompleteMultipartUpload`."""

from __future__ import annotations

import base64
import hashlib
import time

from orchestrator.services.s3.buckets import XML, owner
from orchestrator.services.s3.context import S3Context
from orchestrator.services.s3.errors import (
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    InvalidRequest,
    MalformedXML,
    NoSuchBucket,
    NoSuchUpload,
)
from orchestrator.services.s3.headers import (
    byte_range,
    meta_from_request,
    quoted,
    requested_checksums,
    verify_integrity,
)
from orchestrator.services.s3.objects import announce, check_copy_conditions, copy_source
from orchestrator.services.s3.payload import COMPUTED, Payload, hasher
from orchestrator.services.s3.records import MAX_OBJECT_SIZE, ObjectMeta
from orchestrator.services.s3.requests import S3Request, S3Response, decimal
from orchestrator.services.s3.uploads import Part, Upload
from orchestrator.services.s3.xml import Content, document, iso_time, parse, text

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000
MAX_LISTED = 1000


def _upload(context: S3Context, request: S3Request) -> Upload:
    context.store.bucket(request.bucket)
    return context.uploads.get(request.bucket, request.key, request.query.get("uploadId", ""))


def _part_number(request: S3Request) -> int:
    raw = request.query.get("partNumber", "")
    number = decimal(raw)
    if number is None or not 1 <= number <= MAX_PARTS:
        raise InvalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                              ArgumentName="partNumber", ArgumentValue=raw)
    return number


def create_multipart_upload(context: S3Context, request: S3Request) -> S3Response:
    algorithm = request.header("x-amz-checksum-algorithm").lower()
    if algorithm and algorithm not in (*COMPUTED, "crc64nvme"):
        raise InvalidRequest("Checksum algorithm provided is unsupported. Please try again with "
                             "any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
    checksum_type = request.header("x-amz-checksum-type").upper()
    if algorithm and not checksum_type:
        checksum_type = "FULL_OBJECT" if algorithm == "crc64nvme" else "COMPOSITE"
    if checksum_type == "FULL_OBJECT" and algorithm in ("sha1", "sha256"):
        raise InvalidRequest(f"The FULL_OBJECT checksum type cannot be used with the "
                             f"{algorithm.upper()} checksum algorithm.")
    meta = meta_from_request(request, 0, "")
    upload = context.uploads.create(request.bucket, request.key, meta.to_json(), algorithm,
                                    checksum_type)
    if upload is None:
        raise NoSuchBucket(BucketName=request.bucket)
    headers = dict(XML)
    if algorithm:
        headers["x-amz-checksum-algorithm"] = algorithm.upper()
        headers["x-amz-checksum-type"] = checksum_type
    return S3Response(200, headers, document("InitiateMultipartUploadResult", [
        ("Bucket", request.bucket), ("Key", request.key), ("UploadId", upload.upload_id)]))


def upload_part(context: S3Context, request: S3Request) -> S3Response:
    number = _part_number(request)
    upload = _upload(context, request)
    payload = request.payload or Payload.of(request.body, requested_checksums(request.headers))
    verify_integrity(request, payload)
    checksums = {name: value for name, value in payload.checksums.items()
                 if request.header(f"x-amz-checksum-{name}")}
    if payload.temp is not None:
        blob = context.store.blobs.commit(payload.temp)
    else:
        blob = context.store.blobs.write(payload.data or b"")
    part = Part(number, payload.md5.hex(), payload.size, blob, time.time(), checksums)
    context.uploads.add_part(upload, part)
    headers = {"etag": quoted(part.etag)}
    headers.update({f"x-amz-checksum-{name}": value for name, value in checksums.items()})
    return S3Response(200, headers)


def upload_part_copy(context: S3Context, request: S3Request) -> S3Response:
    """UploadPartCopy: a part from (a byte range of) an existing object."""
    number = _part_number(request)
    upload = _upload(context, request)
    bucket, key, version = copy_source(request.header("x-amz-copy-source"))
    source, body = context.store.get_object(bucket, key, version)
    try:
        check_copy_conditions(request, source)
        wanted = request.header("x-amz-copy-source-range")
        first, last = 0, source.size - 1
        if wanted:
            selected = byte_range(wanted, source.size)
            if selected is None or not wanted.startswith("bytes=") or wanted.endswith("-"):
                raise InvalidArgument("The x-amz-copy-source-range value must be of the form "
                                      "bytes=first-last where first and last are the "
                                      "zero-based offsets of the first and last bytes to copy",
                                      ArgumentName="x-amz-copy-source-range",
                                      ArgumentValue=wanted)
            first, last = selected
        length = max(0, last - first + 1)
        if length > MAX_OBJECT_SIZE:
            raise InvalidRequest("The specified copy source is larger than the maximum "
                                 "allowable size for a copy source: 5368709120")
        digest = hashlib.md5()
        if isinstance(body, bytes):
            data = body[first:first + length]
            digest.update(data)
            blob = context.store.blobs.write(data)
        else:
            temp = context.store.blobs.concatenate([(source.blob, first, length)], digest.update)
            blob = context.store.blobs.commit(temp)
    finally:
        if not isinstance(body, bytes):
            body.close()
    part = Part(number, digest.hexdigest(), length, blob, time.time())
    context.uploads.add_part(upload, part)
    result = document("CopyPartResult", [("LastModified", iso_time(part.last_modified)),
                                         ("ETag", quoted(part.etag))])
    headers = dict(XML)
    if source.version_id != "null":
        headers["x-amz-copy-source-version-id"] = source.version_id
    return S3Response(200, headers, result)


def list_parts(context: S3Context, request: S3Request) -> S3Response:
    upload = _upload(context, request)
    marker = decimal(request.query.get("part-number-marker", "0")) or 0
    max_parts = min(decimal(request.query.get("max-parts", str(MAX_LISTED))) or 0, MAX_LISTED)
    parts = [part for number, part in context.uploads.parts(upload).items() if number > marker]
    shown, truncated = parts[:max_parts], len(parts) > max_parts
    content: list[tuple[str, Content]] = [
        ("Bucket", upload.bucket), ("Key", upload.key), ("UploadId", upload.upload_id),
        ("Initiator", owner()), ("Owner", owner()),
        ("StorageClass", ObjectMeta.from_json(upload.meta).storage_class),
        ("PartNumberMarker", marker),
        ("NextPartNumberMarker", shown[-1].number if shown else 0),
        ("MaxParts", max_parts), ("IsTruncated", truncated)]
    if upload.algorithm:
        content += [("ChecksumAlgorithm", upload.algorithm.upper()),
                    ("ChecksumType", upload.checksum_type)]
    for part in shown:
        entry: list[tuple[str, Content]] = [
            ("PartNumber", part.number), ("LastModified", iso_time(part.last_modified)),
            ("ETag", quoted(part.etag)), ("Size", part.size)]
        entry += [(f"Checksum{name.upper()}", value) for name, value in part.checksums.items()]
        content.append(("Part", entry))
    return S3Response(200, XML, document("ListPartsResult", content))


def abort_multipart_upload(context: S3Context, request: S3Request) -> S3Response:
    upload = _upload(context, request)
    context.uploads.finish(upload)
    return S3Response(204)


def _chosen_parts(request: S3Request, parts: dict[int, Part], algorithm: str) -> list[Part]:
    """The parts CompleteMultipartUpload names, checked as S3 checks them."""
    root = parse(request.body, "CompleteMultipartUpload")
    chosen: list[Part] = []
    for element in root.findall("Part"):
        number = decimal((text(element, "PartNumber") or "").strip())
        etag = (text(element, "ETag") or "").strip().strip('"')
        if number is None:
            raise MalformedXML()
        if chosen and number <= chosen[-1].number:
            raise InvalidPartOrder()
        part = parts.get(number)
        if part is None or part.etag != etag:
            raise InvalidPart(UploadId=request.query.get("uploadId", ""),
                              PartNumber=str(number), ETag=etag)
        given = text(element, f"Checksum{algorithm.upper()}") if algorithm else None
        if given and part.checksums.get(algorithm) not in (None, given):
            raise InvalidPart(UploadId=request.query.get("uploadId", ""),
                              PartNumber=str(number))
        chosen.append(part)
    if not chosen:
        raise MalformedXML()
    for part in chosen[:-1]:
        if part.size < MIN_PART_SIZE:
            raise EntityTooSmall(ProposedSize=str(part.size), MinSizeAllowed=str(MIN_PART_SIZE),
                                 PartNumber=str(part.number), ETag=quoted(part.etag))
    return chosen


def complete_multipart_upload(context: S3Context, request: S3Request) -> S3Response:
    upload = _upload(context, request)
    algorithm = upload.algorithm
    chosen = _chosen_parts(request, context.uploads.parts(upload), algorithm)
    meta = ObjectMeta.from_json(upload.meta)
    meta.size = sum(part.size for part in chosen)
    meta.parts = len(chosen)
    meta.last_modified = int(time.time())
    joined = hashlib.md5(b"".join(bytes.fromhex(part.etag) for part in chosen))
    meta.etag = f"{joined.hexdigest()}-{len(chosen)}"
    full = hasher(algorithm) if upload.checksum_type == "FULL_OBJECT" and algorithm in (
        "crc32", "crc32c") else None
    temp = context.store.blobs.concatenate([(part.blob, 0, part.size) for part in chosen],
                                           full.update if full is not None else None)
    try:
        meta.checksums, meta.checksum_type = {}, upload.checksum_type or "FULL_OBJECT"
        if full is not None:
            meta.checksums[algorithm] = base64.b64encode(full.digest()).decode()
            given = request.header(f"x-amz-checksum-{algorithm}")
            if given and given != meta.checksums[algorithm]:
                raise InvalidRequest(f"The upload was created using the {algorithm.upper()} "
                                     "checksum. The complete request's checksum does not "
                                     "match the calculated one.")
        elif algorithm and all(algorithm in part.checksums for part in chosen):
            composite = hasher(algorithm)
            for part in chosen:
                composite.update(base64.b64decode(part.checksums[algorithm]))
            encoded = base64.b64encode(composite.digest()).decode()
            meta.checksums[algorithm] = f"{encoded}-{len(chosen)}"
        meta.blob = context.store.blobs.commit(temp)
    except BaseException:
        context.store.blobs.discard(temp)
        raise
    if not context.uploads.finish(upload):  # a concurrent Complete or Abort got there first
        context.store.blobs.remove(meta.blob)
        raise NoSuchUpload(UploadId=upload.upload_id)
    context.store.put_meta(request.bucket, request.key, meta, None)
    announce(context, request, "ObjectCreated:CompleteMultipartUpload", meta)
    content: list[tuple[str, Content]] = [
        ("Location", f"/{request.bucket}/{request.key}"), ("Bucket", request.bucket),
        ("Key", request.key), ("ETag", quoted(meta.etag))]
    content += [(f"Checksum{name.upper()}", value) for name, value in meta.checksums.items()]
    if meta.checksums:
        content.append(("ChecksumType", meta.checksum_type))
    headers = dict(XML)
    if meta.version_id != "null":
        headers["x-amz-version-id"] = meta.version_id
    return S3Response(200, headers, document("CompleteMultipartUploadResult", content))


def list_multipart_uploads(context: S3Context, request: S3Request) -> S3Response:
    context.store.bucket(request.bucket)
    query = request.query
    prefix = query.get("prefix", "")
    key_marker, id_marker = query.get("key-marker", ""), query.get("upload-id-marker", "")
    max_uploads = min(decimal(query.get("max-uploads", str(MAX_LISTED))) or 0, MAX_LISTED)
    start = (b"(" + f"{key_marker}\0{id_marker}".encode() if id_marker else
             b"(" + f"{key_marker}\0\xff".encode() if key_marker else b"[" + prefix.encode())
    found = [upload for upload in context.uploads.listed(request.bucket, start, max_uploads + 1)
             if upload.key.startswith(prefix)]
    shown, truncated = found[:max_uploads], len(found) > max_uploads
    content: list[tuple[str, Content]] = [
        ("Bucket", request.bucket), ("KeyMarker", key_marker), ("UploadIdMarker", id_marker),
        ("NextKeyMarker", shown[-1].key if shown else ""),
        ("NextUploadIdMarker", shown[-1].upload_id if shown else ""),
        ("Prefix", prefix), ("MaxUploads", max_uploads), ("IsTruncated", truncated)]
    for upload in shown:
        content.append(("Upload", [
            ("Key", upload.key), ("UploadId", upload.upload_id), ("Initiator", owner()),
            ("Owner", owner()),
            ("StorageClass", ObjectMeta.from_json(upload.meta).storage_class),
            ("Initiated", iso_time(upload.initiated))]))
    return S3Response(200, XML, document("ListMultipartUploadsResult", content))
