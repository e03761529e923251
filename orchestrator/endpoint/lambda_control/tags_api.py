"""Lambda's tags on functions: TagResource, UntagResource and ListTags (also shown by
GetFunction). Kept beside the configuration: tagging never restarts an environment."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from orchestrator.endpoint.lambda_control.requests import body_of, field, latest, registry
from orchestrator.errors import InvalidParameterValue
from orchestrator.functions.extras import FunctionExtras
from orchestrator.services.calls import name_operation

router = APIRouter()
MAX_TAGS = 50


@router.post("/2017-03-31/tags/{arn}", status_code=204)
async def tag_resource(arn: str, request: Request) -> Response:
    name_operation("Lambda", "TagResource", {})
    body = await body_of(request)
    function = latest(request, arn)
    given = field(body, "Tags", dict, required=True) or {}
    extras = FunctionExtras(registry(request).redis)
    tags = {**extras.tags(function.name), **{str(k): str(v) for k, v in given.items()}}
    if len(tags) > MAX_TAGS:
        raise InvalidParameterValue(f"A function holds at most {MAX_TAGS} tags")
    extras.put(function.name, "tags", tags)
    return Response(status_code=204)


@router.delete("/2017-03-31/tags/{arn}", status_code=204)
async def untag_resource(arn: str, request: Request) -> Response:
    name_operation("Lambda", "UntagResource", {})
    function = latest(request, arn)
    extras = FunctionExtras(registry(request).redis)
    doomed = set(request.query_params.getlist("tagKeys"))
    extras.put(function.name, "tags", {key: value for key, value in
                                       extras.tags(function.name).items() if key not in doomed})
    return Response(status_code=204)


@router.get("/2017-03-31/tags/{arn}")
async def list_tags(arn: str, request: Request) -> dict[str, dict[str, str]]:
    name_operation("Lambda", "ListTags", {})
    function = latest(request, arn)
    return {"Tags": FunctionExtras(registry(request).redis).tags(function.name)}
