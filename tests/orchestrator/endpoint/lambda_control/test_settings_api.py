"""Reserved concurrency, event invoke configuration, tags and resource policies through the
Lambda API, and what it does not answer."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Ripple, wait_for
from tests.orchestrator.endpoint.lambda_control.conftest import Create, returning, zipped

FAILING = zipped("def handler(event, context):\n    raise ValueError('always')\n")
RECORDER = zipped("def handler(event, context):\n"
                  "    print('FAILED', event['requestContext']['condition'],\n"
                  "          event['requestContext']['approximateInvokeCount'])\n")


def test_reserved_concurrency_zero_throttles(lambda_client: Any, create: Create) -> None:
    # Given a function whose reserved concurrency is set to 0
    name = create(returning("ran"))
    put = lambda_client.put_function_concurrency(FunctionName=name,
                                                 ReservedConcurrentExecutions=0)
    # When it is invoked, then its reservation is removed and it is invoked again
    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName=name)
    reserved = lambda_client.get_function_concurrency(FunctionName=name)
    lambda_client.delete_function_concurrency(FunctionName=name)
    after = lambda_client.invoke(FunctionName=name)["Payload"].read()
    # Then the first is throttled as Lambda throttles, the second runs
    assert put["ReservedConcurrentExecutions"] == 0
    assert reserved["ReservedConcurrentExecutions"] == 0
    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert raised.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert after == b'"ran"'
    assert "ReservedConcurrentExecutions" not in lambda_client.get_function_concurrency(
        FunctionName=name)


def test_event_invoke_config_sends_failures_to_its_destination(
        ripple: Ripple, lambda_client: Any, create: Create) -> None:
    # Given a failing function with no retries and another function as its failure destination
    name = create(FAILING)
    recorder = create(RECORDER)
    recorder_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{recorder}"
    put = lambda_client.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0, MaximumEventAgeInSeconds=600,
        DestinationConfig={"OnFailure": {"Destination": recorder_arn}})
    # When it is invoked asynchronously
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    # Then the destination gets Lambda's failure record after one attempt, and the
    # configuration reads back as it was put
    wait_for(lambda: "FAILED" in ripple.logs(recorder), timeout=60)
    assert re.findall(r"FAILED (\S+) (\d+)", ripple.logs(recorder)) == [("RetriesExhausted", "1")]
    got = lambda_client.get_function_event_invoke_config(FunctionName=name)
    assert got["MaximumRetryAttempts"] == put["MaximumRetryAttempts"] == 0
    assert got["MaximumEventAgeInSeconds"] == 600
    assert got["DestinationConfig"]["OnFailure"]["Destination"] == recorder_arn


def test_event_invoke_config_errors(lambda_client: Any, create: Create) -> None:
    # Given a function with no event invoke configuration
    name = create(returning(1))
    # When it is read, or set with a retry count Lambda does not allow
    with pytest.raises(ClientError) as missing:
        lambda_client.get_function_event_invoke_config(FunctionName=name)
    with pytest.raises(ClientError) as retries:
        lambda_client.put_function_event_invoke_config(FunctionName=name,
                                                       MaximumRetryAttempts=3)
    # Then each is Lambda's error
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert retries.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_tags(lambda_client: Any, create: Create) -> None:
    # Given a function created with one tag
    name = create(returning(1), Tags={"team": "data"})
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    # When tags are added and one is removed
    lambda_client.tag_resource(Resource=arn, Tags={"stage": "dev", "cost": "lab"})
    lambda_client.untag_resource(Resource=arn, TagKeys=["cost"])
    # Then ListTags and GetFunction show what is left
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"team": "data", "stage": "dev"}
    assert lambda_client.get_function(FunctionName=name)["Tags"] == {"team": "data",
                                                                     "stage": "dev"}


def test_permissions_are_recorded_and_shown(lambda_client: Any, create: Create) -> None:
    # Given a function S3 is allowed to invoke
    name = create(returning(1))
    lambda_client.add_permission(FunctionName=name, StatementId="s3",
                                 Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                                 SourceArn="arn:aws:s3:::uploads")
    # When the policy is read, the statement added again, and then removed
    policy = json.loads(lambda_client.get_policy(FunctionName=name)["Policy"])
    with pytest.raises(ClientError) as again:
        lambda_client.add_permission(FunctionName=name, StatementId="s3",
                                     Action="lambda:InvokeFunction",
                                     Principal="s3.amazonaws.com")
    lambda_client.remove_permission(FunctionName=name, StatementId="s3")
    # Then the policy is Lambda's shape, a second statement id conflicts, and it is gone
    assert policy["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
    assert policy["Statement"][0]["Condition"] == {
        "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}}
    assert again.value.response["Error"]["Code"] == "ResourceConflictException"
    with pytest.raises(ClientError) as gone:
        lambda_client.get_policy(FunctionName=name)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_unsupported_operation_is_named(lambda_client: Any, create: Create) -> None:
    # Given a function
    name = create(returning(1))
    # When an operation ripple does not answer is called
    with pytest.raises(ClientError) as raised:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
    # Then Lambda's error shape says so, rather than a bare 404
    error = raised.value.response["Error"]
    assert error["Code"] == "UnsupportedOperationException"
    assert "does not support this Lambda operation" in error["Message"]
