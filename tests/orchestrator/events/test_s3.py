"""The S3 event record builder against AWS's documented example events.

`s3_put.json` is the "Example Amazon S3 notification event" of the Lambda developer guide
(also Powertools' `s3Event.json`); `s3_delete.json` is the same event as a removal, which
carries no size or eTag.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from aws_lambda_powertools.utilities.parser.models import S3Model

from orchestrator.events.s3 import encode_key, event_time, s3_event, s3_record, sequencer

EVENTS = Path(__file__).resolve().parents[2] / "events"


def golden(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"s3_{name}.json").read_text())
    return event["Records"][0]  # type: ignore[no-any-return]


def build(expected: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The builder's record for a golden event, with the golden event's identity fields."""
    stored = expected["s3"]["object"]
    fields: dict[str, Any] = dict(
        event_name=expected["eventName"], bucket=expected["s3"]["bucket"]["name"],
        key=stored["key"], sequence=stored["sequencer"],
        configuration_id=expected["s3"]["configurationId"], region=expected["awsRegion"],
        request_id=expected["responseElements"]["x-amz-request-id"],
        host_id=expected["responseElements"]["x-amz-id-2"],
        size=stored.get("size"), etag=stored.get("eTag"),
        principal_id=expected["userIdentity"]["principalId"],
        owner_id=expected["s3"]["bucket"]["ownerIdentity"]["principalId"],
        source_ip=expected["requestParameters"]["sourceIPAddress"],
        created=datetime.fromisoformat(expected["eventTime"].replace("Z", "+00:00")).timestamp())
    return s3_record(**{**fields, **overrides})


@pytest.mark.parametrize("name", ["put", "delete"])
def test_the_record_matches_aws_example_field_for_field(name: str) -> None:
    # Given AWS's documented example of a put (or delete) notification
    expected = golden(name)
    # When the builder makes the record of the same event
    record = build(expected)
    # Then every field is the same, nested fields included, in the same order
    assert list(record) == list(expected)
    for field in expected:
        assert record[field] == expected[field], field
    assert json.dumps(record) == json.dumps(expected)


def test_the_event_a_handler_receives_holds_one_record() -> None:
    record = build(golden("put"))
    assert s3_event(record) == {"Records": [record]}


@pytest.mark.parametrize(("key", "encoded"), [
    ("photos/2024/cat.jpg", "photos/2024/cat.jpg"),
    ("my photo.jpg", "my+photo.jpg"),
    ("a+b=c&d.txt", "a%2Bb%3Dc%26d.txt"),
    ("dt=2024-01-01/part-0.parquet", "dt%3D2024-01-01/part-0.parquet"),
    ("résumé.pdf", "r%C3%A9sum%C3%A9.pdf"),
])
def test_keys_are_url_encoded_as_s3_does(key: str, encoded: str) -> None:
    # Given an object key with spaces, reserved or non-ASCII characters
    # When it is put in a record
    record = build(golden("put"), key=key)
    # Then it is URL-encoded with spaces as '+', and unquote_plus gives the key back
    assert record["s3"]["object"]["key"] == encoded == encode_key(key)
    assert unquote_plus(record["s3"]["object"]["key"]) == key


def test_times_have_milliseconds_and_sequencers_grow_as_strings() -> None:
    assert event_time(0) == "1970-01-01T00:00:00.000Z"
    assert event_time(1567539447.192) == "2019-09-03T19:37:27.192Z"
    sequencers = [sequencer(n) for n in (1, 9, 10, 255, 4096, 10**12)]
    assert all(len(value) == 18 for value in sequencers)
    assert sequencers == sorted(sequencers)
    assert int(sequencers[3], 16) == 255


def test_version_id_only_for_versioned_objects() -> None:
    # Given the same put on an unversioned and on a versioned bucket
    plain = build(golden("put"))
    versioned = build(golden("put"), version_id="096fKKXTRTtl3on89fVO.nfljtsv6qko")
    # Then only the versioned one names a versionId, before the sequencer as on AWS
    assert "versionId" not in plain["s3"]["object"]
    assert list(versioned["s3"]["object"]) == ["key", "size", "eTag", "versionId", "sequencer"]


def test_powertools_parses_put_copy_and_delete_records() -> None:
    # Given records for each kind of event ripple emits
    expected = golden("put")
    event = {"Records": [build(expected, event_name=name) for name in (
        "ObjectCreated:Put", "ObjectCreated:Copy")] + [build(golden("delete"))]}
    # When Powertools' parser model validates the Lambda event
    parsed = S3Model.model_validate(event)
    # Then it reads every field it knows
    put, copy, delete = parsed.Records
    assert [r.eventName for r in parsed.Records] == ["ObjectCreated:Put", "ObjectCreated:Copy",
                                                     "ObjectRemoved:Delete"]
    assert put.s3.object is not None and put.s3.object.size == 1305107
    assert put.eventTime == datetime(2019, 9, 3, 19, 37, 27, 192000, tzinfo=UTC)
    assert delete.s3.object is not None and delete.s3.object.size is None
    assert copy.s3.bucket.arn == "arn:aws:s3:::lambda-artifacts-deafc19498e3f2df"


def test_ripple_defaults_and_the_golden_files_are_valid_lambda_events() -> None:
    # Given a record with only what ripple must say
    record = s3_record(event_name="ObjectCreated:Put", bucket="uploads", key="a b.txt",
                       sequence=sequencer(7), configuration_id="ripple-resize-1",
                       region="eu-west-1", request_id="0123456789ABCDEF", host_id="aG9zdA==",
                       size=3, etag="acbd18db4cc2f85cedef654fccc4a4d8")
    # Then it names ripple's account, the bucket's ARN and the current time
    assert record["userIdentity"]["principalId"] == "AWS:000000000000"
    assert record["s3"]["bucket"]["ownerIdentity"]["principalId"] == "A000000000000"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::uploads"
    assert record["eventTime"].endswith("Z") and len(record["eventTime"]) == 24
    S3Model.model_validate(s3_event(record))
    for name in ("put", "delete"):
        S3Model.model_validate(json.loads((EVENTS / f"s3_{name}.json").read_text()))


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="no 's3:' prefix"):
        build(golden("put"), event_name="s3:ObjectCreated:Put")
    with pytest.raises(ValueError, match="size and eTag"):
        build(golden("put"), size=None)
