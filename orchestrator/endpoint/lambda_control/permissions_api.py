"""A function's resource-based policy: AddPermission, GetPolicy and RemovePermission, which
deploy scripts call so S3 or API Gateway may invoke a function. Recorded and shown back in
Lambda's policy shape, never enforced (ripple checks no permissions)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from orchestrator.endpoint.lambda_control.requests import (
    body_of,
    field,
    latest,
    registry,
)
from orchestrator.errors import ResourceConflict, ResourceNotFound
from orchestrator.functions.extras import FunctionExtras
from orchestrator.invocations.invoke import function_name
from orchestrator.services.calls import name_operation

router = APIRouter()
PATH = "/2015-03-31/functions/{name}/policy"
POLICY = "policy"


@router.post(PATH, status_code=201)
async def add_permission(name: str, request: Request) -> dict[str, str]:
    name_operation("Lambda", "AddPermission", {"faas.invoked_name": function_name(name)})
    body = await body_of(request)
    function = latest(request, name)
    statement_id = field(body, "StatementId", str, required=True) or ""
    action = field(body, "Action", str, required=True)
    principal = field(body, "Principal", str, required=True) or ""
    extras = FunctionExtras(registry(request).redis)
    statements: list[dict[str, Any]] = extras.get(function.name, POLICY) or []
    if any(statement["Sid"] == statement_id for statement in statements):
        raise ResourceConflict(f"The statement id ({statement_id}) provided already exists. "
                               "Please provide a new statement id, or remove the existing "
                               "statement.")
    statement: dict[str, Any] = {
        "Sid": statement_id, "Effect": "Allow",
        "Principal": {"Service": principal} if principal.endswith(".amazonaws.com")
        else {"AWS": principal},
        "Action": action, "Resource": function.arn,
    }
    conditions: dict[str, Any] = {}
    if body.get("SourceArn"):
        conditions["ArnLike"] = {"AWS:SourceArn": body["SourceArn"]}
    if body.get("SourceAccount"):
        conditions["StringEquals"] = {"AWS:SourceAccount": body["SourceAccount"]}
    if conditions:
        statement["Condition"] = conditions
    extras.put(function.name, POLICY, [*statements, statement])
    return {"Statement": json.dumps(statement)}


@router.get(PATH)
async def get_policy(name: str, request: Request) -> dict[str, str]:
    name_operation("Lambda", "GetPolicy", {"faas.invoked_name": function_name(name)})
    function = latest(request, name)
    statements = FunctionExtras(registry(request).redis).get(function.name, POLICY)
    if not statements:
        raise ResourceNotFound("The resource you requested does not exist.")
    policy = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
    return {"Policy": json.dumps(policy), "RevisionId": str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                        json.dumps(policy)))}


@router.delete(PATH + "/{statement_id}", status_code=204)
async def remove_permission(name: str, statement_id: str, request: Request) -> Response:
    name_operation("Lambda", "RemovePermission", {"faas.invoked_name": function_name(name)})
    function = latest(request, name)
    extras = FunctionExtras(registry(request).redis)
    statements: list[dict[str, Any]] = extras.get(function.name, POLICY) or []
    kept = [statement for statement in statements if statement["Sid"] != statement_id]
    if len(kept) == len(statements):
        raise ResourceNotFound(f"Statement {statement_id} is not found in resource policy.")
    extras.put(function.name, POLICY, kept)
    return Response(status_code=204)
