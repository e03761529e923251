"""Mapping a function's response to the HTTP answer, and the gateway's own answers."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from orchestrator.endpoint.apigateway.responses import (
    Failure,
    MalformedResponse,
    function_answer,
    gateway_answer,
)


def answer(payload_format: str, response: Any) -> Any:
    return function_answer(payload_format, json.dumps(response).encode())


def test_v1_takes_status_headers_multi_value_headers_and_body() -> None:
    # Given a REST proxy response with both header maps, one value in both
    response = {"statusCode": 201, "headers": {"X-One": "a", "X-Both": "same"},
                "multiValueHeaders": {"X-Both": ["same", "other"], "Set-Cookie": ["a=1", "b=2"]},
                "body": "created", "isBase64Encoded": False}
    # When it is mapped
    mapped = answer("1.0", response)
    # Then the maps are merged (a value in both once) and JSON is the default type
    assert mapped.status == 201 and mapped.body == b"created"
    assert mapped.headers == [("X-Both", "same"), ("X-Both", "other"), ("Set-Cookie", "a=1"),
                              ("Set-Cookie", "b=2"), ("X-One", "a"),
                              ("content-type", "application/json")]


@pytest.mark.parametrize("response", [
    {"body": "no status"},
    {"statusCode": 200, "body": {"not": "a string"}},
    {"statusCode": "two hundred"},
    {"statusCode": 200, "headers": ["x"]},
    {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
    "just a string",
    None,
])
def test_a_malformed_v1_response_is_refused(response: Any) -> None:
    with pytest.raises(MalformedResponse):
        answer("1.0", response)


def test_base64_bodies_are_decoded_in_both_formats() -> None:
    png = b"\x89PNG\r\n\x1a\n"
    for payload_format in ("1.0", "2.0"):
        mapped = answer(payload_format, {"statusCode": 200, "isBase64Encoded": True,
                                         "body": base64.b64encode(png).decode(),
                                         "headers": {"Content-Type": "image/png"}})
        assert mapped.body == png and mapped.header("content-type") == "image/png"


@pytest.mark.parametrize(("response", "body"), [
    ({"message": "hello"}, b'{"message": "hello"}'),
    ("Hello from Lambda!", b"Hello from Lambda!"),
    ([1, 2], b"[1, 2]"),
    (None, b"null"),
])
def test_v2_takes_any_json_as_a_200_json_answer(response: Any, body: bytes) -> None:
    # Given a function that returns JSON without a statusCode
    # When the HTTP API maps it
    mapped = answer("2.0", response)
    # Then it is a 200 application/json answer whose body is that JSON (a string as itself)
    assert (mapped.status, mapped.body) == (200, body)
    assert mapped.headers == [("content-type", "application/json")]


def test_v2_structured_response_with_cookies() -> None:
    mapped = answer("2.0", {"statusCode": 302, "headers": {"location": "/next"},
                            "cookies": ["a=1; Path=/", "b=2"]})
    assert mapped.status == 302 and mapped.body == b""
    assert mapped.headers == [("location", "/next"), ("set-cookie", "a=1; Path=/"),
                              ("set-cookie", "b=2")]
    with pytest.raises(MalformedResponse):
        answer("2.0", {"statusCode": 200, "cookies": "a=1"})


@pytest.mark.parametrize(("failure", "rest", "http"), [
    (Failure.NO_ROUTE, (403, "Missing Authentication Token"), (404, "Not Found")),
    (Failure.TOO_LARGE, (413, "Request Too Long"), (413, "Request Entity Too Large")),
    (Failure.FUNCTION_ERROR, (502, "Internal server error"), (500, "Internal Server Error")),
    (Failure.TIMEOUT, (504, "Endpoint request timed out"), (503, "Service Unavailable")),
    (Failure.THROTTLED, (429, "Rate exceeded"), (429, "Too Many Requests")),
])
def test_gateway_answers_per_kind_of_api(failure: Failure, rest: tuple[int, str],
                                         http: tuple[int, str]) -> None:
    for payload_format, (status, message) in (("1.0", rest), ("2.0", http)):
        found = gateway_answer(payload_format, failure)
        assert found.status == status
        assert json.loads(found.body) == {"message": message}
        assert found.header("content-type") == "application/json"
