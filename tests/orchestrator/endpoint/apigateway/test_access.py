"""Who may call a route, end to end: API keys and usage plans, route throttles and Lambda
authorizers, through the running stage with real workers."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Deploy, Ripple

# Answers with the event it got, so a test can read what reached the handler.
ECHO = """
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""
# A REQUEST authorizer: allows the X-Token "let-me-in", denies any other; a fresh `minted`
# in its context shows whether its answer came from the cache.
REQUEST_AUTHORIZER = """
import time
import uuid
def handler(event, context):
    headers = {name.lower(): value for name, value in event["headers"].items()}
    token = headers.get("x-token")
    effect = "Allow" if token == "let-me-in" else "Deny"
    return {"principalId": "user-1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect,
                 "Resource": event["methodArn"]}]},
            "context": {"tenant": "acme", "tier": 3, "minted": uuid.uuid4().hex}}
"""
# A TOKEN authorizer: "Unauthorized" for any token but "good", as AWS's blueprint does.
TOKEN_AUTHORIZER = """
def handler(event, context):
    if event["authorizationToken"] != "good":
        raise Exception("Unauthorized")
    arn = event["methodArn"].rsplit("/", 2)[0] + "/*"
    return {"principalId": "token-user", "policyDocument": {"Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}]}}
"""
# An HTTP API authorizer with simple responses.
SIMPLE_AUTHORIZER = """
def handler(event, context):
    assert event["version"] == "2.0" and event["type"] == "REQUEST"
    return {"isAuthorized": event["identitySource"] == ["ok"],
            "context": {"user": "u1", "route": event["routeArn"]}}
"""
KEY = "k" * 20 + uuid.uuid4().hex  # API Gateway's keys are at least 20 characters


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    return {role: f"{role}-{uuid.uuid4().hex[:8]}" for role in ("keyed", "authz", "token",
                                                                 "simple")}


def route(path: str, payload_format: str = "1.0", **access: Any) -> dict[str, Any]:
    return {"http": {"method": "GET", "path": path, "payload_format": payload_format,
                     **access}}


def test_an_api_key_is_required_and_its_usage_plan_throttles(ripple: Ripple,
                                                             deploy: Deploy) -> None:
    # Given a REST route needing an API key, whose plan allows 1 request/s with a burst of 2
    name = f"keyed-{uuid.uuid4().hex[:8]}"
    plan = {"api_keys": [KEY], "throttle": {"rate_limit": 1, "burst_limit": 2}}
    deploy(ECHO, name=name, events=[route(f"/{name}", auth={"api_key_required": True},
                                          usage_plan=plan)])
    url = f"{ripple.stage_url}/{name}"
    # When it is called without a key, or with one the plan does not list
    # Then API Gateway's 403 Forbidden answers
    for answer in (get(url), get(url, **{"x-api-key": "x" * 24})):
        assert (answer.status_code, answer.json()) == (403, {"message": "Forbidden"})
        assert answer.headers["x-amzn-errortype"] == "ForbiddenException"
    # When it is called with the key: 200, and the handler sees the key
    answer = get(url, **{"x-api-key": KEY})
    assert answer.status_code == 200
    assert answer.json()["requestContext"]["identity"]["apiKey"] == KEY
    # When the key is used faster than its plan allows: 429 in a REST API's words
    statuses = [get(url, **{"x-api-key": KEY}) for _ in range(4)]
    throttled = [answer for answer in statuses if answer.status_code == 429]
    assert throttled, [answer.status_code for answer in statuses]
    assert throttled[0].json() == {"message": "Too Many Requests"}
    assert throttled[0].headers["x-amzn-errortype"] == "TooManyRequestsException"


def test_a_usage_plan_quota_answers_limit_exceeded(ripple: Ripple, deploy: Deploy) -> None:
    # Given a REST route whose plan allows each key 2 requests a day
    name = f"quota-{uuid.uuid4().hex[:8]}"
    plan = {"api_keys": [KEY], "quota": {"limit": 2, "period": "DAY"}}
    deploy(ECHO, name=name, events=[route(f"/{name}", auth={"api_key_required": True},
                                          usage_plan=plan)])
    # When the key makes a third request
    answers = [get(f"{ripple.stage_url}/{name}", **{"x-api-key": KEY}) for _ in range(3)]
    # Then the first two are answered and the third is REST's 429 Limit Exceeded
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json() == {"message": "Limit Exceeded"}
    assert answers[2].headers["x-amzn-errortype"] == "LimitExceededException"


