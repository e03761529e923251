"""Event source mappings for DynamoDB streams through the Lambda API: the workers' pollers
pick them up as they pick up a spec's `dynamodb` trigger."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Deploy, Ripple, wait_for
from tests.orchestrator.endpoint.lambda_control.conftest import Create, zipped

PRINTER = zipped("def handler(event, context):\n"
                 "    for record in event['Records']:\n"
                 "        key = record['dynamodb']['Keys']['pk']['S']\n"
                 "        print('SAW', record['eventName'], key)\n")


@pytest.fixture
def dynamodb(ripple: Ripple) -> Any:
    return boto3.client("dynamodb", endpoint_url=ripple.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def _table_with_stream(dynamodb: Any) -> tuple[str, str]:
    table = f"t-{uuid.uuid4().hex[:8]}"
    described = dynamodb.create_table(
        TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    return table, described["TableDescription"]["LatestStreamArn"]


def _seen(ripple: Ripple, name: str) -> list[str]:
    return re.findall(r"SAW (\w+ \S+)", ripple.logs(name))


def test_mapping_delivers_stream_records(ripple: Ripple, lambda_client: Any, dynamodb: Any,
                                         create: Create) -> None:
    # Given a function mapped by the API to a table's stream
    name = create(PRINTER)
    table, stream = _table_with_stream(dynamodb)
    mapping = lambda_client.create_event_source_mapping(
        FunctionName=name, EventSourceArn=stream, StartingPosition="TRIM_HORIZON",
        BatchSize=10)
    # When items are written
    for key in ("a", "b"):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": key}})
    # Then the function receives them, and the mapping reads back in Lambda's shape
    wait_for(lambda: len(_seen(ripple, name)) >= 2, timeout=60)
    assert _seen(ripple, name) == ["INSERT a", "INSERT b"]
    got = lambda_client.get_event_source_mapping(UUID=mapping["UUID"])
    assert got["State"] == "Enabled" and got["BatchSize"] == 10
    assert got["EventSourceArn"] == stream and got["FunctionArn"].endswith(f":{name}")
    listed = lambda_client.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert [each["UUID"] for each in listed] == [mapping["UUID"]]


def test_disabled_then_deleted_mapping_stops_delivering(
        ripple: Ripple, lambda_client: Any, dynamodb: Any, create: Create) -> None:
    # Given a mapping that delivered one record
    name = create(PRINTER)
    table, stream = _table_with_stream(dynamodb)
    mapping = lambda_client.create_event_source_mapping(
        FunctionName=name, EventSourceArn=stream, StartingPosition="LATEST")
    wait_for(lambda: (dynamodb.put_item(TableName=table, Item={"pk": {"S": "first"}})
                      and _seen(ripple, name)), timeout=60, interval=1)
    # When it is disabled and a record is written, then it is deleted
    updated = lambda_client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    time.sleep(1.5)  # the pollers look for mappings every 0.5 s
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "while-disabled"}})
    time.sleep(2)
    deleted = lambda_client.delete_event_source_mapping(UUID=mapping["UUID"])
    # Then the record written while disabled never arrived; it read as Disabled, then is gone
    assert "INSERT while-disabled" not in _seen(ripple, name)
    assert updated["State"] == "Disabled" and deleted["State"] == "Deleting"
    with pytest.raises(ClientError) as raised:
        lambda_client.get_event_source_mapping(UUID=mapping["UUID"])
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_spec_trigger_is_listed(ripple: Ripple, lambda_client: Any, dynamodb: Any,
                                deploy: Deploy) -> None:
    # Given a function whose spec declares a dynamodb trigger
    table, stream = _table_with_stream(dynamodb)
    name = deploy("def handler(event, context):\n    return None\n",
                  resources={"tables": {table: {"keys": {"pk": "S"}, "stream": "NEW_IMAGE"}}},
                  events=[{"dynamodb": {"table": table, "batch_size": 5}}])
    # When the API lists that function's mappings, and one tries to delete it
    listed = lambda_client.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    with pytest.raises(ClientError) as raised:
        lambda_client.delete_event_source_mapping(UUID=listed[0]["UUID"])
    # Then the spec's trigger is there, with its stream, and is changed through the spec
    assert [(each["EventSourceArn"], each["BatchSize"]) for each in listed] == [(stream, 5)]
    assert "change the spec" in raised.value.response["Error"]["Message"]


def test_mapping_errors(lambda_client: Any, dynamodb: Any, create: Create) -> None:
    # Given a function and a table without a stream
    name = create(PRINTER)
    plain = f"t-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(TableName=plain,
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    calls = {
        "no stream": {"FunctionName": name, "StartingPosition": "LATEST",
                      "EventSourceArn": f"arn:aws:dynamodb:us-east-1:000000000000:table/{plain}"
                                        "/stream/2020-01-01T00:00:00.000"},
        "sqs": {"FunctionName": name,
                "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:queue"},
        "no function": {"FunctionName": "nobody-here", "StartingPosition": "LATEST",
                        "EventSourceArn": "arn:aws:dynamodb:us-east-1:000000000000:table/x/"
                                          "stream/1"},
    }
    # When mappings are made to them
    errors = {}
    for label, call in calls.items():
        with pytest.raises(ClientError) as raised:
            lambda_client.create_event_source_mapping(**call)
        errors[label] = raised.value.response["Error"]
    # Then each is refused with Lambda's error
    assert errors["no stream"]["Code"] == "InvalidParameterValueException"
    assert errors["no stream"]["Message"].startswith("Stream not found")
    assert "DynamoDB streams only" in errors["sqs"]["Message"]
    assert errors["no function"]["Code"] == "ResourceNotFoundException"


def test_mapping_to_an_alias_runs_its_version(ripple: Ripple, lambda_client: Any,
                                              dynamodb: Any, create: Create) -> None:
    # Given version 1 behind alias "live", $LATEST changed since, and a mapping to the alias
    name = create(PRINTER)
    lambda_client.publish_version(FunctionName=name)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lambda_client.update_function_code(
        FunctionName=name, ZipFile=zipped("def handler(event, context):\n    print('LATEST')\n"))
    table, stream = _table_with_stream(dynamodb)
    mapping = lambda_client.create_event_source_mapping(
        FunctionName=f"{name}:live", EventSourceArn=stream, StartingPosition="TRIM_HORIZON")
    # When an item is written
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "via-alias"}})
    # Then version 1's code got the record (its log says so), and the mapping names the alias
    wait_for(lambda: _seen(ripple, name), timeout=60)
    assert _seen(ripple, name) == ["INSERT via-alias"]
    logs = ripple.logs(name)
    assert "\nLATEST\n" not in logs and "START RequestId: " in logs
    assert re.findall(r"START RequestId: \S+ Version: (\S+)", logs) == ["1"]
    assert mapping["FunctionArn"].endswith(f":function:{name}:live")
