"""PublishVersion, ListVersionsByFunction, aliases with weighted routing, and invoking a
version or alias: each runs exactly the code and configuration that were published."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.orchestrator.endpoint.lambda_control.conftest import Create, returning, zipped

VERSION_AWARE = zipped("import os\n\ndef handler(event, context):\n"
                       "    return {'code': 1, 'stage': os.environ.get('STAGE')}\n")


def _run(lambda_client: Any, name: str, **options: Any) -> tuple[Any, str]:
    answer = lambda_client.invoke(FunctionName=name, **options)
    return json.loads(answer["Payload"].read()), answer["ExecutedVersion"]


def test_version_keeps_its_code_and_configuration(lambda_client: Any, create: Create) -> None:
    # Given a function published as version 1, then changed in code and configuration
    name = create(VERSION_AWARE, Environment={"Variables": {"STAGE": "one"}})
    published = lambda_client.publish_version(FunctionName=name, Description="first")
    lambda_client.update_function_code(FunctionName=name, ZipFile=returning({"code": 2}))
    lambda_client.update_function_configuration(FunctionName=name,
                                                Environment={"Variables": {"STAGE": "two"}})
    # When version 1, $LATEST and the versions list are asked for
    first = _run(lambda_client, name, Qualifier="1")
    by_name = _run(lambda_client, f"{name}:1")
    latest = _run(lambda_client, name)
    listed = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    # Then version 1 still runs its own code with its own environment
    assert published["Version"] == "1" and published["Description"] == "first"
    assert published["FunctionArn"].endswith(f":function:{name}:1")
    assert first == by_name == ({"code": 1, "stage": "one"}, "1")
    assert latest == ({"code": 2}, "$LATEST")
    assert [each["Version"] for each in listed] == ["$LATEST", "1"]
    assert lambda_client.get_function_configuration(
        FunctionName=name, Qualifier="1")["Environment"] == {"Variables": {"STAGE": "one"}}


WHO_AM_I = zipped("import os\n\ndef handler(event, context):\n"
                  "    return [os.environ['AWS_LAMBDA_FUNCTION_VERSION'],"
                  " context.function_version, context.invoked_function_arn]\n")


def test_a_version_knows_which_version_it_is(lambda_client: Any, create: Create) -> None:
    # Given a function published as version 1 with its code unchanged since
    name = create(WHO_AM_I)
    lambda_client.publish_version(FunctionName=name)
    # When $LATEST, version 1, then $LATEST again are invoked (same code, one worker may hold
    # both warm)
    latest, first, again = (_run(lambda_client, name)[0], _run(lambda_client, name,
                            Qualifier="1")[0], _run(lambda_client, name)[0])
    # Then each environment reports its own version, and the ARN it was invoked by
    assert latest[:2] == again[:2] == ["$LATEST", "$LATEST"]
    assert latest[2].endswith(f":function:{name}")
    assert first[:2] == ["1", "1"] and first[2].endswith(f":function:{name}:1")


def test_publishing_unchanged_code_returns_the_same_version(lambda_client: Any,
                                                           create: Create) -> None:
    # Given a function published once
    name = create(returning(1))
    lambda_client.publish_version(FunctionName=name)
    # When it is published again without a change
    again = lambda_client.publish_version(FunctionName=name)
    # Then Lambda's answer is the existing version
    assert again["Version"] == "1"


def test_alias_follows_its_version(lambda_client: Any, create: Create) -> None:
    # Given versions 1 and 2 and an alias "live" on version 1
    name = create(returning("v1"))
    lambda_client.publish_version(FunctionName=name)
    lambda_client.update_function_code(FunctionName=name, ZipFile=returning("v2"))
    lambda_client.publish_version(FunctionName=name)
    alias = lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    # When it is invoked, then moved to version 2 and invoked again
    before = _run(lambda_client, name, Qualifier="live")
    lambda_client.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    after = _run(lambda_client, f"{name}:live")
    # Then it ran version 1, then version 2, and reads back in Lambda's shape
    assert alias["AliasArn"].endswith(f":function:{name}:live")
    assert before == ("v1", "1") and after == ("v2", "2")
    assert lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    assert [each["Name"] for each in lambda_client.list_aliases(FunctionName=name)["Aliases"]
            ] == ["live"]


def test_weighted_alias_splits_invocations(lambda_client: Any, create: Create) -> None:
    # Given an alias sending 30% of invocations to version 2 and the rest to version 1
    name = create(returning("v1"))
    lambda_client.publish_version(FunctionName=name)
    lambda_client.update_function_code(FunctionName=name, ZipFile=returning("v2"))
    lambda_client.publish_version(FunctionName=name)
    lambda_client.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                               RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    # When it is invoked 100 times
    runs = Counter(_run(lambda_client, name, Qualifier="canary")[1] for _ in range(100))
    # Then both versions ran, about as weighted (binomial: 30 ± 4.6, so 12..48 is > 3.9 σ)
    assert set(runs) == {"1", "2"}
    assert 12 <= runs["2"] <= 48


def test_alias_and_version_errors(lambda_client: Any, create: Create) -> None:
    # Given a function with version 1 and alias "live" on it
    name = create(returning(1))
    lambda_client.publish_version(FunctionName=name)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    calls = {
        "unpublished version": lambda: lambda_client.create_alias(
            FunctionName=name, Name="next", FunctionVersion="7"),
        "alias twice": lambda: lambda_client.create_alias(
            FunctionName=name, Name="live", FunctionVersion="1"),
        "missing alias": lambda: lambda_client.get_alias(FunctionName=name, Name="gone"),
        "invoke missing version": lambda: lambda_client.invoke(FunctionName=name,
                                                               Qualifier="9"),
        "delete aliased version": lambda: lambda_client.delete_function(FunctionName=name,
                                                                        Qualifier="1"),
    }
    # When each is attempted
    codes = {}
    for label, call in calls.items():
        with pytest.raises(ClientError) as raised:
            call()
        codes[label] = raised.value.response["Error"]["Code"]
    # Then each is Lambda's error
    assert codes == {
        "unpublished version": "ResourceNotFoundException",
        "alias twice": "ResourceConflictException",
        "missing alias": "ResourceNotFoundException",
        "invoke missing version": "ResourceNotFoundException",
        "delete aliased version": "ResourceConflictException",
    }
