"""Lambda's Invoke REST API (POST /2015-03-31/functions/{name}/invocations) and the read side
of its control plane: GetFunction, GetFunctionConfiguration, ListFunctions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from orchestrator.errors import ResourceNotFound
from orchestrator.functions.config import FunctionConfig
from orchestrator.invocations.invoke import InvokeService, function_name, function_qualifier
from orchestrator.services.calls import name_operation
from orchestrator.settings import ACCOUNT_ID

router = APIRouter()


@router.post("/2015-03-31/functions/{name}/invocations")
async def invoke(name: str, request: Request) -> Response:
    service: InvokeService = request.app.state.invoke
    name_operation("Lambda", "Invoke", {"faas.invoked_name": function_name(name)})
    headers = request.headers
    result = await service.invoke(
        name,
        await request.body(),
        invocation_type=headers.get("x-amz-invocation-type", "RequestResponse"),
        tail_log=headers.get("x-amz-log-type", "None") == "Tail",
        client_context=headers.get("x-amz-client-context", ""),
        qualifier=request.query_params.get("Qualifier"),
    )
    answer = {"x-amzn-RequestId": result.request_id, "X-Amz-Executed-Version": "$LATEST"}
    if result.function_error:
        answer["X-Amz-Function-Error"] = result.function_error
    if result.log_tail:
        answer["X-Amz-Log-Result"] = result.log_tail
    return Response(result.payload, status_code=result.status, headers=answer,
                    media_type="application/json")


@router.get("/2015-03-31/functions")
@router.get("/2015-03-31/functions/", include_in_schema=False)
async def list_functions(request: Request) -> dict[str, Any]:
    service: InvokeService = request.app.state.invoke
    name_operation("Lambda", "ListFunctions", {})
    functions = sorted(service.registry.all(), key=lambda function: function.name)
    return {"Functions": [_configuration(function) for function in functions]}


@router.get("/2015-03-31/functions/{name}/configuration")
async def get_function_configuration(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "GetFunctionConfiguration", {"faas.invoked_name": function_name(name)})
    return _configuration(_function(request, name))


@router.get("/2015-03-31/functions/{name}")
async def get_function(name: str, request: Request) -> dict[str, Any]:
    name_operation("Lambda", "GetFunction", {"faas.invoked_name": function_name(name)})
    function = _function(request, name)
    return {"Configuration": _configuration(function),
            "Code": {"RepositoryType": "S3", "Location": ""}, "Tags": {}}


def _function(request: Request, name: str) -> FunctionConfig:
    """The function named (by name or ARN); only $LATEST exists, so another qualifier is not
    found, as on Lambda."""
    service: InvokeService = request.app.state.invoke
    function = service.registry.get(function_name(name))
    qualifier = function_qualifier(name, request.query_params.get("Qualifier"))
    if function is None or qualifier != "$LATEST":
        suffix = "" if qualifier == "$LATEST" else f":{qualifier}"
        raise ResourceNotFound(f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT_ID}:"
                               f"function:{function_name(name)}{suffix}")
    return function


def _configuration(function: FunctionConfig) -> dict[str, Any]:
    """GetFunctionConfiguration's shape; a deployed function is ready at once, so the
    function-active and function-updated waiters pass."""
    return {**function.to_lambda(), "LastUpdateStatus": "Successful"}
