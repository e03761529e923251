"""Multipart upload and large objects through the AWS CLI and boto3: bodies stream to files under
the data dir, so the endpoint's memory stays flat whatever the object's size."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import threading
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest

from orchestrator.process.chaos import processes
from tests.conftest import ROOT, Ripple
from tests.orchestrator.services.test_s3 import NewBucket, error_of

MB = 1024 * 1024
# `aws s3 cp` of this many bytes up and back (200 MB by hand: RIPPLE_TEST_CP_MB=200).
CP_SIZE = int(os.environ.get("RIPPLE_TEST_CP_MB", "40" if os.environ.get("CI") else "200")) * MB
MEMORY_LIMIT = 200 * MB
PART = 5 * MB


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


def test_aws_cli_copies_a_big_file_up_and_back_in_flat_memory(ripple: Ripple,
                                                                tmp_path: Path) -> None:
    # Given a big file and the AWS CLI pointed at ripple
    source = tmp_path / "big.bin"
    with source.open("wb") as file:
        for _ in range(CP_SIZE // MB):
            file.write(os.urandom(MB))
    bucket = f"big-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}
    aws_cli = str(Path(sys.executable).parent / "aws")
    endpoint = processes(ripple.data_dir, "endpoint")[0]
    peak = {"rss": endpoint.memory_info().rss}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak["rss"] = max(peak["rss"], endpoint.memory_info().rss)
            time.sleep(0.05)

    def aws(*args: str) -> None:
        ran = subprocess.run([aws_cli, "--endpoint-url", ripple.url, "s3", *args], env=env,
                             capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert ran.returncode == 0, ran.stderr

    aws("mb", f"s3://{bucket}")
    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    try:
        # When it is copied up (multipart) and back down
        aws("cp", str(source), f"s3://{bucket}/big.bin")
        uploaded = time.monotonic()
        aws("cp", f"s3://{bucket}/big.bin", str(tmp_path / "back.bin"))
        downloaded = time.monotonic()
    finally:
        done.set()
        sampler.join()
    print(f"\naws s3 cp {CP_SIZE // MB} MB: up {uploaded - started:.1f} s, down "
          f"{downloaded - uploaded:.1f} s; endpoint peak RSS {peak['rss'] / MB:.0f} MB")
    # Then the bytes come back identical, and the endpoint's memory stayed under 200 MB
    assert sha256_of(tmp_path / "back.bin") == sha256_of(source)
    assert peak["rss"] < MEMORY_LIMIT
    # And the object is a file under the data dir, not a value in Redis
    assert any(path.stat().st_size == CP_SIZE
               for path in (ripple.data_dir / "s3" / "objects").iterdir())
    aws("rm", f"s3://{bucket}/big.bin")


def test_multipart_upload_lifecycle(s3: Any, new_bucket: NewBucket) -> None:
    # Given an upload with a CRC32 checksum per part
    bucket = new_bucket()
    created = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/plain",
                                         Metadata={"origin": "test"}, ChecksumAlgorithm="CRC32",
                                         StorageClass="STANDARD_IA")
    upload_id = created["UploadId"]
    bodies = [os.urandom(PART), os.urandom(PART), b"tail"]
    # When its parts are sent out of order and listed
    etags = {}
    for number in (2, 1, 3):
        sent = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=number,
                              Body=bodies[number - 1], ChecksumAlgorithm="CRC32")
        etags[number] = sent["ETag"]
        assert sent["ETag"] == f'"{hashlib.md5(bodies[number - 1]).hexdigest()}"'
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert [part["PartNumber"] for part in listed["Parts"]] == [1, 2, 3]
    assert [part["Size"] for part in listed["Parts"]] == [PART, PART, 4]
    assert listed["StorageClass"] == "STANDARD_IA"
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("mp", upload_id)]
    # And completed
    crcs = {number: s3_crc(body) for number, body in enumerate(bodies, start=1)}
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n], "ChecksumCRC32": crcs[n]}
                                   for n in (1, 2, 3)]})
    # Then the object is the parts joined, with S3's multipart ETag and composite checksum
    joined = b"".join(bytes.fromhex(etags[n].strip('"')) for n in (1, 2, 3))
    assert done["ETag"] == f'"{hashlib.md5(joined).hexdigest()}-3"'
    composite = zlib.crc32(b"".join(base64.b64decode(crcs[n]) for n in (1, 2, 3)))
    assert done["ChecksumCRC32"] == base64.b64encode(composite.to_bytes(4, "big")).decode() + "-3"
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == b"".join(bodies)
    assert (got["ContentType"], got["Metadata"]) == ("text/plain", {"origin": "test"})
    assert got["StorageClass"] == "STANDARD_IA"
    ranged = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={PART - 2}-{PART + 1}")
    assert ranged["Body"].read() == bodies[0][-2:] + bodies[1][:2]
    # And the upload is gone
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    gone = error_of(s3.list_parts, Bucket=bucket, Key="mp", UploadId=upload_id)
    assert (gone["Code"], gone["status"]) == ("NoSuchUpload", 404)


def s3_crc(body: bytes) -> str:
    return base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


def test_multipart_errors(s3: Any, new_bucket: NewBucket) -> None:
    bucket = new_bucket()
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    small = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1,
                           Body=b"small")["ETag"]
    last = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=2,
                          Body=b"last")["ETag"]

    def complete(parts: list[dict[str, Any]]) -> dict[str, Any]:
        return error_of(s3.complete_multipart_upload, Bucket=bucket, Key="k",
                        UploadId=upload_id, MultipartUpload={"Parts": parts})

    # A part under 5 MB that is not the last: EntityTooSmall
    too_small = complete([{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}])
    assert (too_small["Code"], too_small["status"]) == ("EntityTooSmall", 400)
    # Parts out of order: InvalidPartOrder; a wrong ETag or a missing part: InvalidPart
    order = complete([{"PartNumber": 2, "ETag": last}, {"PartNumber": 1, "ETag": small}])
    assert order["Code"] == "InvalidPartOrder"
    assert complete([{"PartNumber": 1, "ETag": last}])["Code"] == "InvalidPart"
    assert complete([{"PartNumber": 7, "ETag": last}])["Code"] == "InvalidPart"
    # A part number out of range: InvalidArgument; an unknown upload: NoSuchUpload
    bad = error_of(s3.upload_part, Bucket=bucket, Key="k", UploadId=upload_id,
                   PartNumber=10_001, Body=b"x")
    assert bad["Code"] == "InvalidArgument"
    unknown = error_of(s3.upload_part, Bucket=bucket, Key="k", UploadId="nope", PartNumber=1,
                       Body=b"x")
    assert (unknown["Code"], unknown["status"]) == ("NoSuchUpload", 404)
    # Aborted, the upload is gone and nothing was created
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert complete([{"PartNumber": 2, "ETag": last}])["Code"] == "NoSuchUpload"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_upload_part_copy_takes_ranges_of_an_object(s3: Any,
                                                    new_bucket: NewBucket) -> None:
    # Given an object of 6 MB
    bucket = new_bucket()
    body = os.urandom(6 * MB)
    s3.put_object(Bucket=bucket, Key="source", Body=body)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="copy")["UploadId"]
    # When parts are copied from it: all of it, then a range
    first = s3.upload_part_copy(Bucket=bucket, Key="copy", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "source"})
    second = s3.upload_part_copy(Bucket=bucket, Key="copy", UploadId=upload_id, PartNumber=2,
                                 CopySource=f"{bucket}/source", CopySourceRange="bytes=10-19")
    s3.complete_multipart_upload(Bucket=bucket, Key="copy", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
                  {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]}]})
    # Then the object holds those bytes
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body + body[10:20]
    assert second["CopyPartResult"]["ETag"] == f'"{hashlib.md5(body[10:20]).hexdigest()}"'
    # And a bad range is InvalidArgument, a missing source NoSuchKey
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="copy2")["UploadId"]
    bad = error_of(s3.upload_part_copy, Bucket=bucket, Key="copy2", UploadId=upload_id,
                   PartNumber=1, CopySource=f"{bucket}/source", CopySourceRange="bytes=5-")
    assert bad["Code"] == "InvalidArgument"
    missing = error_of(s3.upload_part_copy, Bucket=bucket, Key="copy2", UploadId=upload_id,
                       PartNumber=1, CopySource=f"{bucket}/nothing")
    assert missing["Code"] == "NoSuchKey"


def test_large_objects_are_files_and_copies_share_them(ripple: Ripple, s3: Any,
                                                       new_bucket: NewBucket) -> None:
    # Given an object over the inline size, copied, then the original replaced
    bucket = new_bucket()
    body = os.urandom(2 * MB)
    s3.put_object(Bucket=bucket, Key="original", Body=body)
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/original")
    s3.put_object(Bucket=bucket, Key="original", Body=b"small now")
    # Then the copy still reads the first body, the original the new one
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body
    assert s3.get_object(Bucket=bucket, Key="original")["Body"].read() == b"small now"
    # And deleting the copy removes its file
    files = {path.name for path in (ripple.data_dir / "s3" / "objects").iterdir()}
    s3.delete_object(Bucket=bucket, Key="copy")
    after = {path.name for path in (ripple.data_dir / "s3" / "objects").iterdir()}
    assert len(files - after) == 1


@pytest.mark.parametrize("size", [0, 1, 256 * 1024, 256 * 1024 + 1, 3 * MB + 5])
def test_bodies_of_every_size_round_trip(s3: Any, new_bucket: NewBucket,
                                         size: int) -> None:
    bucket = new_bucket()
    body = os.urandom(size)
    s3.put_object(Bucket=bucket, Key="k", Body=body)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body
    assert s3.head_object(Bucket=bucket, Key="k")["ContentLength"] == size
