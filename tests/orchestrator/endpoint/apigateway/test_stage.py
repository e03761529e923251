"""The stage end to end: HTTP → route → proxy event → worker → handler → mapped answer."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
)

from tests.conftest import Deploy, Ripple

# Echoes its event, raises, oversleeps, or returns the response the request's body spells.
MIRROR = """
import json, time
def handler(event, context):
    action = (event.get("rawPath") or event["path"]).rsplit("/", 1)[-1]
    if action == "raise":
        raise ValueError("boom")
    if action == "sleep":
        time.sleep(3)
    if action == "respond":
        return json.loads(event["body"])
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
"""


@dataclass
class Mirror:
    name: str
    stage: str

    def url(self, version: str, path: str) -> str:
        return f"{self.stage}/{self.name}/{version}/{path}"

    def request(self, method: str, version: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url(version, path), timeout=60, **kwargs)


def http_routes(prefix: str) -> list[dict[str, Any]]:
    """A REST API (1.0) under {prefix}/v1 and an HTTP API (2.0) under {prefix}/v2."""
    return [{"http": {"method": method, "path": f"{prefix}/{version}/{path}",
                      "payload_format": payload_format}}
            for version, payload_format in (("v1", "1.0"), ("v2", "2.0"))
            for method, path in (("ANY", "{proxy+}"), ("GET", "items/{id}"))]


@pytest.fixture
def mirror(ripple: Ripple, deploy: Deploy) -> Mirror:
    name = f"mirror-{uuid.uuid4().hex[:8]}"
    deploy(MIRROR, name=name, timeout=1, events=http_routes(f"/{name}"))
    return Mirror(name, ripple.stage_url)


def test_an_http_api_request_reaches_the_handler_as_a_v2_event(mirror: Mirror) -> None:
    # Given a 2.0 route GET /{name}/v2/items/{id}
    # When a client sends repeated headers and query parameters, and cookies
    answer = mirror.request("GET", "v2", "items/42?a=1&a=2&b=x%20y", headers=[
        ("X-Multi", "1"), ("X-Multi", "2"), ("Cookie", "c1=one; c2=two")])
    # Then the handler gets an HTTP API event: lower-case, comma-joined, cookies apart
    assert answer.status_code == 200
    event = answer.json()
    APIGatewayProxyEventV2Model.model_validate(event)
    assert event["version"] == "2.0"
    assert event["routeKey"] == f"GET /{mirror.name}/v2/items/{{id}}"
    assert event["rawPath"] == f"/{mirror.name}/v2/items/42"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["headers"]["x-multi"] == "1,2" and "cookie" not in event["headers"]
    assert event["cookies"] == ["c1=one", "c2=two"]
    context = event["requestContext"]
    assert (context["apiId"], context["stage"]) == ("ripplehttp", "$default")
    assert context["http"]["method"] == "GET" and context["http"]["sourceIp"] == "127.0.0.1"
    assert "body" not in event and event["isBase64Encoded"] is False
    # And the answer names the request the way an HTTP API does
    assert answer.headers["apigw-requestid"] == context["requestId"]
    assert answer.headers["x-amzn-requestid"] == context["requestId"]
    assert answer.headers["x-amzn-trace-id"].startswith("Root=1-")


def test_a_rest_api_request_reaches_the_handler_as_a_v1_event(mirror: Mirror) -> None:
    # Given a 1.0 route ANY /{name}/v1/{proxy+}
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    # When a client posts a binary body with repeated headers and query parameters
    answer = mirror.request("POST", "v1", "upload/cat.png?tag=a&tag=b", content=png,
                            headers=[("Content-Type", "image/png"), ("X-Multi", "1"),
                                     ("X-Multi", "2")])
    # Then the handler gets a REST API event: last values, every value, base64 body
    assert answer.status_code == 200
    event = answer.json()
    APIGatewayProxyEventModel.model_validate(event)
    assert event["resource"] == f"/{mirror.name}/v1/{{proxy+}}"
    assert event["path"] == f"/{mirror.name}/v1/upload/cat.png"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"proxy": "upload/cat.png"}
    assert event["headers"]["x-multi"] == "2"
    assert event["multiValueHeaders"]["x-multi"] == ["1", "2"]
    assert event["queryStringParameters"] == {"tag": "b"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == png
    context = event["requestContext"]
    assert (context["apiId"], context["stage"]) == ("ripplerest", "Prod")
    assert context["resourcePath"] == event["resource"]
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert answer.headers["x-amzn-requestid"] == context["requestId"]
    assert answer.headers["x-amz-apigw-id"] == context["extendedRequestId"]
    # And the stage forwards like API Gateway: its trace header and X-Forwarded-*
    assert event["headers"]["x-amzn-trace-id"] == answer.headers["x-amzn-trace-id"]
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"


def test_the_most_specific_route_answers(mirror: Mirror) -> None:
    # Given GET /items/{id} and ANY /{proxy+} under the same prefix
    # When requests fit one, the other, or both
    by_id = mirror.request("GET", "v2", "items/7").json()
    deeper = mirror.request("GET", "v2", "items/7/reviews").json()
    posted = mirror.request("POST", "v2", "items/7", content=b"{}").json()
    # Then the literal-and-parameter route beats the greedy one, for its method only
    assert by_id["routeKey"].endswith("/v2/items/{id}")
    assert deeper["routeKey"].endswith("/v2/{proxy+}")
    assert deeper["pathParameters"] == {"proxy": "items/7/reviews"}
    assert posted["routeKey"] == f"ANY /{mirror.name}/v2/{{proxy+}}"


def test_responses_are_mapped_as_each_kind_of_api_maps_them(mirror: Mirror) -> None:
    def respond(version: str, response: Any) -> httpx.Response:
        return mirror.request("POST", version, "respond", content=json.dumps(response))

    # A v2 structured response: status, headers and one Set-Cookie per cookie
    answer = respond("v2", {"statusCode": 418, "headers": {"x-tea": "yes"},
                            "cookies": ["a=1", "b=2"], "body": "short and stout"})
    assert (answer.status_code, answer.text) == (418, "short and stout")
    assert answer.headers["x-tea"] == "yes"
    assert answer.headers.get_list("set-cookie") == ["a=1", "b=2"]
    # Any other JSON: a 200 application/json answer
    answer = respond("v2", {"hello": "world"})
    assert answer.status_code == 200 and answer.json() == {"hello": "world"}
    assert answer.headers["content-type"] == "application/json"
    # A v1 response with multiValueHeaders
    answer = respond("v1", {"statusCode": 201, "multiValueHeaders": {"x-v": ["1", "2"]},
                            "body": "made"})
    assert (answer.status_code, answer.text) == (201, "made")
    assert answer.headers.get_list("x-v") == ["1", "2"]
    # A malformed v1 response (a body that is not a string): 502
    answer = respond("v1", {"statusCode": 200, "body": {"not": "a string"}})
    assert answer.status_code == 502
    assert answer.json() == {"message": "Internal server error"}


@pytest.mark.parametrize(("version", "status", "message"), [
    ("v1", 502, "Internal server error"),
    ("v2", 500, "Internal Server Error"),
])
def test_a_handler_error_is_the_apis_internal_error(mirror: Mirror, version: str, status: int,
                                                    message: str) -> None:
    answer = mirror.request("GET", version, "raise")
    assert answer.status_code == status and answer.json() == {"message": message}


@pytest.mark.parametrize(("version", "status", "message"), [
    ("v1", 502, "Internal server error"),
    ("v2", 500, "Internal Server Error"),
])
def test_a_function_that_times_out_is_a_failed_integration(mirror: Mirror, version: str,
                                                           status: int, message: str) -> None:
    # Given a handler that sleeps 3 s with a 1 s timeout: the function fails before API
    # Gateway's own 29 s / 30 s limit, so the API answers as for any function error
    answer = mirror.request("GET", version, "sleep")
    assert answer.status_code == status and answer.json() == {"message": message}


def test_a_throttled_function_is_answered_429(ripple: Ripple, deploy: Deploy) -> None:
    # Given a function with no concurrency at all
    name = f"busy-{uuid.uuid4().hex[:8]}"
    deploy(MIRROR, name=name, reserved_concurrency=0, events=http_routes(f"/{name}"))
    mirror = Mirror(name, ripple.stage_url)
    # When it is called through either kind of API
    rest, http = mirror.request("GET", "v1", "x"), mirror.request("GET", "v2", "x")
    # Then each answers 429 in its own words
    assert (rest.status_code, rest.json()) == (429, {"message": "Rate exceeded"})
    assert (http.status_code, http.json()) == (429, {"message": "Too Many Requests"})


def test_requests_no_route_fits(mirror: Mirror, ripple: Ripple) -> None:
    # Under the REST API's prefix: 403 Missing Authentication Token
    answer = httpx.get(f"{ripple.stage_url}/{mirror.name}/v1", timeout=30)
    assert answer.status_code == 403
    assert answer.json() == {"message": "Missing Authentication Token"}
    assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    # Anywhere else: the HTTP API's 404 Not Found
    answer = httpx.get(f"{ripple.stage_url}/no-such-prefix/at/all", timeout=30)
    assert answer.status_code == 404 and answer.json() == {"message": "Not Found"}
    assert answer.headers["apigw-requestid"]


def test_a_body_over_10_mb_is_refused(mirror: Mirror) -> None:
    answer = mirror.request("POST", "v2", "big", content=b"x" * (10 * 1024 * 1024 + 1))
    assert answer.status_code == 413
    assert answer.json() == {"message": "Request Entity Too Large"}


def test_a_redeploy_changes_the_routes_without_a_restart(ripple: Ripple, deploy: Deploy) -> None:
    # Given a function with one route
    name = f"moving-{uuid.uuid4().hex[:8]}"
    deploy(MIRROR, name=name, events=[{"http": {"method": "GET", "path": f"/{name}/a"}}])
    assert httpx.get(f"{ripple.stage_url}/{name}/a", timeout=30).status_code == 200
    assert httpx.get(f"{ripple.stage_url}/{name}/b", timeout=30).status_code == 404
    # When it is redeployed with another route instead
    deploy(MIRROR, name=name, events=[{"http": {"method": "GET", "path": f"/{name}/b"}}])
    # Then the new route answers at once, and the old one is gone
    assert httpx.get(f"{ripple.stage_url}/{name}/b", timeout=30).status_code == 200
    assert httpx.get(f"{ripple.stage_url}/{name}/a", timeout=30).status_code == 404