def test_the_api_key_can_come_from_the_authorizer(ripple: Ripple, deploy: Deploy) -> None:
    # Given a route whose key comes from its TOKEN authorizer's usageIdentifierKey
    name, authz = f"keysrc-{uuid.uuid4().hex[:8]}", f"keysrc-authz-{uuid.uuid4().hex[:8]}"
    keyed = TOKEN_AUTHORIZER.replace(
        '"policyDocument"', '"usageIdentifierKey": "' + KEY + '", "policyDocument"')
    authorizer = {"function": authz, "type": "TOKEN", "identity": {"reauthorize_every": 0}}
    deploy(ECHO, name=name, others={authz: keyed}, events=[route(
        f"/{name}", auth={"api_key_required": True, "authorizer": authorizer},
        usage_plan={"api_keys": [KEY], "key_source": "AUTHORIZER"})])
    # When a caller the authorizer allows sends no x-api-key
    answer = get(f"{ripple.stage_url}/{name}", Authorization="good")
    # Then the authorizer's key counts, and the handler sees it
    assert answer.status_code == 200, answer.text
    assert answer.json()["requestContext"]["identity"]["apiKey"] == KEY


def test_an_http_api_routes_throttle_answers_429(ripple: Ripple, deploy: Deploy) -> None:
    # Given an HTTP API route throttled to 1 request/s with a burst of 1
    name = f"throttled-{uuid.uuid4().hex[:8]}"
    deploy(ECHO, name=name, events=[route(f"/{name}", "2.0",
                                          throttle={"rate_limit": 1, "burst_limit": 1})])
    # When it is called three times at once
    answers = [get(f"{ripple.stage_url}/{name}") for _ in range(3)]
    # Then the first is answered and a later one is the HTTP API's 429
    assert answers[0].status_code == 200
    assert {"message": "Too Many Requests"} in [a.json() for a in answers
                                                if a.status_code == 429]


def test_a_request_authorizer_denies_allows_and_hands_its_context_on(
        ripple: Ripple, deploy: Deploy) -> None:
    # Given a REST route guarded by a REQUEST authorizer reading X-Token, cached 300 s
    name, authz = f"guarded-{uuid.uuid4().hex[:8]}", f"authz-{uuid.uuid4().hex[:8]}"
    authorizer = {"function": authz, "type": "REQUEST", "identity": {"headers": ["X-Token"]}}
    deploy(ECHO, name=name, others={authz: REQUEST_AUTHORIZER},
           events=[route(f"/{name}/{{id}}", auth={"authorizer": authorizer})])
    url = f"{ripple.stage_url}/{name}/7"
    # When the identity source is missing: 401, without asking the authorizer
    answer = get(url)
    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})
    # When the authorizer denies: 403 with API Gateway's explicit-deny message
    answer = get(url, **{"X-Token": "wrong"})
    assert answer.status_code == 403
    assert answer.json() == {
        "Message": "User is not authorized to access this resource with an explicit deny"}
    # When it allows: the handler runs and finds the authorizer's context
    first = get(url, **{"X-Token": "let-me-in"})
    assert first.status_code == 200
    found = first.json()["requestContext"]["authorizer"]
    assert (found["principalId"], found["tenant"], found["tier"]) == ("user-1", "acme", 3)
    assert isinstance(found["integrationLatency"], int)
    # And the same identity within the TTL is answered from the cache
    second = get(url, **{"X-Token": "let-me-in"})
    assert second.json()["requestContext"]["authorizer"]["minted"] == found["minted"]


def test_a_token_authorizer_unauthorized_is_401(ripple: Ripple, deploy: Deploy) -> None:
    # Given a REST route with a TOKEN authorizer on Authorization, not cached
    name, authz = f"tokened-{uuid.uuid4().hex[:8]}", f"token-{uuid.uuid4().hex[:8]}"
    authorizer = {"function": authz, "type": "TOKEN",
                  "identity": {"headers": ["Authorization"], "reauthorize_every": 0}}
    deploy(ECHO, name=name, others={authz: TOKEN_AUTHORIZER},
           events=[route(f"/{name}", auth={"authorizer": authorizer})])
    url = f"{ripple.stage_url}/{name}"
    # When the authorizer raises "Unauthorized": 401
    answer = get(url, Authorization="bad")
    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})
    # When it allows: 200, with its principal
    answer = get(url, Authorization="good")
    assert answer.status_code == 200
    assert answer.json()["requestContext"]["authorizer"]["principalId"] == "token-user"


