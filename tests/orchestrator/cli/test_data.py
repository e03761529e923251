"""`ripple s3 …` and `ripple ddb …` against a running ripple."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3

from tests.conftest import Ripple


def test_s3_make_put_list_get_remove(ripple: Ripple, tmp_path: Path) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    (tmp_path / "hello.txt").write_text("hello ripple")
    assert ripple.cli("s3", "mb", bucket).returncode == 0
    assert ripple.cli("s3", "put", bucket, "docs/hello.txt", str(tmp_path / "hello.txt"),
                      check=True).returncode == 0
    listing = json.loads(ripple.cli("s3", "ls", bucket, "--json", check=True).stdout)
    assert [item["key"] for item in listing] == ["docs/hello.txt"]
    assert ripple.cli("s3", "get", bucket, "docs/hello.txt", check=True).stdout == "hello ripple"
    ripple.cli("s3", "rm", bucket, "docs/hello.txt", check=True)
    assert json.loads(ripple.cli("s3", "ls", bucket, "--json", check=True).stdout) == []


def test_s3_errors_are_one_clear_line(ripple: Ripple) -> None:
    result = ripple.cli("s3", "get", "no-such-bucket-here", "key")
    assert result.returncode == 1 and "NoSuchBucket" in result.stderr


def test_ddb_plain_and_typed_json(ripple: Ripple) -> None:
    table = f"cli-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb", endpoint_url=ripple.url, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test").create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    ripple.cli("ddb", "put", table, '{"pk": "a", "n": 1.5, "tags": ["x", "y"]}', check=True)
    ripple.cli("ddb", "put", table, '{"pk": {"S": "b"}, "n": {"N": "2"}}', check=True)
    assert json.loads(ripple.cli("ddb", "get", table, '{"pk": "a"}', check=True).stdout) == {
        "pk": "a", "n": 1.5, "tags": ["x", "y"]}
    items = json.loads(ripple.cli("ddb", "scan", table, "--json", check=True).stdout)
    assert sorted(item["pk"] for item in items) == ["a", "b"]
    ripple.cli("ddb", "delete", table, '{"pk": "a"}', check=True)
    assert ripple.cli("ddb", "get", table, '{"pk": "a"}').returncode == 1
    bad = ripple.cli("ddb", "put", table, "{not json")
    assert bad.returncode == 2 and "not JSON" in bad.stderr
