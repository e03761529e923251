"""The events a Lambda authorizer receives, exactly as API Gateway sends them: a REST API's
TOKEN and REQUEST events and an HTTP API's payload 2.0 REQUEST event. Each is built from the
proxy event the route's function would get, so both see the same request.
"""

from __future__ import annotations

import hashlib
from typing import Any

from orchestrator.settings import ACCOUNT_ID

# A REST REQUEST authorizer gets the proxy event without its body.
_REST_REQUEST_FIELDS = ("resource", "path", "httpMethod", "headers", "multiValueHeaders",
                        "queryStringParameters", "multiValueQueryStringParameters",
                        "pathParameters", "stageVariables", "requestContext")
_HTTP_REQUEST_FIELDS = ("routeKey", "rawPath", "rawQueryString", "cookies", "headers",
                        "queryStringParameters", "requestContext", "pathParameters",
                        "stageVariables")


def execute_api_arn(api_id: str, stage: str, method: str, path: str, region: str,
                    account_id: str = ACCOUNT_ID) -> str:
    """`arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`: the
    `methodArn` (REST) or `routeArn` (HTTP) a policy's Resource is matched against."""
    return (f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{method}/"
            f"{path.lstrip('/')}")


def token_event(token: str, method_arn: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}


def rest_request_event(proxy_event: dict[str, Any], method_arn: str) -> dict[str, Any]:
    return {"type": "REQUEST", "methodArn": method_arn,
            **{name: proxy_event.get(name) for name in _REST_REQUEST_FIELDS}}


def http_request_event(proxy_event: dict[str, Any], route_arn: str,
                       identity_source: list[str]) -> dict[str, Any]:
    """Payload 2.0; absent parts (cookies, query, path parameters) are left out, as in the
    proxy event."""
    event: dict[str, Any] = {"version": "2.0", "type": "REQUEST", "routeArn": route_arn,
                             "identitySource": identity_source}
    event.update({name: proxy_event[name] for name in _HTTP_REQUEST_FIELDS
                  if name in proxy_event})
    return event


def with_authorizer(proxy_event: dict[str, Any], authorizer: dict[str, Any] | None,
                    api_key: str | None = None) -> dict[str, Any]:
    """The proxy event with what the stage learnt before invoking: `requestContext.authorizer`
    (REST: principalId and context flat; HTTP: under `lambda` or `jwt`) and, on a REST API,
    the API key in `identity.apiKey`."""
    context = proxy_event["requestContext"]
    if authorizer is not None:
        context["authorizer"] = authorizer
    if api_key is not None and "identity" in context:
        context["identity"]["apiKey"] = api_key
        context["identity"]["apiKeyId"] = api_key_id(api_key)
    return proxy_event


def api_key_id(api_key: str) -> str:
    """A key's id as API Gateway shows it: ten characters, the same for the same key."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:10]
