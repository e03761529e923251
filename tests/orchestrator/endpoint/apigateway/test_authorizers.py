"""Lambda authorizers without a stack: the events they get (checked by Powertools' models),
how their answers are read, and the IAM rule for policies."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    ApiGatewayAuthorizerRequest,
    ApiGatewayAuthorizerRequestV2,
    ApiGatewayAuthorizerToken,
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
)

from orchestrator.endpoint.apigateway.authorizers import (
    MalformedPolicy,
    decide,
    identity_values,
    policy_allows,
)
from orchestrator.endpoint.apigateway.responses import Failure
from orchestrator.events.apigateway import HttpRequest, http_event, rest_event
from orchestrator.events.apigateway_authorizer import (
    execute_api_arn,
    http_request_event,
    rest_request_event,
    token_event,
    with_authorizer,
)
from orchestrator.settings import ACCOUNT_ID
from orchestrator.spec.api_access import Authorizer

REQUEST = HttpRequest("GET", "/pets/7", "q=1", (("authorization", "t0k"), ("x-a", "b")))
ARN = execute_api_arn("ripplerest", "Prod", "GET", "/pets/7", "us-east-1")


def policy(effect: str, resource: str | list[str]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}


def test_the_events_are_the_shapes_api_gateway_sends() -> None:
    # Given the proxy events a REST and an HTTP API build for one request
    rest = rest_event(REQUEST, resource="/pets/{id}", path_parameters={"id": "7"},
                      api_id="ripplerest", stage="Prod", request_id="r", extended_request_id="e",
                      domain_name="localhost:3000")
    http = http_event(REQUEST, route_key="GET /pets/{id}", path_parameters={"id": "7"},
                      api_id="ripplehttp", request_id="r", domain_name="localhost:3000")
    # When the authorizer events are made from them
    # Then each validates as AWS's own event
    assert f"arn:aws:execute-api:us-east-1:{ACCOUNT_ID}:ripplerest/Prod/GET/pets/7" == ARN
    ApiGatewayAuthorizerToken.model_validate(token_event("t0k", ARN))
    request = rest_request_event(rest, ARN)
    ApiGatewayAuthorizerRequest.model_validate(request)
    assert "body" not in request and request["pathParameters"] == {"id": "7"}
    request_v2 = http_request_event(http, ARN, ["t0k"])
    ApiGatewayAuthorizerRequestV2.model_validate(request_v2)
    assert request_v2["identitySource"] == ["t0k"]
    # And the proxy events still validate with the authorizer's part added
    APIGatewayProxyEventModel.model_validate(
        with_authorizer(rest, {"principalId": "p", "integrationLatency": 3}, "k" * 20))
    assert rest["requestContext"]["identity"]["apiKey"] == "k" * 20
    APIGatewayProxyEventV2Model.model_validate(with_authorizer(http, {"lambda": {"u": "1"}}))


def test_identity_sources_are_read_and_a_missing_one_is_none() -> None:
    both = Authorizer.model_validate({"function": "a", "identity": {
        "headers": ["Authorization"], "query_strings": ["q"]}})
    assert identity_values(both, REQUEST) == ["t0k", "1"]
    absent = Authorizer.model_validate({"function": "a", "identity": {"headers": ["x-none"]}})
    assert identity_values(absent, REQUEST) is None


@pytest.mark.parametrize(("statements", "allowed"), [
    (policy("Allow", ARN), True),
    (policy("Allow", f"arn:aws:execute-api:us-east-1:{ACCOUNT_ID}:ripplerest/Prod/*"), True),
    (policy("Allow", "arn:aws:execute-api:*:*:ripplerest/*/POST/*"), False),
    (policy("Deny", ARN), False),
    ({"Statement": [*policy("Allow", "*")["Statement"], *policy("Deny", ARN)["Statement"]]},
     False),
    ({"Statement": {"Action": "*", "Effect": "Allow", "Resource": [ARN]}}, True),
])
def test_an_explicit_deny_wins_and_an_allow_is_needed(statements: dict[str, Any],
                                                      allowed: bool) -> None:
    assert policy_allows(statements, ARN) is allowed


def test_answers_become_verdicts() -> None:
    # A REST policy: principal and context flat under requestContext.authorizer
    verdict = decide({"principalId": "p", "policyDocument": policy("Allow", ARN),
                      "context": {"a": 1}}, ARN, rest=True, simple=False, latency=4)
    assert verdict.failure is None
    assert verdict.authorizer == {"a": 1, "principalId": "p", "integrationLatency": 4}
    # A simple HTTP API answer: context under `lambda`, a no is a deny
    verdict = decide({"isAuthorized": False}, ARN, rest=False, simple=True, latency=0)
    assert verdict.failure is Failure.DENIED
    # Nonsense is malformed: a REST context may not nest, isAuthorized must be a bool
    with pytest.raises(MalformedPolicy):
        decide({"principalId": "p", "policyDocument": policy("Allow", ARN),
                "context": {"a": {"b": 1}}}, ARN, rest=True, simple=False, latency=0)
    with pytest.raises(MalformedPolicy):
        decide({"isAuthorized": "yes"}, ARN, rest=False, simple=True, latency=0)
