"""S3 event notifications to Lambda, end to end: boto3 writes → the bucket's rules (from
deployed functions' `s3:` triggers and from PutBucketNotificationConfiguration) → one async
invocation per matching rule → the handler gets AWS's S3 event."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import S3Model
from botocore.config import Config

from tests.conftest import ROOT, Deploy, Ripple, wait_for

RECORDER = """
import json
def handler(event, context):
    print("EVENT " + json.dumps(event))
"""
# Reads each created object and writes it, upper-cased, to TARGET: a chain through data.
FORWARDER = """
import os
from urllib.parse import unquote_plus
import boto3
s3 = boto3.client("s3")
def handler(event, context):
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=record["s3"]["bucket"]["name"], Key=key)["Body"].read()
        s3.put_object(Bucket=os.environ["TARGET"], Key="from-" + key, Body=body.upper())
        print("FORWARDED " + key)
"""
# Writes the next object under the prefix that triggers it: a loop through S3.
LOOPER = """
from urllib.parse import unquote_plus
import boto3
s3 = boto3.client("s3")
def handler(event, context):
    record = event["Records"][0]
    n = int(unquote_plus(record["s3"]["object"]["key"]).split("/")[1])
    print(f"LOOP {n}")
    s3.put_object(Bucket=record["s3"]["bucket"]["name"], Key=f"loop/{n + 1}", Body=b"again")
