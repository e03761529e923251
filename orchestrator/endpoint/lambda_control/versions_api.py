"""Lambda's versions and aliases: PublishVersion, ListVersionsByFunction, and
Create/Get/Update/Delete/ListAliases with weighted routing between two versions."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response

from orchestrator.endpoint.lambda_control.configuration import check_revision, configuration
from orchestrator.endpoint.lambda_control.requests import (
    body_of,
    field,
    function_arn,
    latest,
    versions,
)
from orchestrator.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
)
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.versions import LATEST, Alias
from orchestrator.invocations.invoke import function_name
from orchestrator.services.calls import name_operation

router = APIRouter()
ALIAS_NAME = re.compile(r"(?!^[0-9]+$)([a-zA-Z0-9-_]{1,128})")


@router.post("/2015-03-31/functions/{name}/versions", status_code=201)
async def publish_version(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "PublishVersion", {"faas.invoked_name": function_name(name)})
    body = await body_of(request)
    function = latest(request, name)
    check_revision(function, body)
    wanted = field(body, "CodeSha256", str)
    if wanted and wanted != configuration(function)["CodeSha256"]:
        raise InvalidParameterValue(f"CodeSHA256 ({wanted}) is different from current "
                                    f"CodeSHA256 in $LATEST "
                                    f"({configuration(function)['CodeSha256']}). Please try "
                                    "again with the CodeSHA256 in $LATEST.")
    snapshot, _ = versions(request).publish(function, field(body, "Description", str) or "")
    return configuration(snapshot)


@router.get("/2015-03-31/functions/{name}/versions")
async def list_versions(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "ListVersionsByFunction", {"faas.invoked_name": function_name(name)})
    function = latest(request, name)
    listed = [function, *versions(request).all(function.name)]
    return {"Versions": [configuration(each) for each in listed]}


@router.post("/2015-03-31/functions/{name}/aliases", status_code=201)
async def create_alias(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "CreateAlias", {"faas.invoked_name": function_name(name)})
    body = await body_of(request)
    function = latest(request, name)
    alias_name = field(body, "Name", str, required=True) or ""
    if not ALIAS_NAME.fullmatch(alias_name):
        raise InvalidParameterValue(f"1 validation error detected: Value '{alias_name}' at "
                                    "'name' failed to satisfy constraint: Member must satisfy "
                                    "regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")
    if versions(request).alias(function.name, alias_name) is not None:
        raise ResourceConflict(f"Alias already exists: "
                               f"{function_arn(function.name, alias_name)}")
    alias = Alias(name=alias_name,
                  function_version=_version(request, function,
                                            field(body, "FunctionVersion", str, required=True)),
                  description=field(body, "Description", str) or "",
                  weights=_weights(request, function, body))
    versions(request).put_alias(function.name, alias)
    return _alias_shape(function, alias)


@router.get("/2015-03-31/functions/{name}/aliases")
async def list_aliases(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "ListAliases", {"faas.invoked_name": function_name(name)})
    function = latest(request, name)
    wanted = request.query_params.get("FunctionVersion")
    aliases = [alias for alias in versions(request).aliases(function.name)
               if not wanted or alias.function_version == wanted]
    return {"Aliases": [_alias_shape(function, alias) for alias in aliases]}


@router.get("/2015-03-31/functions/{name}/aliases/{alias_name}")
async def get_alias(name: str, alias_name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "GetAlias", {"faas.invoked_name": function_name(name)})
    function = latest(request, name)
    return _alias_shape(function, _alias(request, function, alias_name))


@router.put("/2015-03-31/functions/{name}/aliases/{alias_name}")
async def update_alias(name: str, alias_name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "UpdateAlias", {"faas.invoked_name": function_name(name)})
    body = await body_of(request)
    function = latest(request, name)
    alias = _alias(request, function, alias_name)
    wanted = field(body, "RevisionId", str)
    if wanted and wanted != alias.revision:
        raise PreconditionFailed("The Revision Id provided does not match the latest Revision "
                                 "Id. Call the GetFunction/GetAlias API to retrieve the latest "
                                 "Revision Id")
    version = field(body, "FunctionVersion", str)
    if version is not None:
        alias.function_version = _version(request, function, version)
    description = field(body, "Description", str)
    if description is not None:
        alias.description = description
    if "RoutingConfig" in body:
        alias.weights = _weights(request, function, body)
    versions(request).put_alias(function.name, alias)
    return _alias_shape(function, alias)


@router.delete("/2015-03-31/functions/{name}/aliases/{alias_name}", status_code=204)
async def delete_alias(name: str, alias_name: str, request: Request) -> Response:
    name_operation("Lambda", "DeleteAlias", {"faas.invoked_name": function_name(name)})
    function = latest(request, name)
    versions(request).delete_alias(function.name, alias_name)  # a missing alias is no error
    return Response(status_code=204)


def _alias(request: Request, function: FunctionConfig, alias_name: str) -> Alias:
    alias = versions(request).alias(function.name, alias_name)
    if alias is None:
        raise ResourceNotFound(f"Alias not found: {function_arn(function.name, alias_name)}")
    return alias


def _version(request: Request, function: FunctionConfig, version: str | None) -> str:
    """A version an alias may name: $LATEST or a published one."""
    if version == LATEST:
        return version
    if not version or versions(request).get(function.name, version) is None:
        raise ResourceNotFound(f"Function not found: {function_arn(function.name, str(version))}")
    return version


def _weights(request: Request, function: FunctionConfig, body: dict[str, Any]
             ) -> dict[str, float]:
    """RoutingConfig.AdditionalVersionWeights: one more published version and its share."""
    routing = field(body, "RoutingConfig", dict) or {}
    weights = routing.get("AdditionalVersionWeights") or {}
    if not isinstance(weights, dict) or len(weights) > 1:
        raise InvalidParameterValue("RoutingConfig.AdditionalVersionWeights may name one "
                                    "additional version")
    checked = {}
    for version, weight in weights.items():
        if not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
            raise InvalidParameterValue(f"Invalid weight for version {version}: {weight}; a "
                                        "weight is between 0.0 and 1.0")
        if version == LATEST:
            raise InvalidParameterValue("$LATEST is not supported for an alias pointing to "
                                        "more than 1 version")
        checked[_version(request, function, version)] = float(weight)
    main = field(body, "FunctionVersion", str)
    if checked and main in checked:
        raise InvalidParameterValue("The additional version must differ from the alias's "
                                    "FunctionVersion")
    return checked


def _alias_shape(function: FunctionConfig, alias: Alias) -> dict[str, Any]:
    """Lambda's AliasConfiguration."""
    answer: dict[str, Any] = {
        "AliasArn": function_arn(function.name, alias.name), "Name": alias.name,
        "FunctionVersion": alias.function_version, "Description": alias.description,
        "RevisionId": alias.revision,
    }
    if alias.weights:
        answer["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.weights)}
    return answer
