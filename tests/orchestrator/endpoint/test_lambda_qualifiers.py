"""Invoke with a qualifier: `$LATEST` runs the function; any other version or alias that was
never published is ResourceNotFoundException, as on Lambda (it used to run `$LATEST`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Deploy

HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


def test_latest_qualifier_runs_the_function(deploy: Deploy, lambda_client: Any) -> None:
    # Given a deployed function
    name = deploy(HANDLER)
    # When it is invoked with Qualifier=$LATEST and as name:$LATEST
    by_parameter = lambda_client.invoke(FunctionName=name, Qualifier="$LATEST")
    by_name = lambda_client.invoke(FunctionName=f"{name}:$LATEST")
    # Then both run it
    assert json.loads(by_parameter["Payload"].read()) == {"ok": True}
    assert json.loads(by_name["Payload"].read()) == {"ok": True}


@pytest.mark.parametrize("how", ["parameter", "name", "arn"])
def test_unknown_qualifier_is_not_found(deploy: Deploy, lambda_client: Any, how: str) -> None:
    # Given a deployed function with no alias "live"
    name = deploy(HANDLER)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    call = {"parameter": {"FunctionName": name, "Qualifier": "live"},
            "name": {"FunctionName": f"{name}:live"},
            "arn": {"FunctionName": f"{arn}:live"}}[how]
    # When it is invoked with that qualifier
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(**call)
    # Then Lambda's error names the qualified function, and nothing ran
    error = raised.value.response["Error"]
    assert error["Code"] == "ResourceNotFoundException"
    assert error["Message"] == f"Function not found: {arn}:live"


def test_get_function_configuration_is_active(deploy: Deploy, lambda_client: Any) -> None:
    # Given a deployed function
    name = deploy(HANDLER)
    # When its configuration is read and the AWS CLI's waiters ask about it
    lambda_client.get_waiter("function_active").wait(FunctionName=name)
    lambda_client.get_waiter("function_updated").wait(FunctionName=name)
    configuration = lambda_client.get_function_configuration(FunctionName=name)
    function = lambda_client.get_function(FunctionName=name)
    listed = [each for page in lambda_client.get_paginator("list_functions").paginate()
              for each in page["Functions"]]  # the stack other tests share has many
    # Then it is Active, in Lambda's shape, and listed
    assert configuration["State"] == "Active"
    assert configuration["LastUpdateStatus"] == "Successful"
    assert configuration["Handler"] == "app.handler"
    assert function["Configuration"]["FunctionName"] == name
    assert name in [each["FunctionName"] for each in listed]


def test_get_unknown_function_is_not_found(lambda_client: Any) -> None:
    # Given no function called "missing"
    # When GetFunction asks for it
    with pytest.raises(ClientError) as raised:
        lambda_client.get_function(FunctionName="missing")
    # Then it is ResourceNotFoundException
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
