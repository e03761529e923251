"""What S3 keeps beside an object or bucket, through boto3: tags, canned ACLs, storage classes,
metadata from presigned URLs, and ListBuckets pages."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Ripple
from tests.orchestrator.services.test_s3 import error_of, signed

OWNER_ONLY = ["FULL_CONTROL"]


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"a-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def test_object_tagging(s3: Any, bucket: str) -> None:
    # Given an object put with tags
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="team=data&stage=raw")
    # Then they are its tag set, counted on GET
    tags = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "data", "stage": "raw"}
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 2
    # When they are replaced, then deleted
    s3.put_object_tagging(Bucket=bucket, Key="k",
                          Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [
        {"Key": "only", "Value": "one"}]
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    # And S3's errors: too many tags, a missing key
    eleven = [{"Key": f"k{n}", "Value": "v"} for n in range(11)]
    assert error_of(s3.put_object_tagging, Bucket=bucket, Key="k",
                    Tagging={"TagSet": eleven})["Code"] == "BadRequest"
    assert error_of(s3.get_object_tagging, Bucket=bucket, Key="none")["Code"] == "NoSuchKey"


def test_bucket_tagging(s3: Any, bucket: str) -> None:
    missing = error_of(s3.get_bucket_tagging, Bucket=bucket)
    assert (missing["Code"], missing["status"]) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "cost", "Value": "1"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "cost", "Value": "1"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    assert error_of(s3.get_bucket_tagging, Bucket=bucket)["Code"] == "NoSuchTagSet"


def grants(policy: dict[str, Any]) -> list[tuple[str, str]]:
    return [(g["Grantee"]["Type"], g["Permission"]) for g in policy["Grants"]]


def test_canned_acls_are_kept_and_answered_in_aws_shape(s3: Any, bucket: str) -> None:
    # Given a private object and a public-read one
    s3.put_object(Bucket=bucket, Key="private", Body=b"x")
    s3.put_object(Bucket=bucket, Key="public", Body=b"x", ACL="public-read")
    # Then their ACLs are the owner's FULL_CONTROL, plus AllUsers READ for the public one
    private = s3.get_object_acl(Bucket=bucket, Key="private")
    assert grants(private) == [("CanonicalUser", "FULL_CONTROL")]
    assert private["Owner"]["ID"] == private["Grants"][0]["Grantee"]["ID"]
    public = s3.get_object_acl(Bucket=bucket, Key="public")
    assert grants(public) == [("CanonicalUser", "FULL_CONTROL"), ("Group", "READ")]
    assert public["Grants"][1]["Grantee"]["URI"].endswith("/global/AllUsers")
    # And a bucket's ACL changes with PutBucketAcl
    assert grants(s3.get_bucket_acl(Bucket=bucket)) == [("CanonicalUser", "FULL_CONTROL")]
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert grants(s3.get_bucket_acl(Bucket=bucket))[1:] == [("Group", "READ"),
                                                            ("Group", "WRITE")]
    s3.put_object_acl(Bucket=bucket, Key="public", ACL="private")
    assert grants(s3.get_object_acl(Bucket=bucket, Key="public")) == [
        ("CanonicalUser", "FULL_CONTROL")]
    # And an unknown canned ACL is InvalidArgument
    bad = error_of(s3.put_object_acl, Bucket=bucket, Key="public", ACL="everyone")
    assert (bad["Code"], bad["status"]) == ("InvalidArgument", 400)


def test_storage_class_is_kept_and_listed(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="GLACIER_IR")
    s3.put_object(Bucket=bucket, Key="warm", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="cold")["StorageClass"] == "GLACIER_IR"
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="warm")
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"cold": "GLACIER_IR", "warm": "STANDARD"}
    bad = error_of(s3.put_object, Bucket=bucket, Key="k", Body=b"x", StorageClass="FROZEN")
    assert bad["Code"] == "InvalidStorageClass"


def test_presigned_put_keeps_its_metadata(s3: Any, bucket: str) -> None:
    # Given a presigned PUT signed with metadata, a content type and a storage class
    url = s3.generate_presigned_url("put_object", Params={
        "Bucket": bucket, "Key": "presigned", "Metadata": {"owner": "alice"},
        "StorageClass": "STANDARD_IA"})
    # When a plain HTTP client uploads through it
    answer = httpx.put(url, content=b"via url")
    # Then the object has the signed metadata
    assert answer.status_code == 200, answer.text
    head = s3.head_object(Bucket=bucket, Key="presigned")
    assert head["Metadata"] == {"owner": "alice"}
    assert head["StorageClass"] == "STANDARD_IA"


def test_list_buckets_pages(ripple: Ripple, s3: Any) -> None:
    # Given three buckets under one prefix
    prefix = f"p{uuid.uuid4().hex[:8]}-"
    names = [f"{prefix}{n}" for n in range(3)]
    for name in names:
        s3.create_bucket(Bucket=name)
    # When they are listed one at a time
    seen, token = [], None
    while True:
        page = s3.list_buckets(MaxBuckets=1, Prefix=prefix,
                               **({"ContinuationToken": token} if token else {}))
        seen += [bucket["Name"] for bucket in page["Buckets"]]
        assert len(page["Buckets"]) <= 1
        token = page.get("ContinuationToken")
        if not token:
            break
    # Then each comes once, in order
    assert seen == names
    # And a page size out of 1..10000 is InvalidArgument
    refused = signed(ripple, "GET", "/?max-buckets=0")
    assert refused.status_code == 400 and "<Code>InvalidArgument</Code>" in refused.text
