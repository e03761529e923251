"""Function URLs: Create/Get/Update/Delete/ListFunctionUrlConfig(s), and the URL itself.

A function URL is served by this endpoint at `/_ripple/url/<url id>/` (Lambda's own are
`https://<url id>.lambda-url.<region>.on.aws/`): every method on every path below it reaches
the function (or the alias the URL names) as a payload 2.0 event with the URL's domain, and
its answer is read as an HTTP API reads one (API Gateway's event and response machinery).
A URL's Cors is applied as an HTTP API applies its CORS configuration (the preflight answered
without the function, the allow-origin header on answers); AuthType AWS_IAM is recorded and
shown, not enforced."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from orchestrator.endpoint.apigateway.cors import decorate, is_preflight, preflight
from orchestrator.endpoint.apigateway.responses import (
    Answer,
    MalformedResponse,
    function_answer,
)
from orchestrator.endpoint.apigateway.stage import RequestIds
from orchestrator.endpoint.lambda_control.requests import (
    body_of,
    field,
    function_arn,
    latest,
    registry,
    versions,
)
from orchestrator.errors import (
    AwsError,
    InvalidParameterValue,
    ResourceConflict,
    ResourceNotFound,
    TooManyRequests,
)
from orchestrator.events.apigateway import HttpRequest, http_event
from orchestrator.functions.urls import FunctionUrl, FunctionUrls
from orchestrator.functions.versions import LATEST
from orchestrator.invocations.invoke import function_name, function_qualifier
from orchestrator.services.calls import name_operation
from orchestrator.spec.api_access import Cors

router = APIRouter()
PATH = "/2021-10-31/functions/{name}/url"
SERVED = "/_ripple/url/{url_id}"
AUTH_TYPES = ("NONE", "AWS_IAM")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
PAYLOAD_FORMAT = "2.0"


@router.post(PATH, status_code=201)
async def create_url(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "CreateFunctionUrlConfig", {"faas.invoked_name": function_name(name)})
    body = await body_of(request)
    function, qualifier = _target(request, name)
    urls = FunctionUrls(registry(request).redis)
    if urls.of(function, qualifier) is not None:
        raise ResourceConflict(f"Failed to create function url config for [functionArn = "
                               f"{function_arn(function, qualifier)}]. Error message:  "
                               "FunctionUrlConfig exists for this Lambda function")
    url = FunctionUrl(function=function, qualifier=qualifier,
                      auth_type=_auth_type(field(body, "AuthType", str, required=True)),
                      cors=_checked_cors(field(body, "Cors", dict)),
                      invoke_mode=_invoke_mode(field(body, "InvokeMode", str)))
    urls.put(url)
    return _shape(request, url)


@router.get(PATH)
async def get_url(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "GetFunctionUrlConfig", {"faas.invoked_name": function_name(name)})
    url = _existing(request, name)
    return {**_shape(request, url), "LastModifiedTime": url.modified}


@router.put(PATH)
async def update_url(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "UpdateFunctionUrlConfig", {"faas.invoked_name": function_name(name)})
    body = await body_of(request)
    url = _existing(request, name)
    update: dict[str, Any] = {}
    if body.get("AuthType") is not None:
        update["auth_type"] = _auth_type(field(body, "AuthType", str))
    if body.get("Cors") is not None:
        update["cors"] = _checked_cors(field(body, "Cors", dict))
    if body.get("InvokeMode") is not None:
        update["invoke_mode"] = _invoke_mode(field(body, "InvokeMode", str))
    url = url.model_copy(update=update).touched()
    FunctionUrls(registry(request).redis).put(url)
    return {**_shape(request, url), "LastModifiedTime": url.modified}


@router.delete(PATH, status_code=204)
async def delete_url(name: str, request: Request) -> Response:
    name_operation("Lambda", "DeleteFunctionUrlConfig", {"faas.invoked_name": function_name(name)})
    FunctionUrls(registry(request).redis).delete(_existing(request, name).url_id)
    return Response(status_code=204)


@router.get("/2021-10-31/functions/{name}/urls")
async def list_urls(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "ListFunctionUrlConfigs", {"faas.invoked_name": function_name(name)})
    function = latest(request, name)
    urls = [url for url in FunctionUrls(registry(request).redis).all()
            if url.function == function.name]
    return {"FunctionUrlConfigs": [{**_shape(request, url), "LastModifiedTime": url.modified}
                                   for url in urls]}


@router.api_route(SERVED, methods=METHODS, include_in_schema=False)
@router.api_route(SERVED + "/{path:path}", methods=METHODS, include_in_schema=False)
async def serve(url_id: str, request: Request, path: str = "") -> Response:
    """A request to a function URL, answered as Lambda's URL answers it."""
    url = FunctionUrls(registry(request).redis).by_id(url_id)
    if url is None:
        return _plain(404, "Not Found")
    scope = request.scope
    http_request = HttpRequest(
        method=request.method, path="/" + quote(path),
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=tuple((name.decode("latin-1"), value.decode("latin-1"))
                      for name, value in scope["headers"]),
        body=await request.body(),
        source_ip=request.client.host if request.client else "127.0.0.1",
        protocol=f"HTTP/{scope.get('http_version', '1.1')}")
    cors = _cors(url.cors) if url.cors else None
    if cors is not None and is_preflight(http_request):
        return _response(preflight(cors, http_request, PAYLOAD_FORMAT), "")
    ids = RequestIds.new(PAYLOAD_FORMAT)
    event = http_event(http_request, route_key="$default", path_parameters={}, api_id=url_id,
                       request_id=ids.request_id,
                       domain_name=f"{url_id}.lambda-url.{request.app.state.settings.region}"
                                   ".on.aws")
    try:
        result = await request.app.state.invoke.invoke(
            url.function, json.dumps(event).encode(), trigger="http", qualifier=url.qualifier)
    except TooManyRequests:
        return _plain(429, "Too Many Requests")
    except ResourceNotFound:
        return _plain(404, "Not Found")
    except AwsError:
        return _plain(502, "Internal Server Error")
    if result.function_error:
        return _plain(502, "Internal Server Error")
    try:
        answer = function_answer(PAYLOAD_FORMAT, result.payload)
    except MalformedResponse:
        return _plain(502, "Internal Server Error")
    if cors is not None:
        decorate(answer, cors, http_request)
    return _response(answer, result.request_id)


