"""The API Gateway proxy event builders against AWS's documented example events.

`apigateway_v1.json` is the "Input format of a Lambda function for proxy integration" example
of the API Gateway developer guide for a REST API (`GET /items/{id}` on stage `Prod`);
`apigateway_v2.json` the payload format 2.0 example of the HTTP API guide (`POST /items/{id}`).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
)

from orchestrator.events.apigateway import (
    HttpRequest,
    encode_body,
    http_event,
    is_text,
    request_time,
    rest_event,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"


def golden(version: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"apigateway_{version}.json").read_text())  # type: ignore[no-any-return]


def rest_request(expected: dict[str, Any], **overrides: Any) -> HttpRequest:
    """The request behind the golden v1 event: each header sent once per value, in order."""
    headers = tuple((name, value) for name, values in expected["multiValueHeaders"].items()
                    for value in values)
    query = "&".join(f"{name}={value}" for name, values in
                     expected["multiValueQueryStringParameters"].items() for value in values)
    context = expected["requestContext"]
    fields: dict[str, Any] = dict(
        method=expected["httpMethod"], path=expected["path"], query=query, headers=headers,
        source_ip=context["identity"]["sourceIp"], received=context["requestTimeEpoch"] / 1000)
    return HttpRequest(**{**fields, **overrides})


def build_rest(expected: dict[str, Any], request: HttpRequest | None = None) -> dict[str, Any]:
    context = expected["requestContext"]
    return rest_event(
        request or rest_request(expected), resource=expected["resource"],
        path_parameters=expected["pathParameters"], api_id=context["apiId"],
        stage=context["stage"], request_id=context["requestId"],
        extended_request_id=context["extendedRequestId"], domain_name=context["domainName"],
        resource_id=context["resourceId"], account_id=context["accountId"])


def http_request(expected: dict[str, Any], **overrides: Any) -> HttpRequest:
    """The request behind the golden v2 event: header2 sent twice, cookies in one header."""
    headers: list[tuple[str, str]] = []
    for name, value in expected["headers"].items():
        headers += [(name, part) for part in value.split(",")]
    headers.append(("Cookie", "; ".join(expected["cookies"])))
    context = expected["requestContext"]
    fields: dict[str, Any] = dict(
        method=context["http"]["method"], path=expected["rawPath"],
        query=expected["rawQueryString"], headers=tuple(headers),
        body=expected["body"].encode(), source_ip=context["http"]["sourceIp"],
        received=context["timeEpoch"] / 1000)
    return HttpRequest(**{**fields, **overrides})


def build_http(expected: dict[str, Any], request: HttpRequest | None = None) -> dict[str, Any]:
    context = expected["requestContext"]
    return http_event(
        request or http_request(expected), route_key=expected["routeKey"],
        path_parameters=expected["pathParameters"], api_id=context["apiId"],
        request_id=context["requestId"], domain_name=context["domainName"],
        account_id=context["accountId"])


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_event_matches_aws_example_field_for_field(version: str) -> None:
    # Given AWS's documented example of a proxy event
    expected = golden(version)
    # When the builder makes the event of the same request
    event = build_rest(expected) if version == "v1" else build_http(expected)
    # Then every field is the same, nested fields included, in the same order
    assert list(event) == list(expected)
    for field in expected:
        assert event[field] == expected[field], field
    assert json.dumps(event) == json.dumps(expected)


def test_powertools_parses_both_formats_and_the_golden_files() -> None:
    # Given the builders' events and the golden files
    rest, http = build_rest(golden("v1")), build_http(golden("v2"))
    # When Powertools' parser models validate them
    parsed_rest = APIGatewayProxyEventModel.model_validate(rest)
    parsed_http = APIGatewayProxyEventV2Model.model_validate(http)
    APIGatewayProxyEventModel.model_validate(golden("v1"))
    APIGatewayProxyEventV2Model.model_validate(golden("v2"))
    # Then they read every field they know
    assert parsed_rest.pathParameters == {"id": "42"}
    assert parsed_rest.multiValueHeaders["header2"] == ["value1", "value2"]
    assert parsed_rest.requestContext.stage == "Prod"
    assert parsed_rest.requestContext.requestTimeEpoch.year == 2024
    assert parsed_http.cookies == ["cookie1=one", "cookie2=two"]
    assert parsed_http.requestContext.http.method == "POST"
    assert parsed_http.requestContext.stage == "$default"


def test_a_request_with_nothing_else_has_nulls_in_v1_and_omits_fields_in_v2() -> None:
    # Given a bare GET with one header
    request = HttpRequest("GET", "/", headers=(("host", "127.0.0.1:3000"),), received=0)
    # When both builders make its event
    rest = rest_event(request, resource="/", path_parameters={}, api_id="ripplerest",
                      stage="Prod", request_id="r", extended_request_id="e",
                      domain_name="127.0.0.1:3000")
    http = http_event(request, route_key="GET /", path_parameters={}, api_id="ripplehttp",
                      request_id="r", domain_name="127.0.0.1:3000")
    # Then v1 says null where v2 leaves the field out
    for field in ("queryStringParameters", "multiValueQueryStringParameters",
                  "pathParameters", "stageVariables", "body"):
        assert rest[field] is None, field
    assert not {"cookies", "queryStringParameters", "pathParameters", "body",
                "stageVariables"} & set(http)
    assert rest["requestContext"]["domainPrefix"] == "127"
    assert http["requestContext"]["time"] == "01/Jan/1970:00:00:00 +0000"
    APIGatewayProxyEventModel.model_validate(rest)
    APIGatewayProxyEventV2Model.model_validate(http)


def test_binary_bodies_are_base64_and_text_bodies_are_not() -> None:
    # Given a PNG body and a UTF-8 JSON body
    png = b"\x89PNG\r\n\x1a\n\x00\x00"
    request = HttpRequest("POST", "/upload", headers=(("content-type", "image/png"),), body=png)
    # When they are put into events
    rest = build_rest(golden("v1"), request)
    http = build_http(golden("v2"), request)
    # Then the binary one is base64 with isBase64Encoded true in both formats
    for event in (rest, http):
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == png
    assert encode_body("héllo".encode(), "text/plain; charset=utf-8") == ("héllo", False)
    assert encode_body(b"\xff\xfe", "text/plain") == ("//4=", True)
    assert encode_body(b"{}", "") == ("{}", False)
    assert is_text("application/vnd.api+json") and not is_text("application/octet-stream")


def test_v2_decodes_the_path_and_v1_keeps_it_as_sent() -> None:
    request = HttpRequest("GET", "/files/a%20b", received=0)
    rest = build_rest(golden("v1"), request)
    http = build_http(golden("v2"), request)
    assert rest["path"] == "/files/a%20b"
    assert http["rawPath"] == http["requestContext"]["http"]["path"] == "/files/a b"


def test_request_time_is_clf_in_utc() -> None:
    assert request_time(1710270238.39) == "12/Mar/2024:19:03:58 +0000"
