"""Function URLs: CreateFunctionUrlConfig serves the function at a URL, each request a
payload 2.0 event, its answer read as an HTTP API reads it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.orchestrator.endpoint.lambda_control.conftest import Create, returning, zipped

ECHO = zipped(
    "import json\n"
    "def handler(event, context):\n"
    "    context_ = event['requestContext']\n"
    "    seen = {'version': event['version'], 'routeKey': event['routeKey'],\n"
    "            'rawPath': event['rawPath'], 'query': event.get('queryStringParameters'),\n"
    "            'method': context_['http']['method'], 'domain': context_['domainName'],\n"
    "            'body': event.get('body'), 'tag': 'one'}\n"
    "    return {'statusCode': 201, 'headers': {'x-seen': 'yes'}, 'body': json.dumps(seen)}\n")


def test_function_url_serves_the_function(lambda_client: Any, create: Create) -> None:
    # Given a function with a URL
    name = create(ECHO)
    config = lambda_client.create_function_url_config(FunctionName=name, AuthType="NONE")
    url = config["FunctionUrl"]
    # When a request is sent to a path below it
    answer = httpx.post(url + "items/7?size=big", content=b'{"a": 1}',
                        headers={"content-type": "application/json"}, timeout=60)
    # Then the function got a payload 2.0 event for it, and its response is the answer
    assert answer.status_code == 201 and answer.headers["x-seen"] == "yes"
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    assert answer.json() == {
        "version": "2.0", "routeKey": "$default", "rawPath": "/items/7",
        "query": {"size": "big"}, "method": "POST",
        "domain": f"{url_id}.lambda-url.us-east-1.on.aws", "body": '{"a": 1}', "tag": "one"}
    assert config["AuthType"] == "NONE" and config["FunctionArn"].endswith(f":{name}")
    assert lambda_client.get_function_url_config(FunctionName=name)["FunctionUrl"] == url


def test_alias_url_runs_the_alias(lambda_client: Any, create: Create) -> None:
    # Given version 1 behind alias "live" with a URL, and $LATEST changed since
    name = create(returning("v1"))
    lambda_client.publish_version(FunctionName=name)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lambda_client.update_function_code(FunctionName=name, ZipFile=returning("v2"))
    url = lambda_client.create_function_url_config(FunctionName=name, Qualifier="live",
                                                   AuthType="NONE")["FunctionUrl"]
    # When the URL is called
    answer = httpx.get(url, timeout=60)
    # Then the alias's version answered (a plain string body, as an HTTP API passes it)
    assert answer.status_code == 200 and answer.text == "v1"


def test_deleted_url_and_failing_function(lambda_client: Any, create: Create) -> None:
    # Given a failing function with a URL, and a function whose URL was deleted
    failing = create(zipped("def handler(event, context):\n    raise ValueError('no')\n"))
    failing_url = lambda_client.create_function_url_config(FunctionName=failing,
                                                           AuthType="NONE")["FunctionUrl"]
    name = create(returning(1))
    url = lambda_client.create_function_url_config(FunctionName=name,
                                                   AuthType="AWS_IAM")["FunctionUrl"]
    lambda_client.delete_function_url_config(FunctionName=name)
    # When both are called, and a second URL is made for the failing one
    failed = httpx.get(failing_url, timeout=60)
    gone = httpx.get(url, timeout=60)
    with pytest.raises(ClientError) as again:
        lambda_client.create_function_url_config(FunctionName=failing, AuthType="NONE")
    # Then a function error is 502, a deleted URL 404, and a second URL a conflict
    assert failed.status_code == 502 and json.loads(failed.text) == {
        "Message": "Internal Server Error"}
    assert gone.status_code == 404
    assert again.value.response["Error"]["Code"] == "ResourceConflictException"


def test_url_cors_answers_preflights_and_marks_answers(lambda_client: Any,
                                                       create: Create) -> None:
    # Given a URL whose Cors allows one origin to POST
    name = create(returning("hi"))
    url = lambda_client.create_function_url_config(
        FunctionName=name, AuthType="NONE",
        Cors={"AllowOrigins": ["https://app.example"], "AllowMethods": ["POST"],
              "MaxAge": 60})["FunctionUrl"]
    # When a browser sends a preflight, then the request, from that origin
    preflight = httpx.options(url, headers={"Origin": "https://app.example",
                                            "Access-Control-Request-Method": "POST"},
                              timeout=60)
    answer = httpx.post(url, headers={"Origin": "https://app.example"}, timeout=60)
    # Then the URL answered the preflight itself, and the answer carries the allowed origin
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.headers["access-control-allow-methods"] == "POST"
    assert preflight.headers["access-control-max-age"] == "60"
    assert answer.text == "hi"
    assert answer.headers["access-control-allow-origin"] == "https://app.example"


def test_bad_cors_is_refused(lambda_client: Any, create: Create) -> None:
    # Given a function
    name = create(returning(1))
    # When a URL asks for credentials from any origin (browsers refuse that)
    with pytest.raises(ClientError) as raised:
        lambda_client.create_function_url_config(
            FunctionName=name, AuthType="NONE",
            Cors={"AllowOrigins": ["*"], "AllowCredentials": True})
    # Then it is refused, saying why
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "AllowCredentials needs named origins" in raised.value.response["Error"]["Message"]
