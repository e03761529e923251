"""Bucket versioning through boto3: versions, delete markers, ListObjectVersions, suspension."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.orchestrator.services.test_s3 import error_of


@pytest.fixture
def versioned(s3: Any) -> str:
    name = f"v-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def test_versioning_status(s3: Any) -> None:
    # Given a new bucket: no status until versioning is first enabled
    name = f"v-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    bad = error_of(s3.put_bucket_versioning, Bucket=name,
                   VersioningConfiguration={"Status": "On"})
    assert (bad["Code"], bad["status"]) == ("IllegalVersioningConfigurationException", 400)


def test_every_put_is_a_version_and_delete_leaves_a_marker(s3: Any, versioned: str) -> None:
    # Given two puts of a key in a versioned bucket
    first = s3.put_object(Bucket=versioned, Key="k", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=versioned, Key="k", Body=b"two")["VersionId"]
    # Then each version reads by its id, and the latest by none
    assert first != second
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"two"
    old = s3.get_object(Bucket=versioned, Key="k", VersionId=first)
    assert (old["Body"].read(), old["VersionId"]) == (b"one", first)
    assert s3.head_object(Bucket=versioned, Key="k", VersionId=first)["ContentLength"] == 3
    # When the key is deleted
    deleted = s3.delete_object(Bucket=versioned, Key="k")
    marker = deleted["VersionId"]
    # Then a delete marker hides it (NoSuchKey), the versions remain
    assert deleted["DeleteMarker"] is True
    gone = error_of(s3.get_object, Bucket=versioned, Key="k")
    assert (gone["Code"], gone["status"]) == ("NoSuchKey", 404)
    assert s3.list_objects_v2(Bucket=versioned)["KeyCount"] == 0
    listed = s3.list_object_versions(Bucket=versioned)
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [
        (second, False), (first, False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker, True)]
    # And a marker read by id is MethodNotAllowed; an unknown version NoSuchVersion
    assert error_of(s3.get_object, Bucket=versioned, Key="k", VersionId=marker)["status"] == 405
    unknown = error_of(s3.get_object, Bucket=versioned, Key="k", VersionId="0abc")
    assert (unknown["Code"], unknown["status"]) == ("NoSuchVersion", 404)
    # When the marker itself is deleted, the newest version is current again
    s3.delete_object(Bucket=versioned, Key="k", VersionId=marker)
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"two"
    # And deleting the current version by id makes the previous one current
    s3.delete_object(Bucket=versioned, Key="k", VersionId=second)
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"one"
    # And a bucket with versions left cannot be deleted
    s3.delete_object(Bucket=versioned, Key="k", VersionId=first)
    assert "Versions" not in s3.list_object_versions(Bucket=versioned)
    s3.delete_bucket(Bucket=versioned)


def test_list_object_versions_pages(s3: Any, versioned: str) -> None:
    # Given three keys with two versions each
    for key in ("a", "b", "c"):
        for body in (b"1", b"2"):
            s3.put_object(Bucket=versioned, Key=key, Body=body)
    # When they are listed two at a time
    seen = []
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=versioned, PaginationConfig={"PageSize": 2})
    for page in pages:
        seen += [(v["Key"], v["IsLatest"]) for v in page.get("Versions", [])]
    # Then every version comes once, newest first within each key
    assert seen == [("a", True), ("a", False), ("b", True), ("b", False), ("c", True),
                    ("c", False)]


def test_suspended_versioning_overwrites_the_null_version(s3: Any, versioned: str) -> None:
    # Given a version made while enabled, then versioning suspended
    kept = s3.put_object(Bucket=versioned, Key="k", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=versioned,
                             VersioningConfiguration={"Status": "Suspended"})
    # When the key is put twice
    s3.put_object(Bucket=versioned, Key="k", Body=b"null 1")
    s3.put_object(Bucket=versioned, Key="k", Body=b"null 2")
    # Then there is one null version, the latest, beside the kept one
    versions = s3.list_object_versions(Bucket=versioned)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", True),
                                                                   (kept, False)]
    assert s3.get_object(Bucket=versioned, Key="k", VersionId="null")["Body"].read() == b"null 2"
