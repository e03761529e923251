"""One stage request: route it, build the proxy event, invoke the function synchronously
through the same in-process path as Lambda's Invoke API, and answer as API Gateway would.

Routes with payload format 1.0 belong to a REST API (`ripplerest`, stage `Prod`, as SAM names
its implicit API's stage); routes with 2.0 to an HTTP API (`ripplehttp`, stage `$default`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import uuid
from dataclasses import dataclass

from orchestrator.endpoint.apigateway import cors
from orchestrator.endpoint.apigateway.access import Access
from orchestrator.endpoint.apigateway.cors import is_preflight
from orchestrator.endpoint.apigateway.responses import (
    Answer,
    Failure,
    MalformedResponse,
    function_answer,
    gateway_answer,
)
from orchestrator.endpoint.apigateway.routes import REST_FORMAT, LiveRoutes, RouteMatch
from orchestrator.endpoint.apigateway.spans import StageSpan
from orchestrator.errors import AwsError, RequestTooLarge, TooManyRequests
from orchestrator.events.apigateway import HttpRequest, http_event, rest_event
from orchestrator.invocations.invoke import InvokeService

REST_API_ID = "ripplerest"
REST_STAGE = "Prod"
HTTP_API_ID = "ripplehttp"
HTTP_STAGE = "$default"
BODY_LIMIT = 10 * 1024 * 1024  # API Gateway's payload limit
# How long API Gateway waits for an integration: 29 s (REST API), 30 s (HTTP API).
INTEGRATION_TIMEOUT = {REST_FORMAT: 29.0, "2.0": 30.0}


@dataclass(frozen=True)
class RequestIds:
    """A request's ids: `requestId` (a UUID for a REST API, a short id for an HTTP API) and
    the REST API's `extendedRequestId`."""

    request_id: str
    extended_request_id: str

    @classmethod
    def new(cls, payload_format: str) -> RequestIds:
        short = base64.b64encode(os.urandom(10)).decode()
        return cls(str(uuid.uuid4()) if payload_format == REST_FORMAT else short, short)


def api_of(payload_format: str) -> tuple[str, str]:
    """(api id, stage name) of the API a payload format belongs to."""
    return (REST_API_ID, REST_STAGE) if payload_format == REST_FORMAT else (HTTP_API_ID,
                                                                           HTTP_STAGE)


class Stage:
    def __init__(self, routes: LiveRoutes, invoke: InvokeService, host: str, port: int,
                 region: str = "us-east-1") -> None:
        self.routes = routes
        self.invoke = invoke
        self.host = host
        self.port = port
        self.access = Access(invoke, region)

    def route(self, request: HttpRequest) -> RouteMatch | None:
        found = self.routes.table().match(request.method, request.path)
        if found is None:  # perhaps a route deployed a moment ago
            found = self.routes.reload().match(request.method, request.path)
        return found

    async def handle(self, request: HttpRequest, oversized: bool = False) -> Answer:
        """Answer one request; `oversized` when its body passed BODY_LIMIT unread."""
        found = self.route(request)
        with_cors = self.routes.table().cors_for(request.path)
        payload_format = (found.route.payload_format if found
                          else with_cors[0].payload_format if with_cors
                          else self.routes.table().unmatched_format(request.path))
        ids = RequestIds.new(payload_format)
        api_id, stage = api_of(payload_format)
        with StageSpan(request, found, api_id, stage, (self.host, self.port)) as span:
            preflight = with_cors is not None and is_preflight(request)
            if with_cors is not None and preflight:
                answer = cors.preflight(with_cors[1], request, payload_format)
            elif found is None:
                answer = gateway_answer(payload_format, Failure.NO_ROUTE)
            elif oversized or len(request.body) > BODY_LIMIT:
                answer = gateway_answer(payload_format, Failure.TOO_LARGE)
            else:
                forwarded = _forwarded(request, span.trace_header, self.port)
                answer = await self._invoke(forwarded, found, ids)
            if with_cors is not None and not preflight and payload_format != REST_FORMAT:
                cors.decorate(answer, with_cors[1], request)
            answer.headers += [("x-amzn-RequestId", ids.request_id),
                               ("X-Amzn-Trace-Id", span.trace_header)]
            if payload_format == REST_FORMAT:
                answer.headers.append(("x-amz-apigw-id", ids.extended_request_id))
            else:
                answer.headers.append(("apigw-requestid", ids.request_id))
            span.answered(answer.status)
            return answer

    async def _invoke(self, request: HttpRequest, found: RouteMatch, ids: RequestIds) -> Answer:
        route = found.route
        payload_format = route.payload_format
        api_id, stage = api_of(payload_format)
        domain = request.header("host") or f"{self.host}:{self.port}"
        if payload_format == REST_FORMAT:
            event = rest_event(request, resource=route.path, path_parameters=found.path_parameters,
                               api_id=api_id, stage=stage, request_id=ids.request_id,
                               extended_request_id=ids.extended_request_id, domain_name=domain,
                               resource_id=resource_id(route.path))
        else:
            event = http_event(request, route_key=route.route_key,
                               path_parameters=found.path_parameters, api_id=api_id,
                               request_id=ids.request_id, domain_name=domain, stage=stage)
        verdict = await self.access.check(route, request, event, api_id, stage)
        if verdict.failure is not None:
            answer = gateway_answer(payload_format, verdict.failure)
            answer.headers += verdict.headers
            return answer
        try:
            result = await asyncio.wait_for(
                self.invoke.invoke(route.function, json.dumps(event).encode(), trigger="http"),
                INTEGRATION_TIMEOUT[payload_format])
        except TimeoutError:
            return gateway_answer(payload_format, Failure.TIMEOUT)
        except TooManyRequests:
            return gateway_answer(payload_format, Failure.THROTTLED)
        except RequestTooLarge:
            return gateway_answer(payload_format, Failure.TOO_LARGE)
        except AwsError:
            return gateway_answer(payload_format, Failure.FUNCTION_ERROR)
        if result.function_error:  # a function that timed out too, as on AWS
            return gateway_answer(payload_format, Failure.FUNCTION_ERROR)
        try:
            return function_answer(payload_format, result.payload)
        except MalformedResponse:
            return gateway_answer(payload_format, Failure.FUNCTION_ERROR)


def resource_id(path: str) -> str:
    """A REST API resource's id: six characters, the same for the same path."""
    return hashlib.sha1(path.encode()).hexdigest()[:6]


def _forwarded(request: HttpRequest, trace_header: str, port: int) -> HttpRequest:
    """The request as API Gateway hands it on: with its own trace header and the
    `X-Forwarded-*` headers set."""
    replaced = {"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
    kept = tuple((name, value) for name, value in request.headers
                 if name.lower() not in replaced)
    chain = request.header("x-forwarded-for")
    added = (("x-amzn-trace-id", trace_header),
             ("x-forwarded-for", f"{chain}, {request.source_ip}" if chain else request.source_ip),
             ("x-forwarded-port", str(port)), ("x-forwarded-proto", "http"))
    return HttpRequest(request.method, request.path, request.query, kept + added, request.body,
                       request.source_ip, request.protocol, request.received)

