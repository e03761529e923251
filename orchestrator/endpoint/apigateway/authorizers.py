"""Lambda authorizers: the stage invokes the authorizer function before the route's, with a
TOKEN or REQUEST event (REST) or a payload 2.0 REQUEST event (HTTP API), and reads back an
IAM policy (`principalId`, `policyDocument`, `context`) or, on an HTTP API with simple
responses, `{"isAuthorized": …, "context": …}`.

Answers are cached per authorizer and identity source values for `reauthorize_every`
seconds; a REST policy is cached, then matched against each request's `methodArn`. A request
missing an identity source, or a token its `validation_expression` does not match, is
refused (401) without invoking the authorizer, as on AWS.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qsl, unquote

from orchestrator.endpoint.apigateway.responses import Failure
from orchestrator.endpoint.apigateway.routes import REST_FORMAT, Route
from orchestrator.endpoint.apigateway.verdicts import Verdict
from orchestrator.errors import AwsError
from orchestrator.events.apigateway import HttpRequest
from orchestrator.events.apigateway_authorizer import (
    execute_api_arn,
    http_request_event,
    rest_request_event,
    token_event,
)
from orchestrator.invocations.invoke import InvokeService
from orchestrator.spec.api_access import Authorizer

log = logging.getLogger("ripple.apigateway")
AUTHORIZER_TIMEOUT = 10.0  # seconds API Gateway gives an authorizer
CACHE_LIMIT = 10_000  # cached answers kept at most


class MalformedPolicy(ValueError):
    """The authorizer answered something that is not an authorizer response."""


class LambdaAuthorizers:
    def __init__(self, invoke: InvokeService, region: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.invoke = invoke
        self.region = region
        self.clock = clock
        self._cache: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}

    async def authorize(self, authorizer: Authorizer, route: Route, request: HttpRequest,
                        proxy_event: dict[str, Any], api_id: str, stage: str) -> Verdict:
        identity = identity_values(authorizer, request)
        if identity is None:
            return Verdict(Failure.UNAUTHORIZED)
        rest = route.payload_format == REST_FORMAT
        arn = execute_api_arn(api_id, stage, request.method, unquote(request.path), self.region)
        if rest and authorizer.type == "TOKEN":
            expression = authorizer.identity.validation_expression
            if expression is not None and not re.fullmatch(expression, identity[0]):
                return Verdict(Failure.UNAUTHORIZED)
            event = token_event(identity[0], arn)
        elif rest:
            event = rest_request_event(proxy_event, arn)
        else:
            event = http_request_event(proxy_event, arn, identity)
        cache_key = (authorizer.function, authorizer.type, route.payload_format, *identity)
        started = self.clock()
        response = self._cached(cache_key)
        if response is None:
            invoked = await self._invoke(str(authorizer.function), event)
            if isinstance(invoked, Verdict):
                return invoked
            response = invoked
            if authorizer.identity.reauthorize_every:
                self._remember(cache_key, started + authorizer.identity.reauthorize_every,
                               response)
        latency = int((self.clock() - started) * 1000)
        try:
            return decide(response, arn, rest, authorizer.simple_responses, latency)
        except MalformedPolicy as error:
            log.warning("authorizer %s answered %s: %s", authorizer.function, response, error)
            return Verdict(Failure.AUTHORIZER_ERROR)

    def _remember(self, key: tuple[Any, ...], expires: float, response: dict[str, Any]) -> None:
        if len(self._cache) >= CACHE_LIMIT:  # many identities: forget the expired answers
            now = self.clock()
            self._cache = {kept: entry for kept, entry in self._cache.items() if entry[0] > now}
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.pop(next(iter(self._cache)))  # the oldest
        self._cache[key] = (expires, response)

    def _cached(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        found = self._cache.get(key)
        if found is None:
            return None
        if found[0] <= self.clock():
            del self._cache[key]
            return None
        return found[1]

    async def _invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any] | Verdict:
        try:
            result = await asyncio.wait_for(
                self.invoke.invoke(function, json.dumps(event).encode(), trigger="http"),
                AUTHORIZER_TIMEOUT)
        except (TimeoutError, AwsError) as error:
            log.warning("authorizer %s failed: %s", function, error)
            return Verdict(Failure.AUTHORIZER_ERROR)
        try:
            response = json.loads(result.payload or b"null")
        except ValueError:
            response = None
        if result.function_error:
            # Raising Exception("Unauthorized") is how an authorizer says 401.
            unauthorized = isinstance(response, dict) and \
                response.get("errorMessage") == "Unauthorized"
            return Verdict(Failure.UNAUTHORIZED if unauthorized else Failure.AUTHORIZER_ERROR)
        if not isinstance(response, dict):
            log.warning("authorizer %s answered %r, not a JSON object", function, response)
            return Verdict(Failure.AUTHORIZER_ERROR)
        return response


def identity_values(authorizer: Authorizer, request: HttpRequest) -> list[str] | None:
    """The identity source values in order, or None when one is missing or empty."""
    values = [request.header(name) for name in authorizer.identity.headers]
    query = dict(parse_qsl(request.query, keep_blank_values=True))
    values += [query.get(name, "") for name in authorizer.identity.query_strings]
    return values if values and all(values) else None


def decide(response: dict[str, Any], arn: str, rest: bool, simple: bool,
           latency: int) -> Verdict:
    """The verdict an authorizer's response gives for the request at `arn`."""
    context = response.get("context") or {}
    if not isinstance(context, dict):
        raise MalformedPolicy("context must be an object")
    if rest and any(isinstance(value, dict | list) for value in context.values()):
        raise MalformedPolicy("a REST authorizer's context values must be strings, numbers "
                              "or booleans")
    if not rest and simple and "policyDocument" not in response:
        allowed = response.get("isAuthorized")
        if not isinstance(allowed, bool):
            raise MalformedPolicy("isAuthorized must be true or false")
        return Verdict(None if allowed else Failure.DENIED, {"lambda": context})
    if "principalId" not in response and rest:
        raise MalformedPolicy("principalId is missing")
    if not policy_allows(response.get("policyDocument"), arn):
        return Verdict(Failure.DENIED)
    if not rest:
        return Verdict(None, {"lambda": context})
    usage_key = response.get("usageIdentifierKey")
    return Verdict(None, {**context, "principalId": str(response["principalId"]),
                          "integrationLatency": latency},
                   usage_key=usage_key if isinstance(usage_key, str) else None)


def policy_allows(policy: Any, arn: str) -> bool:
    """IAM's rule: an explicit Deny wins, else an Allow is needed."""
    if not isinstance(policy, dict):
        raise MalformedPolicy("policyDocument must be an object")
    statements = policy.get("Statement")
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list):
        raise MalformedPolicy("policyDocument.Statement must be a list")
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise MalformedPolicy("each statement needs Effect Allow or Deny")
        actions = _strings(statement.get("Action"))
        resources = _strings(statement.get("Resource"))
        if any(fnmatchcase("execute-api:Invoke", action) for action in actions) and \
                any(fnmatchcase(arn, resource) for resource in resources):
            if statement["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


def _strings(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
        raise MalformedPolicy("Action and Resource must be strings or lists of strings")
    return values
