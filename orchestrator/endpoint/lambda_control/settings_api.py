"""A function's invocation settings through Lambda's API: reserved concurrency
(Put/Get/DeleteFunctionConcurrency) and asynchronous invocation
(Put/Get/Update/DeleteFunctionEventInvokeConfig: retries, maximum event age, the failure
destination). Both are fields of the FunctionConfig the spec sets too."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response

from orchestrator.endpoint.lambda_control.configuration import destination
from orchestrator.endpoint.lambda_control.deploy import register
from orchestrator.endpoint.lambda_control.requests import (
    body_of,
    field,
    latest,
    registry,
)
from orchestrator.errors import InvalidParameterValue, ResourceNotFound
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.extras import FunctionExtras
from orchestrator.functions.versions import LATEST
from orchestrator.invocations.invoke import function_name, function_qualifier
from orchestrator.services.calls import name_operation

router = APIRouter()
DEFAULTS = {"retries": 2, "max_event_age": 21_600, "on_failure": None}
INVOKE_CONFIG = "event_invoke_config"


@router.put("/2017-10-31/functions/{name}/concurrency")
async def put_concurrency(name: str, request: Request) -> dict[str, int]:
    name_operation("Lambda", "PutFunctionConcurrency", {"faas.invoked_name": function_name(name)})
    body = await body_of(request)
    function = latest(request, name)
    reserved = field(body, "ReservedConcurrentExecutions", int, required=True) or 0
    account = request.app.state.settings.account_concurrency
    if not 0 <= reserved <= account:
        raise InvalidParameterValue(f"Specified ReservedConcurrentExecutions for function "
                                    f"must be between 0 and the account's limit ({account}), "
                                    f"not {reserved}.")
    register(request, function.model_copy(update={"reserved_concurrency": reserved}))
    return {"ReservedConcurrentExecutions": reserved}


@router.get("/2019-09-30/functions/{name}/concurrency")
async def get_concurrency(name: str, request: Request) -> dict[str, int]:
    name_operation("Lambda", "GetFunctionConcurrency", {"faas.invoked_name": function_name(name)})
    function = latest(request, name)
    if function.reserved_concurrency is None:
        return {}
    return {"ReservedConcurrentExecutions": function.reserved_concurrency}


@router.delete("/2017-10-31/functions/{name}/concurrency", status_code=204)
async def delete_concurrency(name: str, request: Request) -> Response:
    name_operation("Lambda", "DeleteFunctionConcurrency",
                   {"faas.invoked_name": function_name(name)})
    function = latest(request, name)
    register(request, function.model_copy(update={"reserved_concurrency": None}))
    return Response(status_code=204)


@router.put("/2019-09-25/functions/{name}/event-invoke-config")
async def put_invoke_config(name: str, request: Request) -> dict[str, Any]:
    """Replaces the whole configuration: what the body leaves out returns to its default."""
    name_operation("Lambda", "PutFunctionEventInvokeConfig",
                   {"faas.invoked_name": function_name(name)})
    return await _configure(name, request, replace=True)


@router.post("/2019-09-25/functions/{name}/event-invoke-config")
async def update_invoke_config(name: str, request: Request) -> dict[str, Any]:
    """Changes only what the body names."""
    name_operation("Lambda", "UpdateFunctionEventInvokeConfig",
                   {"faas.invoked_name": function_name(name)})
    return await _configure(name, request, replace=False)


@router.get("/2019-09-25/functions/{name}/event-invoke-config")
async def get_invoke_config(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "GetFunctionEventInvokeConfig",
                   {"faas.invoked_name": function_name(name)})
    function = _unqualified(request, name)
    stored = FunctionExtras(registry(request).redis).get(function.name, INVOKE_CONFIG)
    if stored is None:
        raise ResourceNotFound(f"The function {function.arn} doesn't have an EventInvokeConfig")
    return _shape(function, stored)


@router.delete("/2019-09-25/functions/{name}/event-invoke-config", status_code=204)
async def delete_invoke_config(name: str, request: Request) -> Response:
    name_operation("Lambda", "DeleteFunctionEventInvokeConfig",
                   {"faas.invoked_name": function_name(name)})
    function = _unqualified(request, name)
    if not FunctionExtras(registry(request).redis).delete(function.name, INVOKE_CONFIG):
        raise ResourceNotFound(f"The function {function.arn} doesn't have an EventInvokeConfig")
    register(request, function.model_copy(update=DEFAULTS))
    return Response(status_code=204)


async def _configure(name: str, request: Request, replace: bool) -> dict[str, Any]:
    body = await body_of(request)
    function = _unqualified(request, name)
    update: dict[str, Any] = dict(DEFAULTS) if replace else {}
    retries = field(body, "MaximumRetryAttempts", int)
    if retries is not None:
        if not 0 <= retries <= 2:
            raise InvalidParameterValue(f"1 validation error detected: Value '{retries}' at "
                                        "'maximumRetryAttempts' failed to satisfy constraint: "
                                        "Member must have value between 0 and 2")
        update["retries"] = retries
    age = field(body, "MaximumEventAgeInSeconds", int)
    if age is not None:
        if not 60 <= age <= 21_600:
            raise InvalidParameterValue(f"1 validation error detected: Value '{age}' at "
                                        "'maximumEventAgeInSeconds' failed to satisfy "
                                        "constraint: Member must have value between 60 and "
                                        "21600")
        update["max_event_age"] = age
    destinations = field(body, "DestinationConfig", dict) or {}
    if (destinations.get("OnSuccess") or {}).get("Destination"):
        raise InvalidParameterValue("ripple sends failed events only: an OnSuccess "
                                    "destination is not supported")
    extras = FunctionExtras(registry(request).redis)
    stored = {} if replace else (extras.get(function.name, INVOKE_CONFIG) or {})
    on_failure = (destinations.get("OnFailure") or {}).get("Destination")
    if on_failure is not None or replace:
        update["on_failure"] = destination(on_failure)
        stored["on_failure"] = on_failure or None
    if update.get("on_failure") and update["on_failure"] != "dlq" and \
            registry(request).get(update["on_failure"]) is None:
        raise InvalidParameterValue(f"The destination function {on_failure} does not exist")
    stored["last_modified"] = time.time()
    function = function.model_copy(update=update)
    register(request, function)
    extras.put(function.name, INVOKE_CONFIG, stored)
    return _shape(function, stored)


def _unqualified(request: Request, name: str) -> FunctionConfig:
    """$LATEST: ripple keeps one invoke configuration per function, not per version."""
    if function_qualifier(name, request.query_params.get("Qualifier")) != LATEST:
        raise InvalidParameterValue("ripple keeps one event invoke configuration per "
                                    "function: leave out the Qualifier (or use $LATEST)")
    return latest(request, name)


def _shape(function: FunctionConfig, stored: dict[str, Any]) -> dict[str, Any]:
    """Lambda's FunctionEventInvokeConfig."""
    answer: dict[str, Any] = {
        "LastModified": stored.get("last_modified", 0.0),
        "FunctionArn": f"{function.arn}:{LATEST}",  # qualified, as Lambda gives it
        "MaximumRetryAttempts": function.retries,
        "MaximumEventAgeInSeconds": function.max_event_age,
    }
    if stored.get("on_failure"):
        answer["DestinationConfig"] = {"OnFailure": {"Destination": stored["on_failure"]},
                                       "OnSuccess": {}}
    return answer
