"""Simulated S3 through boto3, the AWS CLI and raw signed HTTP, against the real endpoint of
the session's ripple: buckets, objects, ranges, copies, listings, errors, addressing styles and
the body encodings SDKs use."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ElementTree
import zlib
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import crc32c
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from orchestrator.services.s3.records import MAX_OBJECT_SIZE
from tests.conftest import Ripple

NewBucket = Callable[[], str]


def s3_client(ripple: Ripple, **config: Any) -> Any:
    return boto3.client("s3", endpoint_url=ripple.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1, "mode": "standard"},
                                      **config))


def signed(ripple: Ripple, method: str, path: str, body: bytes = b"", host: str = "",
           headers: dict[str, str] | None = None) -> httpx.Response:
    """A raw request signed with SigV4 for `s3`, optionally for a virtual host."""
    port = urlsplit(ripple.url).port
    url = f"http://{host or f'127.0.0.1:{port}'}{path}"
    all_headers = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest(), **(headers or {})}
    request = AWSRequest(method=method, url=url, data=body, headers=all_headers)
    SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    sent = {**dict(request.headers.items()), "host": urlsplit(url).netloc}
    return httpx.request(method, ripple.url + path, content=body, timeout=30, headers=sent)


def error_of(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response: dict[str, Any] = raised.value.response
    return {**response["Error"], "status": response["ResponseMetadata"]["HTTPStatusCode"]}


def test_bucket_lifecycle_and_its_errors(s3: Any) -> None:
    # Given a new bucket
    name = f"b-{uuid.uuid4().hex[:12]}"
    created = s3.create_bucket(Bucket=name)
    # Then it is listed, answers HEAD with its region and has no objects
    assert created["Location"] == f"/{name}"
    assert name in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    head = s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPHeaders"]
    assert head["x-amz-bucket-region"] == "us-east-1"
    assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    # When it is created again, or a bucket with a bad name is created
    again = error_of(s3.create_bucket, Bucket=name)
    bad = error_of(s3.create_bucket, Bucket="Bad_Name")
    # Then S3's errors say so
    assert (again["Code"], again["status"], again["BucketName"]) == (
        "BucketAlreadyOwnedByYou", 409, name)
    assert (bad["Code"], bad["status"]) == ("InvalidBucketName", 400)
    # And a bucket with an object cannot be deleted, an empty one can
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert error_of(s3.delete_bucket, Bucket=name)["Code"] == "BucketNotEmpty"
    assert error_of(s3.delete_bucket, Bucket=name)["status"] == 409
    s3.delete_object(Bucket=name, Key="k")
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    # And then it is gone: HEAD answers a bare 404, other calls NoSuchBucket
    assert error_of(s3.head_bucket, Bucket=name)["status"] == 404
    gone = error_of(s3.list_objects_v2, Bucket=name)
    assert (gone["Code"], gone["status"], gone["BucketName"]) == ("NoSuchBucket", 404, name)
    assert error_of(s3.put_object, Bucket=name, Key="k", Body=b"x")["Code"] == "NoSuchBucket"


def test_a_bucket_in_another_region(s3: Any) -> None:
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    listed = {b["Name"]: b for b in s3.list_buckets()["Buckets"]}
    assert listed[name]["BucketRegion"] == "eu-west-1"


def test_objects_round_trip_with_their_metadata(s3: Any, new_bucket: NewBucket) -> None:
    # Given an object put with user metadata and the standard headers
    bucket = new_bucket()
    body = os.urandom(3000)
    before = time.time()
    put = s3.put_object(Bucket=bucket, Key="docs/report 1.bin", Body=body,
                        ContentType="application/x-test", ContentEncoding="identity",
                        ContentDisposition='attachment; filename="r.bin"',
                        CacheControl="max-age=60", Metadata={"owner": "ada", "Step": "2"})
    # When it is read back
    got = s3.get_object(Bucket=bucket, Key="docs/report 1.bin")
    head = s3.head_object(Bucket=bucket, Key="docs/report 1.bin")
    # Then body, ETag (the quoted MD5), metadata and headers are the ones put
    etag = f'"{hashlib.md5(body).hexdigest()}"'
    assert put["ETag"] == got["ETag"] == head["ETag"] == etag
    assert got["Body"].read() == body
    for answer in (got, head):
        assert answer["ContentLength"] == 3000
        assert answer["ContentType"] == "application/x-test"
        assert answer["ContentEncoding"] == "identity"
        assert answer["ContentDisposition"] == 'attachment; filename="r.bin"'
        assert answer["CacheControl"] == "max-age=60"
        assert answer["Metadata"] == {"owner": "ada", "step": "2"}
        assert answer["AcceptRanges"] == "bytes"
    # And Last-Modified is an RFC 1123 date of the put, in seconds
    header = got["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
    assert header.endswith(" GMT")
    assert int(before) <= parsedate_to_datetime(header).timestamp() <= time.time()
    # And an object put without a type is binary/octet-stream; an empty one has the empty MD5
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    empty = s3.head_object(Bucket=bucket, Key="empty")
    assert empty["ContentType"] == "binary/octet-stream"
    assert empty["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_get_object_overrides_and_conditions(s3: Any, new_bucket: NewBucket) -> None:
    bucket = new_bucket()
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"data")["ETag"]
    got = s3.get_object(Bucket=bucket, Key="k", ResponseContentType="text/csv",
                        ResponseContentDisposition="inline")
    assert (got["ContentType"], got["ContentDisposition"]) == ("text/csv", "inline")
    assert got["Body"].read() == b"data"  # (an unread body holds its connection open)
    assert error_of(s3.get_object, Bucket=bucket, Key="k", IfMatch='"0"')["status"] == 412
    assert error_of(s3.get_object, Bucket=bucket, Key="k", IfNoneMatch=etag)["status"] == 304
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"data"
    # A conditional write refuses to replace an object that exists
    refused = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"new", IfNoneMatch="*")
    assert (refused["Code"], refused["status"]) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="fresh", Body=b"new", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


@pytest.mark.parametrize(("requested", "content_range", "expected"), [
    ("bytes=0-3", "bytes 0-3/10", b"0123"),
    ("bytes=4-", "bytes 4-9/10", b"456789"),
    ("bytes=-3", "bytes 7-9/10", b"789"),
    ("bytes=8-100", "bytes 8-9/10", b"89"),
    ("bytes=-50", "bytes 0-9/10", b"0123456789"),
    ("bytes=0-" + "9" * 5_000, "bytes 0-9/10", b"0123456789"),
    ("bytes=-" + "9" * 5_000, "bytes 0-9/10", b"0123456789"),
    ("bytes=" + "0" * 5_000 + "3-4", "bytes 3-4/10", b"34"),
])
def test_ranges(s3: Any, new_bucket: NewBucket, requested: str, content_range: str,
                expected: bytes) -> None:
    # Given a 10-byte object
    bucket = new_bucket()
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    # When a range of it is asked for
    got = s3.get_object(Bucket=bucket, Key="digits", Range=requested)
    # Then 206 answers those bytes, and Content-Range says which
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == content_range
    assert got["Body"].read() == expected
    assert got["ContentLength"] == len(expected)


def test_unsatisfiable_and_ignored_ranges(s3: Any, new_bucket: NewBucket) -> None:
    bucket = new_bucket()
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    for requested in ("bytes=10-", "bytes=20-30", "bytes=-0", "bytes=" + "9" * 5_000 + "-"):
        error = error_of(s3.get_object, Bucket=bucket, Key="digits", Range=requested)
        assert (error["Code"], error["status"]) == ("InvalidRange", 416)
    for ignored in ("bytes=5-2", "bytes=1_0-", "bytes=+1-2", "bytes=a-b"):
        whole = s3.get_object(Bucket=bucket, Key="digits", Range=ignored)  # invalid: ignored
        assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert whole["Body"].read() == b"0123456789"


def test_numbers_in_headers_are_ascii_digits_of_any_length(ripple: Ripple, s3: Any,
                                                           new_bucket: NewBucket) -> None:
    # Given a 10-byte object
    bucket = new_bucket()
    s3.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    # When a Range holds a digit Python's int() reads but HTTP does not (U+00B2, latin-1)
    credential = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request"
    answer = httpx.get(f"{ripple.url}/{bucket}/digits", timeout=30, headers={
        "authorization": credential, "range": "bytes=\u00b2-".encode("latin-1")})
    # Then it is ignored as any malformed range: the whole object
    assert (answer.status_code, answer.content) == (200, b"0123456789")
    # And a declared decoded length of 5,000 digits is too large, not a 500
    answer = signed(ripple, "PUT", f"/{bucket}/big", body=b"x", headers={
        "x-amz-decoded-content-length": "9" * 5_000})
    assert answer.status_code == 400
    assert b"<Code>EntityTooLarge</Code>" in answer.content


def test_missing_keys_and_deletes(ripple: Ripple, s3: Any, new_bucket: NewBucket) -> None:
    # Given a bucket with one object
    bucket = new_bucket()
    s3.put_object(Bucket=bucket, Key="here", Body=b"1")
    # Then a missing key is NoSuchKey on GET, a bare 404 on HEAD
    missing = error_of(s3.get_object, Bucket=bucket, Key="nope")
    assert (missing["Code"], missing["status"], missing["Key"]) == ("NoSuchKey", 404, "nope")
    head = signed(ripple, "HEAD", f"/{bucket}/nope")
    assert head.status_code == 404 and head.content == b""
    assert len(head.headers["x-amz-request-id"]) == 16
    # And deleting is 204 whether or not the key exists
    for key in ("here", "here", "never"):
        deleted = s3.delete_object(Bucket=bucket, Key=key)
        assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_objects_quiet_and_verbose(ripple: Ripple, s3: Any,
                                          new_bucket: NewBucket) -> None:
    bucket = new_bucket()
    for key in ("a", "b", "c", "d"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    verbose = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in verbose["Deleted"]) == ["a", "zz"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "c"}],
                                                     "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    # A malformed body deletes nothing
    answer = signed(ripple, "POST", f"/{bucket}?delete", body=b"<Delete><Object><Key>d</Key>",
                    headers={"content-md5": base64.b64encode(hashlib.md5(
                        b"<Delete><Object><Key>d</Key>").digest()).decode()})
    assert answer.status_code == 400 and b"<Code>MalformedXML</Code>" in answer.content
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["d"]


def test_copy_object_keeps_or_replaces_metadata(s3: Any, new_bucket: NewBucket) -> None:
    # Given an object whose key needs URL-encoding, with metadata
    source, target = new_bucket(), new_bucket()
    key = "in/my file+é.txt"
    s3.put_object(Bucket=source, Key=key, Body=b"payload", ContentType="text/plain",
                  Metadata={"k": "v"})
    # When it is copied (COPY, the default) and copied with REPLACE
    copied = s3.copy_object(Bucket=target, Key="copy", CopySource={"Bucket": source, "Key": key})
    s3.copy_object(Bucket=target, Key="replaced", CopySource=f"{source}/{key}",
                   MetadataDirective="REPLACE", ContentType="text/csv", Metadata={"n": "1"})
    # Then the copies have the body, and the source's or the request's metadata
    etag = f'"{hashlib.md5(b"payload").hexdigest()}"'
    assert copied["CopyObjectResult"]["ETag"] == etag
    same = s3.get_object(Bucket=target, Key="copy")
    assert (same["Body"].read(), same["ContentType"], same["Metadata"]) == (
        b"payload", "text/plain", {"k": "v"})
    replaced = s3.head_object(Bucket=target, Key="replaced")
    assert (replaced["ContentType"], replaced["Metadata"], replaced["ETag"]) == (
        "text/csv", {"n": "1"}, etag)
    # And copying onto itself unchanged, or from nowhere, is refused
    itself = error_of(s3.copy_object, Bucket=source, Key=key,
                      CopySource={"Bucket": source, "Key": key})
    assert (itself["Code"], itself["status"]) == ("InvalidRequest", 400)
    nowhere = error_of(s3.copy_object, Bucket=target, Key="x",
                       CopySource={"Bucket": source, "Key": "absent"})
    assert (nowhere["Code"], nowhere["status"]) == ("NoSuchKey", 404)
    # And a copy conditional on the source's ETag happens only when it holds
    stale = error_of(s3.copy_object, Bucket=target, Key="x", CopySourceIfMatch='"0"',
                     CopySource={"Bucket": source, "Key": key})
    assert (stale["Code"], stale["status"]) == ("PreconditionFailed", 412)
    s3.copy_object(Bucket=target, Key="x", CopySourceIfMatch=etag,
                   CopySource={"Bucket": source, "Key": key})


KEYS = ([f"a/{i:02d}" for i in range(10)] + [f"b/{i}" for i in range(5)]
        + ["c", "d/x/y", "e", "sp ace", "plus+sign", "é/ü", "amp&<lt>"])


@pytest.fixture
def listed_bucket(s3: Any, new_bucket: NewBucket) -> str:
    bucket = new_bucket()
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_list_objects_v2_prefix_delimiter_and_pages(s3: Any, listed_bucket: str) -> None:
    bucket = listed_bucket
    # All keys, in UTF-8 byte order, odd characters intact
    everything = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in everything["Contents"]] == sorted(
        KEYS, key=lambda key: key.encode())
    assert everything["KeyCount"] == len(KEYS) and not everything["IsTruncated"]
    first = everything["Contents"][0]
    assert first["Size"] == 4 and first["ETag"] == f'"{hashlib.md5(b"a/00").hexdigest()}"'
    assert first["StorageClass"] == "STANDARD" and first["LastModified"].year >= 2024
    # A delimiter rolls keys up into common prefixes, each counted once
    rolled = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["a/", "b/", "d/", "é/"]
    assert [o["Key"] for o in rolled["Contents"]] == ["amp&<lt>", "c", "e", "plus+sign",
                                                      "sp ace"]
    assert rolled["KeyCount"] == 9
    # A prefix narrows; pages of 3 continue with tokens until IsTruncated is false
    pages, token = [], None
    while True:
        extra = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, Prefix="a/", MaxKeys=3, **extra)
        pages.append(page)
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert [page["KeyCount"] for page in pages] == [3, 3, 3, 1]
    assert [o["Key"] for page in pages for o in page["Contents"]] == KEYS[:10]
    # StartAfter skips to the first key after it
    after = s3.list_objects_v2(Bucket=bucket, Prefix="a/", StartAfter="a/07")
    assert [o["Key"] for o in after["Contents"]] == ["a/08", "a/09"]


def test_paginators_over_small_pages_match_one_big_page(s3: Any, listed_bucket: str) -> None:
    for operation in ("list_objects_v2", "list_objects"):
        # Given pages of 2 with a delimiter
        paginator = s3.get_paginator(operation)
        pages = list(paginator.paginate(Bucket=listed_bucket, Delimiter="/",
                                        PaginationConfig={"PageSize": 2}))
        # Then together they list what one page does, nothing twice
        whole = getattr(s3, operation)(Bucket=listed_bucket, Delimiter="/")
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        prefixes = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
        assert keys == [o["Key"] for o in whole["Contents"]]
        assert prefixes == [p["Prefix"] for p in whole["CommonPrefixes"]]
        assert len(pages) == 5


def test_list_objects_v1_marker(s3: Any, listed_bucket: str) -> None:
    page = s3.list_objects(Bucket=listed_bucket, Prefix="b/", MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == ["b/0", "b/1"] and page["IsTruncated"]
    rest = s3.list_objects(Bucket=listed_bucket, Prefix="b/", Marker=page["NextMarker"])
    assert [o["Key"] for o in rest["Contents"]] == ["b/2", "b/3", "b/4"]
    assert not rest["IsTruncated"]


def test_objects_over_the_size_limit_are_refused(ripple: Ripple, new_bucket: NewBucket) -> None:
    # Given a PUT that declares one byte over the single-PUT limit (5 GB)
    bucket = new_bucket()
    too_big = str(MAX_OBJECT_SIZE + 1)
    # When it is sent (its body never comes)
    answer = signed(ripple, "PUT", f"/{bucket}/big", headers={
        "x-amz-decoded-content-length": too_big, "content-encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"})
    # Then S3 answers EntityTooLarge at once and stores nothing
    assert answer.status_code == 400
    assert "<Code>EntityTooLarge</Code>" in answer.text
    assert f"<ProposedSize>{too_big}</ProposedSize>" in answer.text


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_checksums_are_checked_echoed_and_returned_on_request(s3: Any, new_bucket: NewBucket,
                                                              algorithm: str) -> None:
    # Given an object put with an additional checksum (computed by botocore, or given)
    bucket = new_bucket()
    if algorithm == "CRC64NVME":  # S3 takes it as given (ripple computes no CRC64NVME)
        given = {f"Checksum{algorithm}": base64.b64encode(bytes(range(1, 9))).decode()}
    elif algorithm == "CRC32C":  # botocore computes it only with awscrt
        value = crc32c.crc32c(b"checked").to_bytes(4, "big")
        given = {f"Checksum{algorithm}": base64.b64encode(value).decode()}
    else:
        given = {"ChecksumAlgorithm": algorithm}
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"checked", **given)
    # Then it is echoed, and returned by GET and HEAD with checksum mode ENABLED
    assert put[f"Checksum{algorithm}"]
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == put[f"Checksum{algorithm}"]
    assert got["ChecksumType"] == "FULL_OBJECT" and got["Body"].read() == b"checked"
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == put[f"Checksum{algorithm}"]


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_a_wrong_additional_checksum_is_bad_digest(s3: Any, new_bucket: NewBucket,
                                                   algorithm: str) -> None:
    # Given a checksum of other bytes
    bucket = new_bucket()
    wrong = {"CRC32": zlib.crc32(b"other").to_bytes(4, "big"),
             "CRC32C": crc32c.crc32c(b"other").to_bytes(4, "big"),
             "SHA1": hashlib.sha1(b"other").digest(),
             "SHA256": hashlib.sha256(b"other").digest()}[algorithm]
    # When an object is put with it
    error = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                     **{f"Checksum{algorithm}": base64.b64encode(wrong).decode()})
    # Then S3 answers BadDigest and stores nothing
    assert (error["Code"], error["status"]) == ("BadDigest", 400)
    assert algorithm in error["Message"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_wrong_digests_are_refused(s3: Any, new_bucket: NewBucket) -> None:
    bucket = new_bucket()
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    assert error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                    ContentMD5=wrong_md5)["Code"] == "BadDigest"
    wrong_crc = base64.b64encode((zlib.crc32(b"other")).to_bytes(4, "big")).decode()
    assert error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                    ChecksumCRC32=wrong_crc)["Code"] == "BadDigest"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def aws_chunked(payload: bytes, sizes: list[int], signed_chunks: bool,
                trailer: str = "") -> bytes:
    """Frame a payload as aws-chunked, with chunk signatures or a trailing checksum."""
    chunks, position = [], 0
    for size in [*sizes, 0]:
        data = payload[position:position + size]
        position += size
        signature = ";chunk-signature=" + "0" * 64 if signed_chunks else ""
        chunks.append(f"{len(data):x}{signature}\r\n".encode() + data
                      + (b"\r\n" if data else b""))
    return b"".join(chunks) + (trailer.encode() + b"\r\n" if trailer else b"") + b"\r\n"


def test_aws_chunked_bodies_are_decoded(ripple: Ripple, s3: Any, new_bucket: NewBucket) -> None:
    bucket = new_bucket()
    payload = os.urandom(20_000)
    # Given a signed-chunks upload (as the Java and Go SDKs send) with a content encoding
    signed_body = aws_chunked(payload, [8192, 8192, 3616], signed_chunks=True)
    answer = signed(ripple, "PUT", f"/{bucket}/signed", body=signed_body, headers={
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked,gzip",
        "x-amz-decoded-content-length": str(len(payload))})
    assert answer.status_code == 200, answer.text
    # And an unsigned upload with a trailing CRC32 checksum
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    unsigned_body = aws_chunked(payload, [16384, 3616], signed_chunks=False,
                                trailer=f"x-amz-checksum-crc32:{crc}")
    trailing = signed(ripple, "PUT", f"/{bucket}/trailing", body=unsigned_body, headers={
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "content-encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
        "x-amz-decoded-content-length": str(len(payload))})
    # Then both store the payload alone; the checksum is echoed; the framing is not kept
    assert trailing.status_code == 200 and trailing.headers["x-amz-checksum-crc32"] == crc
    assert trailing.headers["etag"] == f'"{hashlib.md5(payload).hexdigest()}"'
    first = s3.get_object(Bucket=bucket, Key="signed")
    assert first["Body"].read() == payload and first["ContentEncoding"] == "gzip"
    second = s3.get_object(Bucket=bucket, Key="trailing")
    assert second["Body"].read() == payload and "ContentEncoding" not in second
    # And a body shorter than its declared decoded length is IncompleteBody
    short = signed(ripple, "PUT", f"/{bucket}/short", body=signed_body, headers={
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked", "x-amz-decoded-content-length": "30000"})
    assert short.status_code == 400 and b"<Code>IncompleteBody</Code>" in short.content


def test_virtual_hosted_addressing(ripple: Ripple, s3: Any, new_bucket: NewBucket) -> None:
    # Given a bucket addressed by host name, as virtual-hosted clients do
    bucket = new_bucket()
    port = urlsplit(ripple.url).port
    put = signed(ripple, "PUT", "/v/h.txt", body=b"hosted", host=f"{bucket}.localhost:{port}")
    assert put.status_code == 200, put.text
    # Then path-style sees the object, and so does the `bucket.s3.localhost` style
    assert s3.get_object(Bucket=bucket, Key="v/h.txt")["Body"].read() == b"hosted"
    got = signed(ripple, "GET", "/v/h.txt", host=f"{bucket}.s3.localhost:{port}")
    assert got.content == b"hosted"
    listed = signed(ripple, "GET", "/?list-type=2", host=f"{bucket}.s3.localhost:{port}")
    assert b"<Key>v/h.txt</Key>" in listed.content


def test_presigned_urls(ripple: Ripple, new_bucket: NewBucket) -> None:
    # Given SigV4 presigned URLs (SigV2 ones carry no credential scope to route them by)
    s3 = s3_client(ripple, signature_version="s3v4")
    bucket = new_bucket()
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p"},
                                        ExpiresIn=60)
    assert httpx.put(put_url, content=b"presigned").status_code == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"},
                                        ExpiresIn=60)
    # Then a plain HTTP client uploads and downloads with them
    assert "X-Amz-Credential=" in get_url
    assert httpx.get(get_url).content == b"presigned"


def test_error_documents_and_request_ids(ripple: Ripple) -> None:
    # Given a request for a bucket that does not exist
    answer = signed(ripple, "GET", "/no-such-bucket-here/some/key")
    # Then S3's error document names the code, the bucket, the resource and the request id
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/xml"
    error = ElementTree.fromstring(answer.content)
    fields = {child.tag: child.text for child in error}
    assert fields["Code"] == "NoSuchBucket"
    assert fields["Message"] == "The specified bucket does not exist"
    assert fields["BucketName"] == "no-such-bucket-here"
    assert fields["Resource"] == "/no-such-bucket-here/some/key"
    assert fields["RequestId"] == answer.headers["x-amz-request-id"]
    assert answer.headers["x-amz-id-2"]


def test_unsupported_operations_and_methods(ripple: Ripple, s3: Any,
                                            new_bucket: NewBucket) -> None:
    bucket = new_bucket()
    lifecycle = error_of(s3.get_bucket_lifecycle_configuration, Bucket=bucket)
    assert (lifecycle["Code"], lifecycle["status"]) == ("NotImplemented", 501)
    policy = error_of(s3.put_object_acl, Bucket=bucket, Key="k", AccessControlPolicy={
        "Owner": {"ID": "x"}, "Grants": []})
    assert (policy["Code"], policy["status"]) == ("NotImplemented", 501)
    patch = signed(ripple, "PATCH", f"/{bucket}/k")
    assert patch.status_code == 405 and b"<Code>MethodNotAllowed</Code>" in patch.content


def test_notification_configuration_round_trips(ripple: Ripple, s3: Any,
                                                new_bucket: NewBucket) -> None:
    # Given a configuration with two Lambda rules, one filtered
    bucket = new_bucket()
    arn = "arn:aws:lambda:us-east-1:000000000000:function:"
    configuration = {"LambdaFunctionConfigurations": [
        {"Id": "images", "LambdaFunctionArn": arn + "resize",
         "Events": ["s3:ObjectCreated:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "images/"},
                                            {"Name": "suffix", "Value": ".jpg"}]}}},
        {"Id": "removals", "LambdaFunctionArn": arn + "audit",
         "Events": ["s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated"]}]}
    # When it is put and read back
    s3.put_bucket_notification_configuration(Bucket=bucket,
                                             NotificationConfiguration=configuration)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    # Then it is what was put
    assert got["LambdaFunctionConfigurations"] == configuration["LambdaFunctionConfigurations"]
    # And a malformed or invalid configuration is refused and changes nothing
    malformed = signed(ripple, "PUT", f"/{bucket}?notification", body=b"<Notification")
    assert malformed.status_code == 400 and b"<Code>MalformedXML</Code>" in malformed.content
    invalid = error_of(s3.put_bucket_notification_configuration, Bucket=bucket,
                       NotificationConfiguration={"LambdaFunctionConfigurations": [
                           {"LambdaFunctionArn": arn + "x", "Events": ["s3:Nothing:*"]}]})
    assert (invalid["Code"], invalid["status"]) == ("InvalidArgument", 400)
    again = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert again["LambdaFunctionConfigurations"] == configuration["LambdaFunctionConfigurations"]
    # And an empty configuration removes every rule; a missing Id is assigned
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(
        Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn + "x",
                                          "Events": ["s3:ObjectCreated:Put"]}]})
    rules = s3.get_bucket_notification_configuration(Bucket=bucket)[
        "LambdaFunctionConfigurations"]
    assert len(rules) == 1 and rules[0]["Id"]


def test_the_aws_cli(ripple: Ripple, tmp_path: Path) -> None:
    # Given the AWS CLI (the dev extras install it next to this Python) pointed at ripple
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(200_000))

    def aws(*args: str) -> str:
        done = subprocess.run(["aws", "--endpoint-url", ripple.url, "s3", *args], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    # When it makes a bucket, uploads, lists and downloads
    aws("mb", f"s3://{bucket}")
    aws("cp", str(source), f"s3://{bucket}/dir/source.bin")
    listing = aws("ls", f"s3://{bucket}/dir/")
    aws("cp", f"s3://{bucket}/dir/source.bin", str(tmp_path / "copy.bin"))
    # Then the object comes back as it went
    assert "200000 source.bin" in listing
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()
    aws("rm", "--recursive", f"s3://{bucket}")
    aws("rb", f"s3://{bucket}")