def _response(answer: Answer, request_id: str) -> Response:
    response = Response(answer.body, status_code=answer.status)
    extra = [("x-amzn-RequestId", request_id)] if request_id else []
    response.raw_headers += [(name.encode("latin-1", "replace"),
                              value.encode("latin-1", "replace"))
                             for name, value in [*answer.headers, *extra]]
    return response


def _cors(given: dict[str, Any]) -> Cors:
    """Lambda's Cors structure as the stage's CORS settings."""
    try:
        return Cors(allow_origins=given.get("AllowOrigins") or [],
                    allow_methods=given.get("AllowMethods") or ["*"],
                    allow_headers=given.get("AllowHeaders") or [],
                    expose_headers=given.get("ExposeHeaders") or [],
                    max_age=given.get("MaxAge"),
                    allow_credentials=bool(given.get("AllowCredentials")))
    except ValidationError as error:
        reasons = "; ".join(str(problem["msg"]) for problem in error.errors())
        for spec_name, lambda_name in (("allow_credentials", "AllowCredentials"),
                                       ("allow_origins", "AllowOrigins")):
            reasons = reasons.replace(spec_name, lambda_name)  # in the caller's words
        raise InvalidParameterValue(f"Cors: {reasons}") from None


def _checked_cors(given: dict[str, Any] | None) -> dict[str, Any]:
    if given:
        _cors(given)
    return given or {}


def _plain(status: int, message: str) -> Response:
    return Response(json.dumps({"Message": message}), status_code=status,
                    media_type="application/json")


def _target(request: Request, name: str) -> tuple[str, str]:
    """(function, qualifier) a URL call names: $LATEST or an alias, as on Lambda."""
    function = latest(request, name).name
    qualifier = function_qualifier(name, request.query_params.get("Qualifier"))
    if qualifier == LATEST:
        return function, qualifier
    if qualifier.isdigit():
        raise InvalidParameterValue("A function URL names $LATEST or an alias, not a version")
    if versions(request).alias(function, qualifier) is None:
        raise ResourceNotFound(f"Function not found: {function_arn(function, qualifier)}")
    return function, qualifier


def _existing(request: Request, name: str) -> FunctionUrl:
    function, qualifier = _target(request, name)
    url = FunctionUrls(registry(request).redis).of(function, qualifier)
    if url is None:
        raise ResourceNotFound("The resource you requested does not exist.")
    return url


def _auth_type(value: str | None) -> str:
    if value not in AUTH_TYPES:
        raise InvalidParameterValue(f"1 validation error detected: Value '{value}' at "
                                    "'authType' failed to satisfy constraint: Member must "
                                    "satisfy enum value set: [AWS_IAM, NONE]")
    return value


def _invoke_mode(value: str | None) -> str:
    if value not in (None, "BUFFERED"):
        raise InvalidParameterValue("ripple's function URLs answer BUFFERED only: "
                                    "RESPONSE_STREAM is not supported")
    return "BUFFERED"


def _shape(request: Request, url: FunctionUrl) -> dict[str, Any]:
    """CreateFunctionUrlConfig's answer (the others add LastModifiedTime)."""
    base = str(request.base_url).rstrip("/")
    answer: dict[str, Any] = {
        "FunctionUrl": f"{base}/_ripple/url/{url.url_id}/",
        "FunctionArn": function_arn(url.function, url.qualifier),
        "AuthType": url.auth_type, "CreationTime": url.created, "InvokeMode": url.invoke_mode,
    }
    if url.cors:
        answer["Cors"] = url.cors
    return answer
