"""The DynamoDB Streams record builder against AWS's documented example events."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

from orchestrator.events.dynamodb import event_name, stream_arn, stream_record
from orchestrator.services.dynamodb.types import item_size

EVENTS = Path(__file__).resolve().parents[2] / "events"
KEYS = {"Id": {"N": "101"}}
FIRST = {"Message": {"S": "New item!"}, "Id": {"N": "101"}}
CHANGED = {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}}
# (old image, new image) of each golden event
CHANGES = {"insert": (None, FIRST), "modify": (FIRST, CHANGED), "remove": (CHANGED, None)}
# SizeBytes of the keys (5), FIRST (21) and CHANGED (33), as each view type includes them
SIZES = {
    ("insert", "KEYS_ONLY"): 5, ("insert", "NEW_IMAGE"): 26, ("insert", "OLD_IMAGE"): 5,
    ("insert", "NEW_AND_OLD_IMAGES"): 26,
    ("modify", "KEYS_ONLY"): 5, ("modify", "NEW_IMAGE"): 38, ("modify", "OLD_IMAGE"): 26,
    ("modify", "NEW_AND_OLD_IMAGES"): 59,
    ("remove", "KEYS_ONLY"): 5, ("remove", "NEW_IMAGE"): 5, ("remove", "OLD_IMAGE"): 38,
    ("remove", "NEW_AND_OLD_IMAGES"): 38,
}
VIEW_TYPES = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


def golden(name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((EVENTS / f"dynamodb_{name}.json").read_text())
    return record["Records"][0]  # type: ignore[no-any-return]


def build(name: str, view_type: str = "NEW_AND_OLD_IMAGES") -> dict[str, Any]:
    """The builder's record for a golden event's change, with the golden event's identity."""
    expected = golden(name)
    old, new = CHANGES[name]
    return stream_record(
        keys=KEYS, old_image=old, new_image=new, view_type=view_type,
        table="ExampleTableWithStream", region="us-east-1",
        stream_label="2015-06-27T00:48:05.899",
        sequence_number=expected["dynamodb"]["SequenceNumber"], size_of=item_size,
        created=expected["dynamodb"]["ApproximateCreationDateTime"],
        event_id=expected["eventID"], account_id="123456789012")


@pytest.mark.parametrize("name", ["insert", "modify", "remove"])
def test_the_record_matches_aws_example_field_for_field(name: str) -> None:
    # Given AWS's documented example of an INSERT, MODIFY or REMOVE record
    expected = golden(name)
    # When the builder makes the record of the same change
    record = build(name)
    # Then every field is the same, nested fields included
    assert record.keys() == expected.keys()
    for field in expected:
        assert record[field] == expected[field], field
    assert record == expected


@pytest.mark.parametrize("name", ["insert", "modify", "remove"])
@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_each_view_type_carries_its_images_and_their_size(name: str, view_type: str) -> None:
    # Given a change and a stream view type
    old, new = CHANGES[name]
    # When the record is built
    change = build(name, view_type)["dynamodb"]
    # Then it holds the images the view type asks for (and the item had), and counts them
    wants_new = view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new is not None
    wants_old = view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old is not None
    assert ("NewImage" in change) == wants_new
    assert ("OldImage" in change) == wants_old
    assert change["Keys"] == KEYS
    assert change["StreamViewType"] == view_type
    assert change["SizeBytes"] == SIZES[(name, view_type)]
    assert change.get("NewImage", new) == new and change.get("OldImage", old) == old


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_powertools_parses_the_records_of_every_view_type(view_type: str) -> None:
    # Given one record of each event name in a view type
    event = {"Records": [build(name, view_type) for name in ("insert", "modify", "remove")]}
    # When Powertools' parser model validates the Lambda event
    parsed = DynamoDBStreamModel.model_validate(event)
    # Then it accepts it and reads the attribute values
    insert, modify, remove = parsed.Records
    assert [r.eventName for r in parsed.Records] == ["INSERT", "MODIFY", "REMOVE"]
    assert insert.dynamodb.Keys == {"Id": Decimal(101)}
    assert insert.eventSourceARN.endswith(":table/ExampleTableWithStream/stream/"
                                          "2015-06-27T00:48:05.899")
    if view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        assert modify.dynamodb.NewImage == {"Message": "This item has changed", "Id": 101}
    if view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        assert remove.dynamodb.OldImage == {"Message": "This item has changed", "Id": 101}


def test_the_golden_events_are_valid_lambda_events() -> None:
    # Given the golden files / When Powertools parses them / Then they are valid as they are
    for name in ("insert", "modify", "remove"):
        DynamoDBStreamModel.model_validate(json.loads(
            (EVENTS / f"dynamodb_{name}.json").read_text()))


def test_ripple_records_use_ripple_account_and_the_current_time() -> None:
    # Given no account, time or event id
    record = stream_record(keys=KEYS, old_image=None, new_image=FIRST, view_type="KEYS_ONLY",
                           table="orders", region="eu-west-1", stream_label="L",
                           sequence_number="1", size_of=item_size)
    # Then the ARN names ripple's account, the id is AWS-like and the time is epoch seconds
    assert record["eventSourceARN"] == ("arn:aws:dynamodb:eu-west-1:000000000000:table/orders/"
                                        "stream/L")
    assert record["eventSourceARN"] == stream_arn("eu-west-1", "orders", "L")
    assert len(record["eventID"]) == 32
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)


def test_event_names_and_bad_input() -> None:
    assert [event_name(None, FIRST), event_name(FIRST, CHANGED), event_name(CHANGED, None)] == [
        "INSERT", "MODIFY", "REMOVE"]
    with pytest.raises(ValueError, match="StreamViewType"):
        stream_record(keys=KEYS, old_image=None, new_image=FIRST, view_type="ALL",
                      table="t", region="r", stream_label="l", sequence_number="1",
                      size_of=item_size)
    with pytest.raises(ValueError, match="old image, a new image"):
        stream_record(keys=KEYS, old_image=None, new_image=None, view_type="KEYS_ONLY",
                      table="t", region="r", stream_label="l", sequence_number="1",
                      size_of=item_size)