"""
# Long enough for a cold start that imports boto3 on a busy 2-core machine.
TIMEOUT = 30
QUIET_SECONDS = 2.0


@pytest.fixture
def s3(ripple: Ripple) -> Any:
    return boto3.client("s3", endpoint_url=ripple.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def new_bucket(s3: Any, label: str = "b") -> str:
    name = f"{label}-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def events(ripple: Ripple, name: str) -> list[dict[str, Any]]:
    """The events a RECORDER function received, oldest first."""
    return [json.loads(line) for line in re.findall(r"^EVENT (.*)$", ripple.logs(name), re.M)]


def records(ripple: Ripple, name: str) -> list[dict[str, Any]]:
    found = events(ripple, name)
    assert all(len(event["Records"]) == 1 for event in found)  # one record per event
    return [event["Records"][0] for event in found]


def rule_ids(s3: Any, bucket: str) -> list[str]:
    configuration = s3.get_bucket_notification_configuration(Bucket=bucket)
    return [rule["Id"] for rule in configuration.get("LambdaFunctionConfigurations", [])]


def test_a_matching_put_invokes_the_function_once(ripple: Ripple, deploy: Deploy,
                                                  s3: Any) -> None:
    # Given a function triggered by created .jpg objects under images/ in a bucket
    bucket, other = new_bucket(s3), new_bucket(s3)
    name = deploy(RECORDER, resources={"buckets": [bucket, other]}, events=[{"s3": {
        "bucket": bucket, "events": ["s3:ObjectCreated:*"], "prefix": "images/",
        "suffix": ".jpg"}}])
    assert rule_ids(s3, bucket) == [f"ripple-{name}-1"]
    # When objects that miss the filter are put (prefix, suffix, case, another bucket)
    for target, key in ((bucket, "docs/a.jpg"), (bucket, "images/a.png"),
                        (bucket, "IMAGES/a.jpg"), (other, "images/a.jpg")):
        s3.put_object(Bucket=target, Key=key, Body=b"miss")
    # And then one that matches
    s3.put_object(Bucket=bucket, Key="images/my cat.jpg", Body=b"meow")
    # Then the function is invoked exactly once, with S3's event for that put
    wait_for(lambda: events(ripple, name), timeout=60)
    time.sleep(QUIET_SECONDS)
    assert ripple.counters(name)["invocations"] == 1
    (record,) = records(ripple, name)
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventSource"] == "aws:s3" and record["eventVersion"] == "2.1"
    assert record["awsRegion"] == "us-east-1"
    assert record["s3"]["configurationId"] == f"ripple-{name}-1"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert record["s3"]["object"]["key"] == "images/my+cat.jpg"
    assert record["s3"]["object"]["size"] == 4
    assert record["s3"]["object"]["eTag"] == hashlib.md5(b"meow").hexdigest()
    assert re.fullmatch(r"[0-9A-F]{18}", record["s3"]["object"]["sequencer"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["eventTime"])
    assert record["requestParameters"]["sourceIPAddress"] == "127.0.0.1"
    S3Model.model_validate({"Records": [record]})


def test_api_rules_cover_copies_and_deletes_of_existing_keys(ripple: Ripple, deploy: Deploy,
                                                             s3: Any) -> None:
    # Given rules put through the API: copies by ARN, every removal by plain name
    bucket = new_bucket(s3)
    name = deploy(RECORDER)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            {"Id": "copies", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:Copy"]},
            {"Id": "removals", "LambdaFunctionArn": name, "Events": ["s3:ObjectRemoved:*"]}]})
    # When an object is put (not a copy), copied, deleted; a missing key is deleted; and
    # a batch deletes the copy and a key that never existed
    s3.put_object(Bucket=bucket, Key="one", Body=b"1")
    s3.copy_object(Bucket=bucket, Key="two", CopySource={"Bucket": bucket, "Key": "one"})
    s3.delete_object(Bucket=bucket, Key="one")
    s3.delete_object(Bucket=bucket, Key="never")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "two"}, {"Key": "ghost"}]})
    # Then there is one event per copy and per removal of an existing key
    wait_for(lambda: len(events(ripple, name)) >= 3, timeout=60)
    time.sleep(QUIET_SECONDS)
    assert ripple.counters(name)["invocations"] == 3
    found = sorted(records(ripple, name), key=lambda r: r["s3"]["object"]["sequencer"])
    assert [(r["eventName"], r["s3"]["object"]["key"], r["s3"]["configurationId"])
            for r in found] == [("ObjectCreated:Copy", "two", "copies"),
                                ("ObjectRemoved:Delete", "one", "removals"),
                                ("ObjectRemoved:Delete", "two", "removals")]
    # And removals carry no size or eTag
    assert found[0]["s3"]["object"]["size"] == 1
    assert all(set(r["s3"]["object"]) == {"key", "sequencer"} for r in found[1:])
    S3Model.model_validate({"Records": found})


def test_multipart_completes_and_large_copies_notify(ripple: Ripple, deploy: Deploy,
                                                    s3: Any) -> None:
    # Given a rule for every created object in a versioned bucket
    bucket = new_bucket(s3)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    name = deploy(RECORDER)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"Id": "created", "LambdaFunctionArn": name,
                                          "Events": ["s3:ObjectCreated:*"]}]})
    # When a multipart upload completes, and its object is copied
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="joined")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="joined", UploadId=upload_id, PartNumber=n,
                            Body=body)["ETag"]
             for n, body in ((1, b"a" * 5 * 1024 * 1024), (2, b"end"))]
    done = s3.complete_multipart_upload(Bucket=bucket, Key="joined", UploadId=upload_id,
                                        MultipartUpload={"Parts": [
                                            {"PartNumber": n, "ETag": etag}
                                            for n, etag in enumerate(etags, start=1)]})
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/joined")
    # Then one event each, with the object's size, multipart eTag and version id
    wait_for(lambda: len(events(ripple, name)) >= 2, timeout=60)
    time.sleep(QUIET_SECONDS)
    found = sorted(records(ripple, name), key=lambda r: r["s3"]["object"]["sequencer"])
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in found] == [
        ("ObjectCreated:CompleteMultipartUpload", "joined"), ("ObjectCreated:Copy", "copy")]
    assert found[0]["s3"]["object"]["size"] == 5 * 1024 * 1024 + 3
    assert found[0]["s3"]["object"]["eTag"] == done["ETag"].strip('"')
    assert found[0]["s3"]["object"]["versionId"] == done["VersionId"]
    assert found[1]["s3"]["object"]["versionId"] == copied["VersionId"]
    S3Model.model_validate({"Records": found})


def test_redeploying_replaces_only_the_functions_own_rules(ripple: Ripple, deploy: Deploy,
                                                           s3: Any) -> None:
    # Given a bucket with a rule of its own, naming a function that does not exist
    bucket = new_bucket(s3)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"Id": "mine", "LambdaFunctionArn": "absent-fn",
                                          "Events": ["s3:ObjectCreated:*"]}]})
    # And a function deployed with a trigger on a/, then redeployed with two others
    name = f"fn-{uuid.uuid4().hex[:8]}"
    buckets = {"buckets": [bucket]}
    deploy(RECORDER, name=name, resources=buckets,
           events=[{"s3": {"bucket": bucket, "prefix": "a/"}}])
    assert rule_ids(s3, bucket) == ["mine", f"ripple-{name}-1"]
    deploy(RECORDER, name=name, resources=buckets, events=[
        {"s3": {"bucket": bucket, "prefix": "b/"}},
        {"s3": {"bucket": bucket, "events": ["s3:ObjectRemoved:*"], "suffix": ".txt"}}])
    # Then the bucket's own rule stays and the function's rules are the new ones
    assert rule_ids(s3, bucket) == ["mine", f"ripple-{name}-1", f"ripple-{name}-2"]
    rules = s3.get_bucket_notification_configuration(Bucket=bucket)[
        "LambdaFunctionConfigurations"]
    assert rules[1]["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "b/"}]
    # When objects are put under the old and the new prefix
    s3.put_object(Bucket=bucket, Key="a/old", Body=b"x")
    s3.put_object(Bucket=bucket, Key="b/new", Body=b"x")
    # Then only the new trigger fires, and the rule naming no function is skipped
    wait_for(lambda: events(ripple, name), timeout=60)
    time.sleep(QUIET_SECONDS)
    assert [r["s3"]["object"]["key"] for r in records(ripple, name)] == ["b/new"]
    skipped = f"S3 notification mine of bucket {bucket} names function absent-fn"
    assert skipped in ripple.log.read_text()


def test_a_handlers_own_put_triggers_the_next_function(ripple: Ripple, deploy: Deploy,
                                                       s3: Any) -> None:
    # Given a forwarder from an inbox bucket to an outbox bucket, whose puts trigger a recorder
    inbox, outbox = new_bucket(s3, "inbox"), new_bucket(s3, "outbox")
    buckets = {"buckets": [inbox, outbox]}
    recorder = deploy(RECORDER, resources=buckets, events=[{"s3": {"bucket": outbox}}])
    forwarder = deploy(FORWARDER, resources=buckets, timeout=TIMEOUT,
                       environment={"TARGET": outbox}, events=[{"s3": {"bucket": inbox}}])
    # When an object is put into the inbox
    s3.put_object(Bucket=inbox, Key="hello.txt", Body=b"hello")
    # Then the forwarder's boto3 put (through AWS_ENDPOINT_URL) reaches the recorder
    (record,) = wait_for(lambda: records(ripple, recorder), timeout=90)
    assert record["s3"]["object"]["key"] == "from-hello.txt"
    assert record["s3"]["bucket"]["name"] == outbox
    assert "FORWARDED hello.txt" in ripple.logs(forwarder)
    assert s3.get_object(Bucket=outbox, Key="from-hello.txt")["Body"].read() == b"HELLO"


def test_the_backup_example_copies_every_upload(ripple: Ripple, deploy: Deploy,
                                                s3: Any) -> None:
    # Given the example backup function on an uploads bucket
    uploads, backup = new_bucket(s3, "uploads"), new_bucket(s3, "backup")
    source = (ROOT / "examples" / "functions" / "backup" / "app.py").read_text()
    name = deploy(source, resources={"buckets": [uploads, backup]}, timeout=TIMEOUT,
                  environment={"BACKUP_BUCKET": backup},
                  events=[{"s3": {"bucket": uploads, "events": ["s3:ObjectCreated:*"]}}])
    # When objects are uploaded, one with a key that events URL-encode
    uploaded = {"a.txt": b"first", "photos/summer 2024+.jpg": b"\xff\xd8jpeg",
                "nested/deep/c.bin": bytes(range(256))}
    for key, body in uploaded.items():
        s3.put_object(Bucket=uploads, Key=key, Body=body, Metadata={"origin": "test"})

    # Then each is copied into the backup bucket, body and metadata included
    def backed_up() -> list[str]:
        return [o["Key"] for o in s3.list_objects_v2(Bucket=backup).get("Contents", [])]

    wait_for(lambda: len(backed_up()) == len(uploaded), timeout=90)
    assert sorted(backed_up()) == sorted(uploaded)
    for key, body in uploaded.items():
        copy = s3.get_object(Bucket=backup, Key=key)
        assert copy["Body"].read() == body and copy["Metadata"] == {"origin": "test"}
    assert ripple.counters(name)["invocations"] == len(uploaded)
    assert ripple.counters(name)["errors"] == 0


def test_a_loop_through_s3_is_stopped_at_16(ripple: Ripple, deploy: Deploy, s3: Any) -> None:
    # Given a function that puts the next object under the prefix that triggers it
    bucket = new_bucket(s3)
    name = deploy(LOOPER, resources={"buckets": [bucket]}, timeout=TIMEOUT,
                  events=[{"s3": {"bucket": bucket, "prefix": "loop/"}}])
    # When the first object starts the loop
    s3.put_object(Bucket=bucket, Key="loop/1", Body=b"start")
    # Then Lambda's recursion limit stops the 17th invocation, and the logs say so
    wait_for(lambda: ripple.counters(name)["recursion_stopped"] == 1, timeout=120)
    time.sleep(0.5)
    assert ripple.counters(name)["invocations"] == 16
    logs = ripple.logs(name)
    assert "LOOP 16" in logs and "LOOP 17" not in logs
    assert "Lambda stopped a recursive invocation" in logs