def test_a_token_not_matching_the_validation_expression_is_refused_unasked(
        ripple: Ripple, deploy: Deploy) -> None:
    # Given a TOKEN authorizer that allows anything, behind a validation expression
    name, authz = f"validated-{uuid.uuid4().hex[:8]}", f"allow-{uuid.uuid4().hex[:8]}"
    allow_all = TOKEN_AUTHORIZER.replace('!= "good"', '== "never"')
    authorizer = {"function": authz, "type": "TOKEN", "identity": {
        "headers": ["Authorization"], "validation_expression": "Bearer [a-z]+"}}
    deploy(ECHO, name=name, others={authz: allow_all},
           events=[route(f"/{name}", auth={"authorizer": authorizer})])
    url = f"{ripple.stage_url}/{name}"
    # When the token does not match: 401 though the authorizer would allow it
    answer = get(url, Authorization="Basic abc")
    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})
    # When it matches: the authorizer is asked, and allows
    assert get(url, Authorization="Bearer abc").status_code == 200


def test_an_http_api_authorizer_with_simple_responses(ripple: Ripple, deploy: Deploy) -> None:
    # Given an HTTP API route whose authorizer answers {"isAuthorized": …}
    name, authz = f"simple-{uuid.uuid4().hex[:8]}", f"simple-authz-{uuid.uuid4().hex[:8]}"
    authorizer = {"function": authz, "identity": {"headers": ["authorization"]}}
    deploy(ECHO, name=name, others={authz: SIMPLE_AUTHORIZER},
           events=[route(f"/{name}", "2.0", auth={"authorizer": authorizer})])
    url = f"{ripple.stage_url}/{name}"
    # When it says no: the HTTP API's 403
    answer = get(url, Authorization="nope")
    assert (answer.status_code, answer.json()) == (403, {"message": "Forbidden"})
    # When it says yes: its context under requestContext.authorizer.lambda
    answer = get(url, Authorization="ok")
    assert answer.status_code == 200
    context = answer.json()["requestContext"]["authorizer"]["lambda"]
    assert context["user"] == "u1"
    assert context["route"].endswith(f":ripplehttp/$default/GET/{name}")


def test_a_failing_authorizer_is_a_500(ripple: Ripple, deploy: Deploy) -> None:
    # Given an authorizer that answers something that is not a policy
    name, authz = f"broken-{uuid.uuid4().hex[:8]}", f"broken-authz-{uuid.uuid4().hex[:8]}"
    authorizer = {"function": authz, "identity": {"headers": ["X-Token"]}}
    deploy(ECHO, name=name, others={authz: "def handler(event, context):\n    return 42\n"},
           events=[route(f"/{name}", auth={"authorizer": authorizer})])
    # When a request comes: API Gateway's authorizer configuration error
    answer = get(f"{ripple.stage_url}/{name}", **{"X-Token": "t"})
    assert (answer.status_code, answer.json()) == (500, {"message": None})
    assert answer.headers["x-amzn-errortype"] == "AuthorizerConfigurationException"


def test_a_cached_answer_expires_after_its_ttl(ripple: Ripple, deploy: Deploy) -> None:
    # Given a REQUEST authorizer whose answers are kept 1 s
    name, authz = f"ttl-{uuid.uuid4().hex[:8]}", f"ttl-authz-{uuid.uuid4().hex[:8]}"
    authorizer = {"function": authz, "identity": {"headers": ["X-Token"],
                                                  "reauthorize_every": 1}}
    deploy(ECHO, name=name, others={authz: REQUEST_AUTHORIZER},
           events=[route(f"/{name}", auth={"authorizer": authorizer})])

    def minted() -> str:
        answer = get(f"{ripple.stage_url}/{name}", **{"X-Token": "let-me-in"})
        return str(answer.json()["requestContext"]["authorizer"]["minted"])

    # When the same identity calls twice at once, then again after the TTL
    first, again = minted(), minted()
    time.sleep(1.2)
    later = minted()
    # Then the second answer came from the cache and the third from the authorizer
    assert first == again != later
