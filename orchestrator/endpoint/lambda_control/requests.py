"""What every Lambda control-plane route shares: the JSON body, typed fields, the function a
name or ARN names, and Lambda's errors for each."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi import Request

from orchestrator.errors import (
    InvalidParameterValue,
    InvalidRequestContent,
    ResourceNotFound,
)
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.registry import Registry
from orchestrator.functions.versions import LATEST, Versions
from orchestrator.invocations.invoke import InvokeService, function_name, function_qualifier
from orchestrator.settings import ACCOUNT_ID

T = TypeVar("T")


async def body_of(request: Request) -> dict[str, Any]:
    """The request's JSON object ({} when empty)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequestContent("Could not parse request body into json") from None
    if not isinstance(body, dict):
        raise InvalidRequestContent("Could not parse request body into json: expected an "
                                    "object")
    return body


def field(body: dict[str, Any], name: str, kind: type[T], default: T | None = None,
          required: bool = False) -> T | None:
    """`body[name]`, which must be a `kind`; missing is `default` (or an error if required)."""
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidParameterValue(f"1 validation error detected: Value null at "
                                        f"'{name[0].lower()}{name[1:]}' failed to satisfy "
                                        "constraint: Member must not be null")
        return default
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise InvalidParameterValue(f"{name} must be a {kind.__name__}, not {value!r}")
    return value


def invoke_service(request: Request) -> InvokeService:
    return request.app.state.invoke  # type: ignore[no-any-return]


def registry(request: Request) -> Registry:
    return invoke_service(request).registry


def versions(request: Request) -> Versions:
    return invoke_service(request).versions


def function_arn(name: str, qualifier: str = LATEST) -> str:
    suffix = "" if qualifier == LATEST else f":{qualifier}"
    return f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{name}{suffix}"


def not_found(name: str, qualifier: str = LATEST) -> ResourceNotFound:
    return ResourceNotFound(f"Function not found: {function_arn(name, qualifier)}")


def latest(request: Request, name_or_arn: str) -> FunctionConfig:
    """$LATEST of the function a name or ARN names (any qualifier in it is ignored)."""
    name = function_name(name_or_arn)
    function = registry(request).get(name)
    if function is None:
        raise not_found(name)
    return function


def qualified(request: Request, name_or_arn: str) -> FunctionConfig:
    """The snapshot a name, ARN and `Qualifier` parameter name together: $LATEST, a published
    version, or an alias's version (its main one: reading is not invoking)."""
    function = latest(request, name_or_arn)
    qualifier = function_qualifier(name_or_arn, request.query_params.get("Qualifier"))
    if qualifier == LATEST:
        return function
    store = versions(request)
    alias = store.alias(function.name, qualifier)
    number = alias.function_version if alias is not None else qualifier
    snapshot = function if number == LATEST else store.get(function.name, number)
    if snapshot is None:
        raise not_found(function.name, qualifier)
    return snapshot
