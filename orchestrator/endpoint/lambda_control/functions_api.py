"""Lambda's function operations: CreateFunction, GetFunction, GetFunctionConfiguration,
ListFunctions, UpdateFunctionCode, UpdateFunctionConfiguration and DeleteFunction.

A function is ready as soon as it is registered (workers fetch code on first use), so its
State is Active and LastUpdateStatus Successful at once: `aws lambda wait function-active`
and `function-updated` pass on their first look."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from orchestrator.endpoint.lambda_control.code import store_code
from orchestrator.endpoint.lambda_control.configuration import (
    check_revision,
    configuration,
    configure,
    valid_name,
)
from orchestrator.endpoint.lambda_control.deploy import register, unregister
from orchestrator.endpoint.lambda_control.requests import (
    body_of,
    field,
    latest,
    not_found,
    qualified,
    registry,
    versions,
)
from orchestrator.errors import InvalidParameterValue, ResourceConflict
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.extras import FunctionExtras
from orchestrator.functions.versions import LATEST
from orchestrator.invocations.invoke import function_name, function_qualifier
from orchestrator.services.calls import name_operation

router = APIRouter()
MAX_ITEMS = 50  # ListFunctions' page when MaxItems is not given, as on Lambda


@router.post("/2015-03-31/functions", status_code=201)
@router.post("/2015-03-31/functions/", status_code=201, include_in_schema=False)
async def create_function(request: Request) -> dict[str, Any]:
    body = await body_of(request)
    name = valid_name(field(body, "FunctionName", str, required=True) or "")
    name_operation("Lambda", "CreateFunction", {"faas.invoked_name": name})
    if (body.get("PackageType") or "Zip") != "Zip":
        raise InvalidParameterValue("ripple runs .zip file archives only: PackageType Image "
                                    "is not supported")
    field(body, "Role", str, required=True)
    field(body, "Handler", str, required=True)
    code = field(body, "Code", dict, required=True) or {}
    if registry(request).get(name) is not None:
        raise ResourceConflict(f"Function already exist: {name}")
    sha256, size = store_code(request, code)
    function = configure(FunctionConfig(name=name, handler="app.handler", code_sha256=sha256,
                                        code_size=size), body)
    register(request, function)
    tags = field(body, "Tags", dict)
    if tags:
        FunctionExtras(registry(request).redis).put(name, "tags", tags)
    return _published(request, function, body)


@router.get("/2015-03-31/functions")
@router.get("/2015-03-31/functions/", include_in_schema=False)
async def list_functions(request: Request) -> dict[str, Any]:
    name_operation("Lambda", "ListFunctions", {})
    listed: list[FunctionConfig] = []
    for function in registry(request).all():  # sorted by name
        listed.append(function)
        if request.query_params.get("FunctionVersion") == "ALL":
            listed.extend(versions(request).all(function.name))
    start = _number(request, "Marker", 0, len(listed))
    limit = _number(request, "MaxItems", MAX_ITEMS, 10_000, low=1)
    page = listed[start:start + limit]
    answer: dict[str, Any] = {"Functions": [configuration(function) for function in page]}
    if start + limit < len(listed):
        answer["NextMarker"] = str(start + limit)
    return answer


@router.get("/2015-03-31/functions/{name}/configuration")
async def get_function_configuration(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "GetFunctionConfiguration", {"faas.invoked_name": function_name(name)})
    return configuration(qualified(request, name))


@router.get("/2015-03-31/functions/{name}")
async def get_function(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "GetFunction", {"faas.invoked_name": function_name(name)})
    function = qualified(request, name)
    answer: dict[str, Any] = {
        "Configuration": configuration(function),
        "Code": {"RepositoryType": "S3", "Location": ""},
        "Tags": FunctionExtras(registry(request).redis).tags(function.name),
    }
    if function.reserved_concurrency is not None:
        answer["Concurrency"] = {"ReservedConcurrentExecutions": function.reserved_concurrency}
    return answer


@router.put("/2015-03-31/functions/{name}/code")
async def update_function_code(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "UpdateFunctionCode", {"faas.invoked_name": function_name(name)})
    body = await body_of(request)
    function = latest(request, name)
    check_revision(function, body)
    sha256, size = store_code(request, body)
    architectures = field(body, "Architectures", list)
    update: dict[str, Any] = {"code_sha256": sha256, "code_size": size}
    if architectures:
        update["architecture"] = configure(function, {"Architectures": architectures}
                                           ).architecture
    function = function.model_copy(update=update)
    if not body.get("DryRun"):
        register(request, function)
    return _published(request, function, body)


@router.put("/2015-03-31/functions/{name}/configuration")
async def update_function_configuration(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "UpdateFunctionConfiguration",
                   {"faas.invoked_name": function_name(name)})
    body = await body_of(request)
    function = latest(request, name)
    check_revision(function, body)
    function = configure(function, body)
    register(request, function)
    return configuration(function)


@router.delete("/2015-03-31/functions/{name}", status_code=204)
async def delete_function(name: str, request: Request) -> Response:
    """The function with every version, alias, tag and mapping of it; with a version
    Qualifier, that version alone (unless an alias still routes to it)."""
    name_operation("Lambda", "DeleteFunction", {"faas.invoked_name": function_name(name)})
    function = latest(request, name)
    qualifier = function_qualifier(name, request.query_params.get("Qualifier"))
    if qualifier != LATEST:
        _delete_version(request, function, qualifier)
        return Response(status_code=204)
    unregister(request, function.name)
    return Response(status_code=204)


def _delete_version(request: Request, function: FunctionConfig, qualifier: str) -> None:
    store = versions(request)
    if not qualifier.isdigit():
        raise InvalidParameterValue("Deletion of aliases is not supported by DeleteFunction: "
                                    "use DeleteAlias")
    users = [alias.name for alias in store.aliases(function.name)
             if qualifier in (alias.function_version, *alias.weights)]
    if users:
        raise ResourceConflict(f"Unable to delete version because the following aliases refer "
                               f"to it: {users}")
    if not store.delete(function.name, qualifier):
        raise not_found(function.name, qualifier)


def _published(request: Request, function: FunctionConfig, body: dict[str, Any]
               ) -> dict[str, Any]:
    """The configuration to answer with: of a new version when the call asked to Publish."""
    if body.get("Publish") and not body.get("DryRun"):
        function, _ = versions(request).publish(function)
    return configuration(function)


def _number(request: Request, name: str, default: int, high: int, low: int = 0) -> int:
    """A paging parameter: Marker is the position ListFunctions handed out as NextMarker."""
    value = request.query_params.get(name)
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise InvalidParameterValue(f"{name} {value!r} is not one this listing handed out"
                                    if name == "Marker" else
                                    f"MaxItems must be between {low} and {high}, not {value}")
    return int(value)
