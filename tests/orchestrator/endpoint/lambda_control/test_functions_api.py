"""CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration and DeleteFunction through
boto3, in Lambda's shapes and errors."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Ripple
from tests.orchestrator.endpoint.lambda_control.conftest import (
    ROLE,
    Create,
    returning,
    zipped,
)


def _invoke(lambda_client: Any, name: str, **options: Any) -> Any:
    return json.loads(lambda_client.invoke(FunctionName=name, **options)["Payload"].read())


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = raised.value.response
    return (response["Error"]["Code"], response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPStatusCode"])


def test_create_function_from_a_zip_runs_it(lambda_client: Any, create: Create) -> None:
    # Given a handler zipped as a deploy script zips it
    code = returning({"created": True})
    # When CreateFunction uploads it with a role, memory, timeout, environment and tags
    name = create(code, MemorySize=256, Timeout=10, Description="made by the API",
                  Environment={"Variables": {"STAGE": "test"}}, Tags={"team": "data"})
    # Then the function is Active, configured as asked and tagged, and it runs
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)
    configuration = lambda_client.get_function_configuration(FunctionName=name)
    assert configuration["State"] == "Active"
    assert configuration["Role"] == ROLE
    assert (configuration["MemorySize"], configuration["Timeout"]) == (256, 10)
    assert configuration["Environment"] == {"Variables": {"STAGE": "test"}}
    assert configuration["Description"] == "made by the API"
    assert configuration["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert configuration["CodeSize"] == len(code)
    assert lambda_client.get_function(FunctionName=name)["Tags"] == {"team": "data"}
    assert _invoke(lambda_client, name) == {"created": True}


def test_create_function_from_an_s3_object(ripple: Ripple, lambda_client: Any,
                                           create: Create) -> None:
    # Given a zipped handler uploaded to ripple's S3
    s3 = boto3.client("s3", endpoint_url=ripple.url, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    s3.create_bucket(Bucket="lambda-code")
    s3.put_object(Bucket="lambda-code", Key="f.zip", Body=returning("from s3"))
    # When CreateFunction names the object
    name = f"s3-{hashlib.sha1(ripple.url.encode()).hexdigest()[:6]}"
    lambda_client.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                                  Handler="app.handler",
                                  Code={"S3Bucket": "lambda-code", "S3Key": "f.zip"})
    # Then the function runs that code; a missing object is S3's error, worded by Lambda
    assert _invoke(lambda_client, name) == "from s3"
    with pytest.raises(ClientError) as raised:
        lambda_client.update_function_code(FunctionName=name, S3Bucket="lambda-code",
                                           S3Key="missing.zip")
    code, message, status = _error(raised)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "S3 Error Code: NoSuchKey" in message


def test_update_function_code_and_configuration(lambda_client: Any, create: Create) -> None:
    # Given a function made by the API
    name = create(returning(1))
    # When its code and then its configuration are updated
    updated = lambda_client.update_function_code(FunctionName=name, ZipFile=returning(2))
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    configured = lambda_client.update_function_configuration(
        FunctionName=name, Timeout=30, Environment={"Variables": {"A": "b"}})
    # Then the next invoke runs the new code, with the new configuration
    assert updated["CodeSize"] == len(returning(2))
    assert configured["Timeout"] == 30 and configured["LastUpdateStatus"] == "Successful"
    assert _invoke(lambda_client, name) == 2
    assert lambda_client.get_function_configuration(FunctionName=name)["Environment"] == {
        "Variables": {"A": "b"}}


def test_delete_function(lambda_client: Any, create: Create) -> None:
    # Given a function made by the API
    name = create(returning(1))
    # When it is deleted
    lambda_client.delete_function(FunctionName=name)
    # Then it is gone for every call
    with pytest.raises(ClientError) as raised:
        lambda_client.get_function(FunctionName=name)
    assert _error(raised)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName=name)
    assert _error(raised)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        lambda_client.delete_function(FunctionName=name)
    assert _error(raised)[:3:2] == ("ResourceNotFoundException", 404)


def test_create_errors(lambda_client: Any, create: Create) -> None:
    # Given a function that exists
    name = create(returning(1))
    base = {"Runtime": "python3.11", "Role": ROLE, "Handler": "app.handler"}
    # When a second one takes its name, or a call carries a bad zip, runtime, role, timeout,
    # a reserved environment variable or layers
    attempts = {
        "conflict": {"FunctionName": name, "Code": {"ZipFile": returning(1)}},
        "not a zip": {"FunctionName": "bad-zip", "Code": {"ZipFile": b"not a zip"}},
        "escaping": {"FunctionName": "escape", "Code": {"ZipFile": zipped("x", "../evil.py")}},
        "runtime": {"FunctionName": "node", "Code": {"ZipFile": returning(1)},
                    "Runtime": "nodejs20.x"},
        "role": {"FunctionName": "role", "Code": {"ZipFile": returning(1)}, "Role": "admin"},
        "timeout": {"FunctionName": "timeout", "Code": {"ZipFile": returning(1)},
                    "Timeout": 901},
        "reserved": {"FunctionName": "reserved", "Code": {"ZipFile": returning(1)},
                     "Environment": {"Variables": {"AWS_REGION": "eu-west-1"}}},
        "layers": {"FunctionName": "layers", "Code": {"ZipFile": returning(1)},
                   "Layers": ["arn:aws:lambda:us-east-1:000000000000:layer:libs:1"]},
    }
    errors = {}
    for label, call in attempts.items():
        with pytest.raises(ClientError) as raised:
            lambda_client.create_function(**{**base, **call})
        errors[label] = _error(raised)
    # Then each is Lambda's error, and nothing was created
    assert errors["conflict"] == ("ResourceConflictException",
                                  f"Function already exist: {name}", 409)
    assert errors["not a zip"][0] == "InvalidParameterValueException"
    assert errors["not a zip"][1].startswith("Could not unzip uploaded file.")
    assert "escapes its folder" in errors["escaping"][1]
    assert "nodejs20.x" in errors["runtime"][1]
    assert "'role' failed to satisfy constraint" in errors["role"][1]
    assert "'timeout' failed to satisfy constraint: Member must have value less than or " \
        "equal to 900" in errors["timeout"][1]
    assert "Reserved keys used in this request: AWS_REGION" in errors["reserved"][1]
    assert "does not support layers" in errors["layers"][1]
    assert {code for code, _, _ in list(errors.values())[1:]} == {
        "InvalidParameterValueException"}
    listed = {f["FunctionName"] for f in lambda_client.list_functions()["Functions"]}
    assert not listed & {"bad-zip", "escape", "node", "role", "timeout", "reserved",
                           "layers"}


def test_stale_revision_is_refused(lambda_client: Any, create: Create) -> None:
    # Given a function updated since its revision was read
    name = create(returning(1))
    stale = lambda_client.get_function_configuration(FunctionName=name)["RevisionId"]
    lambda_client.update_function_configuration(FunctionName=name, Timeout=20)
    # When an update names the old revision
    with pytest.raises(ClientError) as raised:
        lambda_client.update_function_configuration(FunctionName=name, Timeout=25,
                                                    RevisionId=stale)
    # Then it is PreconditionFailedException
    assert _error(raised)[::2] == ("PreconditionFailedException", 412)


def test_list_functions_pages_and_publish_on_update(lambda_client: Any, create: Create) -> None:
    # Given two functions, one updated with Publish=True
    first, second = create(returning(1)), create(returning(2))
    published = lambda_client.update_function_code(FunctionName=second, ZipFile=returning(3),
                                                   Publish=True)
    # When every function is listed one per page, with its versions
    pages = lambda_client.get_paginator("list_functions").paginate(
        FunctionVersion="ALL", PaginationConfig={"PageSize": 1})
    listed = [(each["FunctionName"], each["Version"])
              for page in pages for each in page["Functions"]]
    # Then both functions and the published version are there, each once
    assert published["Version"] == "1"
    assert {(first, "$LATEST"), (second, "$LATEST"), (second, "1")} <= set(listed)
    assert len(listed) == len(set(listed))
